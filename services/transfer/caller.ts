/**
 * Who a transfer call is for: the job's subject, the verified principal (when
 * the server authenticates), and what the audit trail records about the call
 * (identity, client address, trace id). Built once per RPC or HTTP request,
 * handed to the jobs, and bound to every records call they make, so that the
 * records service sees the same user.
 */
import type { HandlerContext } from "@connectrpc/connect";
import type { IncomingMessage } from "node:http";
import { actingSubject, principalOf, type Principal } from "../shared/auth/index.js";
import { activeTraceId, auditIdentity, CLIENT_ADDRESS, peerAddressOf, type AuditCallInfo } from "../shared/audit/index.js";
import type { RecordsClient } from "./records/records-client.js";
import { callerValues } from "./records/service-credential.js";
import { ANONYMOUS, SUBJECT } from "./subject.js";

export interface Caller {
  /** The subject jobs record: the verified principal's, else the test resolver's, else anonymous. */
  subject: string;
  /** Undefined on a server built without authentication. */
  principal?: Principal;
  /** Identity, client address and trace id, for audit events. */
  audit: AuditCallInfo;
}

function build(principal: Principal | undefined, fallbackSubject: string, clientAddress: string | undefined): Caller {
  const subject = principal ? actingSubject(principal) : fallbackSubject;
  const audit: AuditCallInfo = auditIdentity(principal, subject);
  if (clientAddress) audit.clientAddress = clientAddress;
  const traceId = activeTraceId();
  if (traceId) audit.traceId = traceId;
  return { subject, principal, audit };
}

/** The caller of an RPC; call it at the start of the handler (the active span is the call's there). */
export function callerOf(context: Pick<HandlerContext, "values">): Caller {
  return build(principalOf(context), context.values.get(SUBJECT), context.values.get(CLIENT_ADDRESS));
}

/** The caller of a plain HTTP request. */
export function httpCallerOf(req: IncomingMessage, principal: Principal | undefined, fallbackSubject = ANONYMOUS): Caller {
  return build(principal, fallbackSubject, peerAddressOf(req));
}

/**
 * The records client, with every call made for `caller` (and job `jobId`):
 * the service-credential interceptor reads both from the call's context
 * values and forwards them.
 */
export function recordsFor(records: RecordsClient, caller: Caller, jobId?: string): RecordsClient {
  if (!caller.principal && !jobId) return records;
  return new Proxy(records, {
    get(target, property, receiver) {
      const method: unknown = Reflect.get(target, property, receiver);
      if (typeof method !== "function") return method;
      return (input: unknown, options?: Record<string, unknown>) => (method as (i: unknown, o: unknown) => unknown).call(target, input, { ...options, contextValues: callerValues(caller.principal, jobId) });
    },
  });
}
