/**
 * Audit events as a table: when, who (and for whom, when a service acted
 * for someone), what was done to which entity in which format, the fields of
 * an export in their order, the counts, the outcome with its reason, and the
 * job, linked. The table scrolls inside its own box on a narrow window.
 */
import type { AuditEvent } from "../../../gen/dataexchange/audit/v1/audit_pb.js";
import { timeText } from "../jobs/job-text.js";
import { actionText, auditCountsText, OUTCOME_TEXT } from "./audit-text.js";

export function AuditEventsTable({ events }: { events: readonly AuditEvent[] }) {
  return (
    <div className="table-scroll">
      <table className="audit-events">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">Action</th>
            <th scope="col">Entity</th>
            <th scope="col">Format</th>
            <th scope="col">Fields</th>
            <th scope="col">Counts</th>
            <th scope="col">Outcome</th>
            <th scope="col">Job</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => {
            const outcome = OUTCOME_TEXT[event.outcome] ?? "unknown";
            const fields = event.fields.join(", ");
            return (
              <tr key={event.id} data-event-id={event.id}>
                <td>{timeText(event.time)}</td>
                <td>
                  {event.subject}
                  {event.onBehalfOf && <span className="muted"> for {event.onBehalfOf}</span>}
                </td>
                <td>{actionText(event)}</td>
                <td>{event.source === "audit" ? "audit trail" : event.entity}</td>
                <td>{event.format}</td>
                <td className="cut" title={fields.length > 40 ? fields : undefined}>
                  {fields}
                </td>
                <td>{auditCountsText(event)}</td>
                <td className="cut" title={event.error || undefined}>
                  <span className={`badge badge-${outcome}`}>{outcome}</span>
                  {event.error && <span className="error"> {event.error}</span>}
                </td>
                <td>{event.jobId ? <a href={`#/jobs/${encodeURIComponent(event.jobId)}`}>Job</a> : <span className="muted">—</span>}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
