/**
 * The first rows of an export as a table, columns labelled as the file will
 * be. The table keeps its place while a new preview loads (no layout jump),
 * and says when there is nothing to show.
 */

export interface PreviewColumn {
  key: string;
  label: string;
}

export interface PreviewTableProps {
  columns: readonly PreviewColumn[];
  rows: readonly Record<string, unknown>[];
  loading?: boolean;
  error?: string;
}

/** How one value shows in a cell: text as it is, nested values as JSON, nothing for a missing value. */
export function cellText(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

export function PreviewTable({ columns, rows, loading = false, error }: PreviewTableProps) {
  return (
    <section className="preview" aria-busy={loading} aria-label="Preview">
      <h2>
        Preview <span className="muted">{loading ? "loading…" : `first ${rows.length} row${rows.length === 1 ? "" : "s"}`}</span>
      </h2>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : columns.length === 0 ? (
        <p className="muted">Pick at least one field to see a preview.</p>
      ) : (
        <div className="table-scroll">
          <table>
            <thead>
              <tr>
                {columns.map((c) => (
                  <th key={c.key} scope="col">
                    {c.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.length === 0 && !loading ? (
                <tr>
                  <td colSpan={columns.length} className="muted">
                    No records match.
                  </td>
                </tr>
              ) : (
                rows.map((row, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: preview rows have no identity of their own; they are replaced as a whole.
                  <tr key={i}>
                    {columns.map((c) => {
                      const text = cellText(row[c.key]);
                      // Long values are cut at the column's width; the whole value is the cell's tooltip.
                      return (
                        <td key={c.key} title={text.length > 40 ? text : undefined}>
                          {text}
                        </td>
                      );
                    })}
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
