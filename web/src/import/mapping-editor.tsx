/**
 * The mapping editor: one row per column of the file, with the field it
 * fills (the service's suggestion first, and why it was suggested), any
 * writable field of the entity, or "leave out"; and for a mapped column the
 * transforms its cells go through first (transform-editor.tsx). A column
 * left out has no transforms to show: nothing of it is read.
 */
import { duplicateFields, type ColumnMapping, type Suggestion } from "./mapping.js";
import { TransformEditor } from "./transform-editor.js";
import type { ColumnTransforms } from "./transforms.js";

export interface MappingField {
  key: string;
  label: string;
  required: boolean;
}

export interface MappingEditorProps {
  columns: readonly string[];
  fields: readonly MappingField[];
  suggestions: readonly Suggestion[];
  mapping: ColumnMapping;
  onChange(mapping: ColumnMapping): void;
  transforms: ColumnTransforms;
  onTransformsChange(transforms: ColumnTransforms): void;
  /** The service's refusals of transforms: column → step index → reason. */
  transformProblems?: Readonly<Record<string, Readonly<Record<number, string>>>>;
}

const MATCHED_BY: Record<string, string> = { key: "same key", label: "same label", synonym: "a known synonym" };

export function MappingEditor({ columns, fields, suggestions, mapping, onChange, transforms, onTransformsChange, transformProblems = {} }: MappingEditorProps) {
  const suggested = new Map(suggestions.map((s) => [s.column, s]));
  const duplicates = new Set(duplicateFields(mapping));
  const mapped = new Set(Object.values(mapping));
  const missing = fields.filter((f) => f.required && !mapped.has(f.key));
  return (
    <fieldset className="mapping">
      <legend>Columns</legend>
      <table>
        <thead>
          <tr>
            <th scope="col">Column in the file</th>
            <th scope="col">Field</th>
            <th scope="col">Suggested</th>
            <th scope="col">Transforms</th>
          </tr>
        </thead>
        <tbody>
          {columns.map((column) => {
            const suggestion = suggested.get(column);
            const field = mapping[column] ?? "";
            return (
              <tr key={column}>
                <th scope="row">{column}</th>
                <td>
                  <select aria-label={`Field for ${column}`} value={field} aria-invalid={duplicates.has(field)} onChange={(e) => onChange({ ...mapping, [column]: e.currentTarget.value })}>
                    <option value="">(leave out)</option>
                    {fields.map((f) => (
                      <option key={f.key} value={f.key}>
                        {f.label} ({f.key})
                      </option>
                    ))}
                  </select>
                  {duplicates.has(field) && <span className="error"> another column fills this field too</span>}
                </td>
                <td className="muted">{suggestion?.field ? `${suggestion.field}, by ${MATCHED_BY[suggestion.matchedBy] ?? suggestion.matchedBy}` : "no field fits"}</td>
                <td>
                  {field ? (
                    <TransformEditor
                      column={column}
                      transforms={transforms[column] ?? []}
                      serviceProblems={transformProblems[column]}
                      onChange={(chain) => onTransformsChange({ ...transforms, [column]: chain })}
                    />
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {missing.length > 0 && (
        <p className="note" role="note">
          No column fills {missing.map((f) => f.label).join(", ")}: rows need {missing.length === 1 ? "it" : "them"} unless the records already exist.
        </p>
      )}
    </fieldset>
  );
}
