/**
 * The transforms of one mapped column: the steps its cells go through, in
 * order, each with its own labelled controls and, beside them, what is wrong
 * (an empty date format, a value map that defaults unlisted values to
 * nothing; the service's own refusal of a step, such as a token its date
 * parser does not know). Steps are added from a menu, moved up and down, and
 * removed. Every control's name says the column and the step, so a screen
 * reader (and a test) can tell the "format" of one column's date from
 * another's.
 */
import { useId, useState } from "react";
import { moved, newTransform, TRANSFORM_KINDS, transformLabel, transformProblems, type Transform, type TransformKind, type Unmapped } from "./transforms.js";

export interface TransformEditorProps {
  column: string;
  transforms: readonly Transform[];
  onChange(transforms: Transform[]): void;
  /** The service's refusals, by step index (from the preview's field violations). */
  serviceProblems?: Readonly<Record<number, string>>;
}

export function TransformEditor({ column, transforms, onChange, serviceProblems = {} }: TransformEditorProps) {
  const [adding, setAdding] = useState<TransformKind>("trim");
  const replace = (i: number, t: Transform) => onChange(transforms.map((old, j) => (j === i ? t : old)));
  return (
    <fieldset className="transforms">
      <legend className="visually-hidden">Transforms of {column}</legend>
      {transforms.length > 0 && (
        <ol>
          {transforms.map((t, i) => {
            const name = `${column}, step ${i + 1}`;
            const label = transformLabel(t.kind);
            return (
              // biome-ignore lint/suspicious/noArrayIndexKey: steps have no identity but their place; moving one re-renders both.
              <li key={i} className="transform">
                <div className="transform-head">
                  <span className="transform-name">
                    {i + 1}. {label}
                  </span>
                  <button type="button" className="link" aria-label={`Move ${name} (${label}) up`} disabled={i === 0} onClick={() => onChange(moved(transforms, i, i - 1))}>
                    ↑
                  </button>
                  <button type="button" className="link" aria-label={`Move ${name} (${label}) down`} disabled={i === transforms.length - 1} onClick={() => onChange(moved(transforms, i, i + 1))}>
                    ↓
                  </button>
                  <button type="button" className="link" aria-label={`Remove ${name} (${label})`} onClick={() => onChange(transforms.filter((_, j) => j !== i))}>
                    remove
                  </button>
                </div>
                <TransformControls name={name} transform={t} onChange={(next) => replace(i, next)} />
                {serviceProblems[i] && (
                  <p className="error" role="alert">
                    {serviceProblems[i]}
                  </p>
                )}
              </li>
            );
          })}
        </ol>
      )}
      <div className="transform-add">
        <select aria-label={`Transform to add to ${column}`} value={adding} onChange={(e) => setAdding(e.currentTarget.value as TransformKind)}>
          {TRANSFORM_KINDS.map((k) => (
            <option key={k.kind} value={k.kind}>
              {k.label}
            </option>
          ))}
        </select>
        <button type="button" className="secondary small" aria-label={`Add transform to ${column}`} onClick={() => onChange([...transforms, newTransform(adding)])}>
          Add
        </button>
      </div>
    </fieldset>
  );
}

/** A text input with its visible label, its full accessible name and its problem beside it. */
function TextControl(props: { label: string; name: string; value: string; placeholder?: string; problem?: string; onChange(value: string): void }) {
  const id = useId();
  return (
    <label className="transform-field">
      <span aria-hidden="true">{props.label}</span>
      <input
        aria-label={`${props.name}: ${props.label}`}
        value={props.value}
        placeholder={props.placeholder}
        aria-invalid={Boolean(props.problem)}
        aria-describedby={props.problem ? id : undefined}
        onChange={(e) => props.onChange(e.currentTarget.value)}
      />
      {props.problem && (
        <span id={id} className="error">
          {props.problem}
        </span>
      )}
    </label>
  );
}

const UNMAPPED_TEXT: Record<Unmapped, string> = { error: "reject the row", keep: "keep the value", default: "use a default" };

function TransformControls({ name, transform: t, onChange }: { name: string; transform: Transform; onChange(t: Transform): void }) {
  const problems = transformProblems(t);
  switch (t.kind) {
    case "trim":
    case "lowercase":
      return null;
    case "date":
      return (
        <div className="transform-fields">
          <TextControl label="date format" name={name} value={t.format} placeholder="DD/MM/YYYY" problem={problems.format} onChange={(format) => onChange({ ...t, format })} />
          <TextControl label="time zone" name={name} value={t.timeZone} placeholder="UTC" problem={problems.timeZone} onChange={(timeZone) => onChange({ ...t, timeZone })} />
        </div>
      );
    case "default":
      return (
        <div className="transform-fields">
          <TextControl label="value for empty cells" name={name} value={t.value} onChange={(value) => onChange({ ...t, value })} />
        </div>
      );
    case "template":
      return (
        <div className="transform-fields">
          <TextControl label="template" name={name} value={t.value} placeholder="{code}-{year}" problem={problems.value} onChange={(value) => onChange({ ...t, value })} />
        </div>
      );
    case "map":
      return (
        <div className="transform-fields value-map">
          <table>
            <thead>
              <tr>
                <th scope="col">value in the file</th>
                <th scope="col">becomes</th>
                <th scope="col">
                  <span className="visually-hidden">remove</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {t.rows.map((row, r) => {
                const setRow = (patch: Partial<typeof row>) => onChange({ ...t, rows: t.rows.map((old, k) => (k === r ? { ...old, ...patch } : old)) });
                const problem = problems[`row.${r}`];
                return (
                  // biome-ignore lint/suspicious/noArrayIndexKey: a map row is its place in the table while it is edited.
                  <tr key={r}>
                    <td>
                      <input aria-label={`${name}: value ${r + 1} in the file`} value={row.from} aria-invalid={Boolean(problem)} onChange={(e) => setRow({ from: e.currentTarget.value })} />
                      {problem && <span className="error"> {problem}</span>}
                    </td>
                    <td>
                      <input aria-label={`${name}: value ${r + 1} becomes`} value={row.to} onChange={(e) => setRow({ to: e.currentTarget.value })} />
                    </td>
                    <td>
                      <button type="button" className="link" aria-label={`${name}: remove value ${r + 1}`} onClick={() => onChange({ ...t, rows: t.rows.filter((_, k) => k !== r) })}>
                        remove
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <button type="button" className="secondary small" aria-label={`${name}: add a value`} onClick={() => onChange({ ...t, rows: [...t.rows, { from: "", to: "" }] })}>
            Add a value
          </button>
          {problems.rows && <span className="error"> {problems.rows}</span>}
          <div className="row">
            <label className="transform-field">
              <span aria-hidden="true">values not in the map</span>
              <select aria-label={`${name}: values not in the map`} value={t.unmapped} onChange={(e) => onChange({ ...t, unmapped: e.currentTarget.value as Unmapped })}>
                {(Object.keys(UNMAPPED_TEXT) as Unmapped[]).map((u) => (
                  <option key={u} value={u}>
                    {UNMAPPED_TEXT[u]}
                  </option>
                ))}
              </select>
            </label>
            {t.unmapped === "default" && <TextControl label="default" name={name} value={t.default} problem={problems.default} onChange={(value) => onChange({ ...t, default: value })} />}
            <label className="inline">
              <input type="checkbox" aria-label={`${name}: ignore case`} checked={t.caseInsensitive} onChange={(e) => onChange({ ...t, caseInsensitive: e.currentTarget.checked })} />
              <span aria-hidden="true">ignore case</span>
            </label>
          </div>
        </div>
      );
  }
}
