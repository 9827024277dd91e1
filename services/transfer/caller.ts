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
