/**
 * The two date inputs of a range of whole days (see date-range.ts), with the
 * range's problem beside the end date — the control it is about — and as
 * that input's description. One control for the export, jobs and audit pages,
 * which each had their own copy.
 */

export interface DateRangeInputsProps {
  from: string;
  to: string;
  /** The range's problem (dateRangeProblem), shown beside the end date. */
  problem?: string;
  /** The inputs' names, e.g. ["from", "to"] or ["createdFrom", "createdTo"]. */
  names: readonly [string, string];
  /** Their labels; "From" and "To" by default. */
  labels?: readonly [string, string];
  /** The id of the problem's text, unique on the page. */
  problemId: string;
  onChange(range: { from: string; to: string }): void;
}

export function DateRangeInputs({ from, to, problem, names, labels = ["From", "To"], problemId, onChange }: DateRangeInputsProps) {
  return (
    <>
      <label>
        {labels[0]}
        <input type="date" name={names[0]} value={from} onChange={(e) => onChange({ from: e.currentTarget.value, to })} />
      </label>
      <div className="control">
        <label>
          {labels[1]}
          <input
            type="date"
            name={names[1]}
            value={to}
            aria-invalid={Boolean(problem)}
            aria-describedby={problem ? problemId : undefined}
            onChange={(e) => onChange({ from, to: e.currentTarget.value })}
          />
        </label>
        {problem && (
          <span id={problemId} className="error">
            {problem}
          </span>
        )}
      </div>
    </>
  );
}
