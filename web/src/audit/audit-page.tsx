/**
 * The audit trail for auditors and admins: who exported and imported what,
 * when, with which outcome (ListAuditEvents), newest first, filtered by the
 * fields of AuditEventFilter and read page by page. Others are told which
 * roles would show it; the service refuses them anyway.
 */
import { useCallback, useMemo, useState } from "react";
import { AuditAction, type AuditEvent } from "../../../gen/dataexchange/audit/v1/audit_pb.js";
import { useApp } from "../app-context.js";
import { ENTITIES } from "../export/export-form.js";
import { entityText } from "../jobs/job-text.js";
import { NotAllowed } from "../ui/not-allowed.js";
import { useDebounced } from "../ui/use-debounced.js";
import { PagedListing } from "../ui/paged-listing.js";
import { usePagedList, type Page } from "../ui/use-paged-list.js";
import { auditFilterProblems, auditRequestOf, initialAuditFilter, isAuditFiltered, TRANSFER_AUDIT_ACTIONS, type AuditFilterForm } from "./audit-filter.js";
import { AuditEventsTable } from "./audit-events-table.js";
import { ACTION_TEXT } from "./audit-text.js";
import { DateRangeInputs } from "../ui/date-range-inputs.js";

/** Typing in the "Who" box asks once the typing pauses. */
const FILTER_DELAY_MS = 300;

export function AuditPage() {
  const { capabilities } = useApp();
  if (!capabilities.audit) return <NotAllowed title="Audit trail" action="Reading the audit trail" roles={["auditor", "admin"]} />;
  return <AuditTrail />;
}

function AuditTrail() {
  const { client } = useApp();
  const [form, setForm] = useState<AuditFilterForm>(initialAuditFilter);
  const update = (patch: Partial<AuditFilterForm>) => setForm((f) => ({ ...f, ...patch }));
  const asked = useDebounced(form, FILTER_DELAY_MS);
  const problems = auditFilterProblems(form);
  const askedKey = JSON.stringify(asked);
  const fetchPage = useCallback(
    async (pageToken: string): Promise<Page<AuditEvent>> => {
      const page = await client.listAuditEvents(auditRequestOf(JSON.parse(askedKey) as AuditFilterForm, pageToken));
      return { items: page.events, nextPageToken: page.nextPageToken };
    },
    [client, askedKey],
  );
  const valid = useMemo(() => Object.keys(auditFilterProblems(JSON.parse(askedKey) as AuditFilterForm)).length === 0, [askedKey]);
  const list = usePagedList(fetchPage, valid);

  return (
    <section className="audit-page">
      <div className="title-row">
        <h1>Audit trail</h1>
        <span className="muted">exports, imports and undos, newest first</span>
        <button type="button" className="secondary" onClick={list.reload}>
          Refresh
        </button>
      </div>
      <form className="row filters-row" aria-label="Audit filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Who
          <input name="subject" value={form.subject} placeholder="anyone" autoComplete="off" onChange={(e) => update({ subject: e.currentTarget.value })} />
        </label>
        <label>
          Action
          <select name="action" value={form.action} onChange={(e) => update({ action: Number(e.currentTarget.value) as AuditAction })}>
            <option value={AuditAction.UNSPECIFIED}>any</option>
            {TRANSFER_AUDIT_ACTIONS.map((action) => (
              <option key={action} value={action}>
                {ACTION_TEXT[action]}
              </option>
            ))}
          </select>
        </label>
        <label>
          Entity
          <select name="entity" value={form.entity} onChange={(e) => update({ entity: e.currentTarget.value })}>
            <option value="">any</option>
            {ENTITIES.map((e) => (
              <option key={e.entity} value={entityText(e.entity)}>
                {e.label}
              </option>
            ))}
          </select>
        </label>
        <DateRangeInputs from={form.from} to={form.to} problem={problems.to} names={["from", "to"]} problemId="audit-to-problem" onChange={(range) => update(range)} />
      </form>
      <PagedListing
        list={list}
        loadingText="Loading the audit trail…"
        emptyText={isAuditFiltered(asked) ? "No event matches these filters." : "No events yet. Every export and import is recorded here."}
      >
        {(events) => <AuditEventsTable events={events} />}
      </PagedListing>
    </section>
  );
}
