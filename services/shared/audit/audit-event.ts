/**
 * What one audit event is, as both services store it in their own
 * `audit_events` collection, and how the parts every event needs (who, from
 * where, in which trace) are taken from a call.
 *
 * An event records the action and its parameters (entity, format, filter,
 * fields, mode, counts, outcome), never the records themselves: no field
 * value of a record, and so never a password, reaches the audit trail. The
 * only record data an event can hold is a natural key (put and delete), and
 * that is withheld from readers without `pii` when it is personal (users are
 * keyed by email): see {@link withoutPersonalData}.
 */
import { isSpanContextValid, trace } from "@opentelemetry/api";
import { createContextKey, createContextValues, type ContextValues, type HandlerContext } from "@connectrpc/connect";
import { ENTITIES, type EntityName } from "../../domain/index.js";
import type { Principal } from "../auth/index.js";

export const AUDIT_ACTIONS = ["export", "import", "put", "delete", "write", "revert"] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
export type AuditOutcome = "succeeded" | "failed" | "cancelled";
export type AuditService = "transfer" | "records";

export interface AuditCounts {
  read?: number;
  inserted?: number;
  updated?: number;
  unchanged?: number;
  skipped?: number;
  failed?: number;
  exported?: number;
  deleted?: number;
  batches?: number;
  restored?: number;
  refused?: number;
}

/** Who did it, as the audit trail names them. */
export interface AuditIdentity {
  /** The authenticated caller (token `sub`), or `anonymous` without authentication. */
  subject: string;
  /** The end user a service acted for. */
  onBehalfOf?: string;
  /** The roles that counted: the forwarded user's when a service acted for one, else the caller's. */
  roles: string[];
}

/** The context of the call an event is about. */
export interface AuditCallInfo extends AuditIdentity {
  clientAddress?: string;
  traceId?: string;
}

export interface AuditEventDocument extends AuditCallInfo {
  _id: string;
  time: Date;
  service: AuditService;
  action: AuditAction;
  entity?: EntityName;
  /** A bundle job's event (it has no one entity): the entities of its parts, so that a look-up by entity finds it. */
  entities?: EntityName[];
  format?: string;
  /** Export: the records filter as protobuf JSON text, or the audit filter of an audit export. */
  filter?: string;
  fields?: string[];
  mode?: string;
  dryRun?: boolean;
  recordKey?: string[];
  counts: AuditCounts;
  outcome: AuditOutcome;
  error?: string;
  errorCode?: string;
  jobId?: string;
  /** Export: `records` or `audit`. */
  source?: "records" | "audit" | "deletions";
}

/** What a caller hands to `AuditLog.append`: the log adds the id, time and service. */
export type NewAuditEvent = Omit<AuditEventDocument, "_id" | "time" | "service">;

/** The subject recorded when a server runs without authentication. */
export const ANONYMOUS_SUBJECT = "anonymous";

/** The network address of a call, in HandlerContext.values (set by the server from the socket). */
export const CLIENT_ADDRESS = createContextKey<string | undefined>(undefined, { description: "the caller's network address" });

/**
 * The peer address of a Node request. Forwarding headers (X-Forwarded-For)
 * are not read: any client can send them, and an audit trail must not
 * believe them.
 */
export function peerAddressOf(req: { socket?: { remoteAddress?: string } | null }): string | undefined {
  try {
    return req.socket?.remoteAddress ?? undefined;
  } catch {
    // An HTTP/2 request's socket proxy throws once the stream is gone.
    return undefined;
  }
}

/** The id of the active OpenTelemetry trace, when the call is traced. */
export function activeTraceId(): string | undefined {
  const context = trace.getActiveSpan()?.spanContext();
  return context && isSpanContextValid(context) ? context.traceId : undefined;
}

/** Who a principal is, for the audit trail; anonymous on a server without authentication. */
export function auditIdentity(principal: Principal | undefined, fallbackSubject = ANONYMOUS_SUBJECT): AuditIdentity {
  if (!principal) return { subject: fallbackSubject, roles: [] };
  if (principal.onBehalfOf) return { subject: principal.subject, onBehalfOf: principal.onBehalfOf.subject, roles: [...principal.onBehalfOf.roles] };
  return { subject: principal.subject, roles: [...principal.roles] };
}

/**
 * The identity, address and trace of an RPC. Call it at the start of the
 * handler: the active span is the call's only there.
 */
export function auditCallInfo(context: Pick<HandlerContext, "values"> | undefined, principal: Principal | undefined, fallbackSubject?: string): AuditCallInfo {
  const info: AuditCallInfo = auditIdentity(principal, fallbackSubject);
  const address = context?.values ? context.values.get(CLIENT_ADDRESS) : undefined;
  if (address) info.clientAddress = address;
  const traceId = activeTraceId();
  if (traceId) info.traceId = traceId;
  return info;
}

const personalKeys = new Map<string, boolean>();

/** True when an entity's natural key is personal data (users: the email). */
function keyIsPersonal(entity: EntityName | undefined): boolean {
  if (!entity) return false;
  let personal = personalKeys.get(entity);
  if (personal === undefined) {
    const spec = ENTITIES[entity];
    personal = spec ? spec.fields.some((f) => f.personal && spec.keyFields.includes(f.key)) : false;
    personalKeys.set(entity, personal);
  }
  return personal;
}

/**
 * The event as a reader without the `pii` permission may see it: a personal
 * natural key (a user's email) is withheld, from `recordKey` and from the
 * `keys` of an export filter.
 */
export function withoutPersonalData(event: AuditEventDocument): AuditEventDocument {
  if (!event.entity && event.filter?.startsWith('{"bundle":')) return withoutPersonalBundleKeys(event);
  if (!keyIsPersonal(event.entity)) return event;
  const copy: AuditEventDocument = { ...event };
  if (copy.recordKey) copy.recordKey = copy.recordKey.map(() => "(personal data withheld)");
  if (copy.filter) {
    try {
      const filter = JSON.parse(copy.filter) as Record<string, unknown>;
      if ("keys" in filter) {
        filter.keys = "(personal data withheld)";
        copy.filter = JSON.stringify(filter);
      }
    } catch {
      delete copy.filter;
    }
  }
  return copy;
}

/**
 * A bundle export's event (no entity; its filter `{"bundle": [{entity,
 * filter}, …]}`): each part's keys withheld by its own entity's rule.
 */
function withoutPersonalBundleKeys(event: AuditEventDocument): AuditEventDocument {
  try {
    const filter = JSON.parse(event.filter!) as { bundle: { entity?: EntityName; filter?: Record<string, unknown> }[] };
    for (const part of filter.bundle) if (part.filter && "keys" in part.filter && keyIsPersonal(part.entity)) part.filter.keys = "(personal data withheld)";
    return { ...event, filter: JSON.stringify(filter) };
  } catch {
    const { filter: _withheld, ...rest } = event;
    return rest;
  }
}

/** Header by which the transfer service names the job a records call belongs to (believed from services only). */
export const JOB_ID_HEADER = "x-dx-job-id";

/**
 * The job a call belongs to, as its caller says in {@link JOB_ID_HEADER}:
 * believed only from a service acting on behalf of a user (like the user it
 * forwards), and only when it looks like an id (printable, ≤ 128 characters).
 */
export function forwardedJobId(principal: Principal | undefined, headers: Headers | undefined): string | undefined {
  if (!principal?.onBehalfOf) return undefined;
  const jobId = headers?.get(JOB_ID_HEADER)?.trim();
  return jobId && /^[\x21-\x7e]{1,128}$/.test(jobId) ? jobId : undefined;
}

/** `permission_denied`, `invalid_argument`, …: a status code's name as stored on events and jobs. */
export function statusCodeName(code: number, names: Record<number, string>): string {
  return (names[code] ?? "unknown").replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

/** Context values holding a request's peer address: for `startRpcServer({ contextValues })`. */
export function clientAddressValues(req: { socket?: { remoteAddress?: string } | null }): ContextValues {
  const values = createContextValues();
  const address = peerAddressOf(req);
  if (address) values.set(CLIENT_ADDRESS, address);
  return values;
}
