/**
 * The audit trail both services keep (see audit-log.ts): event shape, the
 * append-only log over `audit_events`, and the wire codec.
 */
export {
  ANONYMOUS_SUBJECT,
  AUDIT_ACTIONS,
  CLIENT_ADDRESS,
  JOB_ID_HEADER,
  forwardedJobId,
  statusCodeName,
  activeTraceId,
  clientAddressValues,
  auditCallInfo,
  auditIdentity,
  peerAddressOf,
  withoutPersonalData,
  type AuditAction,
  type AuditCallInfo,
  type AuditCounts,
  type AuditEventDocument,
  type AuditIdentity,
  type AuditOutcome,
  type AuditService,
  type NewAuditEvent,
} from "./audit-event.js";
export { AUDIT_COLLECTION, AuditLog, DEFAULT_AUDIT_PAGE_SIZE, InvalidAuditPageTokenError, MAX_AUDIT_PAGE_SIZE, type AuditQuery } from "./audit-log.js";
export { InvalidAuditFilterError, auditEntity, auditFilterOfJson, auditEventMessage, auditQueryJson, auditQueryOf, plainAuditAction } from "./audit-codec.js";
