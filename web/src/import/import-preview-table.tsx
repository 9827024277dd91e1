/**
 * What importing would do to each of the file's first rows: its outcome,
 * the mapped values, and for an update the fields that would change (before
 * → after), for an error the reasons, next to the row they belong to.
 */
import type { JsonValue } from "@bufbuild/protobuf";
import { PreviewRow_Outcome, type PreviewRow } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { cellText } from "../export/preview-table.js";

export const OUTCOME_TEXT: Record<PreviewRow_Outcome, string> = {
  [PreviewRow_Outcome.UNSPECIFIED]: "unknown",
  [PreviewRow_Outcome.NEW]: "new",
  [PreviewRow_Outcome.UPDATE]: "update",
  [PreviewRow_Outcome.UNCHANGED]: "unchanged",
  [PreviewRow_Outcome.SKIP]: "skip",
  [PreviewRow_Outcome.ERROR]: "error",
};

export interface ImportPreviewTableProps {
  rows: readonly PreviewRow[];
  /** The fields the mapping fills, in column order. */
  fields: readonly string[];
  loading?: boolean;
  /** Why the rows shown are not those of the current settings (which the service cannot be asked about until fixed). */
  outdated?: string;
}

export function ImportPreviewTable({ rows, fields, loading = false, outdated }: ImportPreviewTableProps) {
  return (
    <section className="preview" aria-busy={loading || Boolean(outdated)} aria-label="Import preview">
      <h2>
        Preview <span className="muted">{outdated ?? (loading ? "loading…" : `first ${rows.length} row${rows.length === 1 ? "" : "s"}`)}</span>
      </h2>
      <div className="table-scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">Row</th>
              <th scope="col">Outcome</th>
              {fields.map((f) => (
                <th key={f} scope="col">
                  {f}
                </th>
              ))}
              <th scope="col">What changes / why not</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => {
              const outcome = OUTCOME_TEXT[row.outcome];
              const values = (row.values ?? {}) as Record<string, JsonValue>;
              return (
                <tr key={String(row.row)} className={`outcome-${outcome}`}>
                  <td>{String(row.row)}</td>
                  <td>
                    <span className={`badge outcome-badge-${outcome}`}>{outcome}</span>
                  </td>
                  {fields.map((f) => (
                    <td key={f}>{cellText(values[f])}</td>
                  ))}
                  <td>
                    {row.errors.map((e) => (
                      <div key={`${e.column}-${e.code}-${e.reason}`} className="error">
                        {e.column && `${e.column}: `}
                        {e.reason}
                      </div>
                    ))}
                    {row.changes.map((c) => (
                      <div key={c.field}>
                        {c.field}: {cellText(c.before) || "(none)"} → {cellText(c.after) || "(none)"}
                      </div>
                    ))}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
