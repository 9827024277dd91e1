/** How an audit event's action, outcome and counts read in the UI. */
import { AuditAction, AuditOutcome, type AuditCounts, type AuditEvent } from "../../../gen/dataexchange/audit/v1/audit_pb.js";

export const ACTION_TEXT: Record<AuditAction, string> = {
  [AuditAction.UNSPECIFIED]: "?",
  [AuditAction.EXPORT]: "export",
  [AuditAction.IMPORT]: "import",
  [AuditAction.PUT]: "put",
  [AuditAction.DELETE]: "delete",
  [AuditAction.WRITE]: "write",
  [AuditAction.REVERT]: "revert",
};

/** The same words as job states, so the same badge colours. */
export const OUTCOME_TEXT: Record<AuditOutcome, string> = {
  [AuditOutcome.UNSPECIFIED]: "unknown",
  [AuditOutcome.SUCCEEDED]: "succeeded",
  [AuditOutcome.FAILED]: "failed",
  [AuditOutcome.CANCELLED]: "cancelled",
};

/** Each count's word, in the order they read best. */
const COUNT_WORDS: readonly [keyof Omit<AuditCounts, "$typeName" | "$unknown">, string][] = [
  ["exported", "exported"],
  ["read", "read"],
  ["inserted", "new"],
  ["updated", "updated"],
  ["unchanged", "unchanged"],
  ["skipped", "skipped"],
  ["failed", "failed"],
  ["restored", "restored"],
  ["deleted", "deleted"],
  ["refused", "refused"],
  ["batches", "batches"],
];

/** The counts that are not zero, in a few words; an export always says how many it exported (even none). */
export function auditCountsText(event: AuditEvent): string {
  const c = event.counts;
  if (!c) return "";
  const parts = COUNT_WORDS.filter(([key]) => c[key] > 0n).map(([key, word]) => `${c[key]} ${word}`);
  if (event.action === AuditAction.EXPORT && c.exported === 0n) parts.unshift("0 exported");
  return parts.join(", ");
}

/** The action, and "(dry run)" for a dry-run import. */
export function actionText(event: AuditEvent): string {
  return `${ACTION_TEXT[event.action] ?? "?"}${event.dryRun ? " (dry run)" : ""}`;
}
