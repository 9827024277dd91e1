/**
 * The audit page's filter as plain data, and the ListAuditEventsRequest it
 * makes: the fields of AuditEventFilter (who, action, entity, a range of
 * days), each one a control on the page.
 */
import { create } from "@bufbuild/protobuf";
import { AuditAction, AuditEventFilterSchema } from "../../../gen/dataexchange/audit/v1/audit_pb.js";
import { ListAuditEventsRequestSchema, type ListAuditEventsRequest } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { dateRangeProblem, endOfDay, startOfDay } from "../ui/date-range.js";

export const AUDIT_PAGE_SIZE = 50;

export interface AuditFilterForm {
  /** The caller, or the user a service acted for; empty for anyone. */
  subject: string;
  action: AuditAction;
  /** An entity name (users, courses, …), empty for any. */
  entity: string;
  /** On or after this day (yyyy-mm-dd), and on or before `to`; either may be empty. */
  from: string;
  to: string;
}

/** The actions the transfer service's trail holds (put, delete and write are the records service's own). */
export const TRANSFER_AUDIT_ACTIONS = [AuditAction.EXPORT, AuditAction.IMPORT, AuditAction.REVERT] as const;

export function initialAuditFilter(): AuditFilterForm {
  return { subject: "", action: AuditAction.UNSPECIFIED, entity: "", from: "", to: "" };
}

export function isAuditFiltered(form: AuditFilterForm): boolean {
  return Boolean(form.subject.trim() || form.action || form.entity || form.from || form.to);
}

/** Problems by control name; empty when the filter can be sent. */
export function auditFilterProblems(form: AuditFilterForm): Record<string, string> {
  const to = dateRangeProblem(form.from, form.to);
  return to ? { to } : {};
}

export function auditRequestOf(form: AuditFilterForm, pageToken = ""): ListAuditEventsRequest {
  return create(ListAuditEventsRequestSchema, {
    filter: create(AuditEventFilterSchema, {
      subject: form.subject.trim(),
      action: form.action,
      entity: form.entity,
      from: startOfDay(form.from),
      to: endOfDay(form.to),
    }),
    pageSize: AUDIT_PAGE_SIZE,
    pageToken,
  });
}
