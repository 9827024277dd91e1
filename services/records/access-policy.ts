/**
 * Who may do what in the records service: THE one place. Roles grant
 * operations on entities; the `pii` permission unlocks personal fields.
 * The interceptor applies the method rules below to every request message;
 * the service applies the personal-data rules to what it reads and returns.
 *
 * | role     | read | count | describe | write | validate (dry run) | delete | revert | audit trail | pii |
 * |----------|------|-------|----------|-------|--------------------|--------|--------|-------------|-----|
 * | admin    | all  | all   | all      | all   | all                | all    | all    | yes         |  –  |
 * | importer |      |       | all      | all   | all                |        | all    |             |  –  |
 * | exporter | all  | all   | all      |       |                    |        |        |             |  –  |
 * | auditor  |      |       |          |       |                    |        |        | yes         |  –  |
 * | pii      |      |       |          |       |                    |        |        |             | yes |
 * | service  | all  | all   | all      | all   | all                |        | all    |             | yes |
 *
 * `revert` (RevertWrites) undoes a transfer job's writes, deletions of the
 * records it inserted included: an importer may undo an import without
 * holding `delete`, which a general DeleteRecord needs.
 *
 * `service` is a ceiling, not a grant: the transfer service acts for a
 * forwarded user and gets the intersection; alone it may only describe.
 */
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { ENTITIES, type EntityName, type EntitySpec } from "../domain/index.js";
import {
  RecordsService,
  type CountRecordsRequest,
  type DeleteRecordRequest,
  type DescribeEntityRequest,
  type GetRecordRequest,
  type PutRecordRequest,
  type RevertWritesRequest,
  type StreamDeletionsRequest,
  type StreamRecordsRequest,
  type WriteRecordsRequest,
} from "../../gen/dataexchange/records/v1/records_pb.js";
import { entityName } from "../shared/records-wire/record-codec.js";
import { principalOf, type AccessPolicy, type CallRule, type Principal } from "../shared/auth/index.js";
import { forwardedJobId, JOB_ID_HEADER } from "../shared/audit/index.js";
import { JOIN_FIELDS, type SessionJoin } from "./store/session-joins.js";

export const OPERATIONS = ["read", "count", "describe", "write", "validate", "delete", "revert"] as const;
export type Operation = (typeof OPERATIONS)[number];

/** The permission that unlocks personal fields (emails, names). */
export const PII = "pii";

/** The permission to read the audit trail of writes (ListAuditEvents). */
export const AUDIT_READ = "audit:read";

const ALL_ENTITIES = Object.keys(ENTITIES) as EntityName[];

/** `read:users`, `write:courses`, … */
export function permission(operation: Operation, entity: EntityName): string {
  return `${operation}:${entity}`;
}

function grant(operations: readonly Operation[], entities: readonly EntityName[] = ALL_ENTITIES): string[] {
  return operations.flatMap((op) => entities.map((e) => permission(op, e)));
}

/** The role table (see the module comment and services/shared/auth/README.md). */
export const RECORDS_ACCESS_POLICY: AccessPolicy = {
  roles: {
    admin: [...grant(OPERATIONS), AUDIT_READ],
    importer: grant(["describe", "write", "validate", "revert"]),
    exporter: grant(["read", "count", "describe"]),
    // The auditor reads the audit trails (here: of writes) and jobs; it has no rights on records.
    auditor: [AUDIT_READ],
    pii: [PII],
    service: [...grant(["read", "count", "describe", "write", "validate", "revert"]), PII],
  },
  serviceRole: "service",
  serviceAlone: grant(["describe"]),
};

/** Roles that grant a permission, for denial messages that say what would help. */
function rolesGranting(perm: string): string[] {
  return Object.entries(RECORDS_ACCESS_POLICY.roles)
    .filter(([role, perms]) => role !== "service" && perms.includes(perm))
    .map(([role]) => role);
}

function deny(principal: Principal, operation: Operation, entity: EntityName | undefined): string {
  const what = entity ? `${operation} on ${entity}` : `${operation} on any entity`;
  const needs = rolesGranting(permission(operation, entity ?? "users"));
  const who = principal.onBehalfOf
    ? `${principal.subject} acting for ${principal.onBehalfOf.subject} (roles ${principal.onBehalfOf.roles.join(", ") || "none"})`
    : `${principal.subject} (roles ${principal.roles.join(", ") || "none"})`;
  return `${what} needs one of the roles ${needs.join(", ")}; ${who} may not`;
}

/** Allowed when the principal holds the operation on the entity; an unset entity needs it on some entity (the handler then refuses the request as invalid). */
function needs(operation: Operation, entityOf: (message: never) => number, dryRunOf?: (message: never) => boolean): CallRule {
  return (message, principal) => {
    const entity = entityName(entityOf(message as never));
    const ops: Operation[] = dryRunOf?.(message as never) ? ["validate", "write"] : [operation];
    const candidates = entity ? [entity] : ALL_ENTITIES;
    const ok = ops.some((op) => candidates.some((e) => principal.permissions.has(permission(op, e))));
    return ok ? undefined : deny(principal, ops[0]!, entity);
  };
}

const path = (method: keyof typeof RecordsService.method) => `${RecordsService.typeName}/${RecordsService.method[method].name}`;

/** One rule per records RPC; an RPC missing here is denied to everyone. */
export const RECORDS_METHOD_RULES: Readonly<Record<string, CallRule>> = {
  [path("streamRecords")]: needs("read", (m: StreamRecordsRequest) => m.entity),
  [path("streamDeletions")]: needs("read", (m: StreamDeletionsRequest) => m.entity),
  [path("getRecord")]: needs("read", (m: GetRecordRequest) => m.entity),
  [path("countRecords")]: needs("count", (m: CountRecordsRequest) => m.entity),
  [path("describeEntity")]: needs("describe", (m: DescribeEntityRequest) => m.entity),
  [path("writeRecords")]: needs(
    "write",
    (m: WriteRecordsRequest) => m.entity,
    (m: WriteRecordsRequest) => m.dryRun,
  ),
  [path("putRecord")]: needs(
    "write",
    (m: PutRecordRequest) => m.entity,
    (m: PutRecordRequest) => m.dryRun,
  ),
  [path("deleteRecord")]: needs("delete", (m: DeleteRecordRequest) => m.entity),
  [path("revertWrites")]: needs("revert", (m: RevertWritesRequest) => m.entity),
  [path("listAuditEvents")]: (_message: unknown, principal) =>
    principal.permissions.has(AUDIT_READ) ? undefined : `reading the audit trail needs one of the roles auditor, admin; ${principal.subject} (roles ${principal.roles.join(", ") || "none"}) may not`,
};

/**
 * The transfer job a WriteRecords call writes for, whose writes are then
 * remembered for RevertWrites: named in the x-dx-job-id header, and believed
 * only from a service acting for a user (`forwardedJobId`), so no end user can
 * slip their writes into another's job — or from anyone on a server without
 * auth, where every call is allowed anyway (tests, embedding).
 */
export function writingJobId(context: Pick<HandlerContext, "values" | "requestHeader"> | undefined): string | undefined {
  const principal = context?.values ? principalOf(context) : undefined;
  if (principal) return forwardedJobId(principal, context?.requestHeader);
  const jobId = context?.requestHeader?.get(JOB_ID_HEADER)?.trim();
  return jobId && /^[\x21-\x7e]{1,128}$/.test(jobId) ? jobId : undefined;
}

/**
 * Field-level access for one call. Without a principal (a server built
 * without auth) personal data is visible, as it was before auth existed.
 */
export class PersonalDataAccess {
  private constructor(readonly allowed: boolean) {}

  static of(context: Pick<HandlerContext, "values"> | undefined): PersonalDataAccess {
    // A hand-made context (tier-1 tests call the class directly) may have no values.
    const principal = context?.values ? principalOf(context) : undefined;
    return new PersonalDataAccess(!principal || principal.permissions.has(PII));
  }

  /**
   * Refuses a request that names personal fields explicitly: selected
   * fields, joins that produce them, sorting on them, or looking records up
   * by a personal natural key (users are keyed by email, so a lookup is a
   * question about an email address).
   */
  check(spec: EntitySpec, request: { fields?: readonly string[]; joins?: readonly SessionJoin[]; sort?: readonly { field: string }[]; byKey?: boolean }): void {
    if (this.allowed) return;
    const personal = personalFields(spec);
    const named = [...(request.fields ?? []), ...(request.joins ?? []).flatMap((j) => JOIN_FIELDS[j]), ...(request.sort ?? []).map((s) => s.field), ...(request.byKey ? spec.keyFields : [])].filter(
      (f) => personal.has(f),
    );
    if (named.length === 0) return;
    const fields = [...new Set(named)].join(", ");
    throw new ConnectError(`permission denied: ${fields} ${named.length === 1 ? "is" : "are"} personal data of ${spec.name} and need the "${PII}" permission`, Code.PermissionDenied);
  }

  /** The fields {@link filter} takes out of a record: none when personal data is allowed. */
  hiddenFields(spec: EntitySpec): ReadonlySet<string> {
    return this.allowed ? NOTHING_HIDDEN : personalFields(spec);
  }

  /** The record without its personal fields, unless they are allowed. */
  filter(spec: EntitySpec, record: Record<string, unknown>): Record<string, unknown> {
    if (this.allowed) return record;
    const personal = personalFields(spec);
    for (const key of Object.keys(record)) if (personal.has(key)) delete record[key];
    return record;
  }
}

const NOTHING_HIDDEN: ReadonlySet<string> = new Set();

const personalCache = new Map<EntityName, Set<string>>();

/** The keys of an entity's fields flagged `personal: true`. */
export function personalFields(spec: EntitySpec): Set<string> {
  let set = personalCache.get(spec.name);
  if (!set) {
    set = new Set(spec.fields.filter((f) => f.personal).map((f) => f.key));
    personalCache.set(spec.name, set);
  }
  return set;
}
