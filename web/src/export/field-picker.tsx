/**
 * The export's field selection: one checkbox per offered field with its
 * label (its key beside it, as files and filters name it), and a note naming
 * the personal fields left out when the person has no `pii`.
 */
import { fieldChoice, type FieldOption } from "./field-choice.js";

export interface FieldPickerProps {
  fields: readonly FieldOption[];
  pii: boolean;
  selected: readonly string[];
  onChange(selected: string[]): void;
}

export function FieldPicker({ fields, pii, selected, onChange }: FieldPickerProps) {
  const { offered, withheld } = fieldChoice(fields, pii);
  const toggle = (key: string, on: boolean) => {
    // Kept in the entity's order, whatever order they were ticked in.
    const next = new Set(selected);
    if (on) next.add(key);
    else next.delete(key);
    onChange(offered.map((f) => f.key).filter((k) => next.has(k)));
  };
  return (
    <fieldset className="fields">
      <legend>Fields</legend>
      <div className="field-actions">
        <button type="button" className="link" onClick={() => onChange(offered.map((f) => f.key))}>
          All
        </button>
        <button type="button" className="link" onClick={() => onChange([])}>
          None
        </button>
      </div>
      <ul>
        {offered.map((field) => (
          <li key={field.key}>
            <label title={field.description}>
              <input type="checkbox" name="field" value={field.key} checked={selected.includes(field.key)} onChange={(e) => toggle(field.key, e.currentTarget.checked)} />
              {field.label} <code>{field.key}</code>
            </label>
          </li>
        ))}
      </ul>
      {withheld.length > 0 && (
        <p className="note" role="note">
          Personal fields are left out: your roles do not include <code>pii</code> ({withheld.map((f) => f.label).join(", ")}).
        </p>
      )}
    </fieldset>
  );
}
