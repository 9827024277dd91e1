/**
 * The export's field selection: one checkbox per offered field with its
 * label (its key beside it, as files and filters name it), a note naming the
 * personal fields left out when the person has no `pii`, and the picked
 * fields as an ordered list — the file's columns, in that order — each with
 * buttons to move it up or down.
 *
 * Keyboard: the focus stays on the button of the field that moved. React
 * moves list items in the DOM; Chromium keeps the focus of a node moved that
 * way (the browser test sees it), browsers that blur a removed node would
 * not, so the button is focused again after a move. At either end the button
 * says it cannot move (aria-disabled) rather than becoming disabled, which
 * would drop the focus everywhere. Each move is announced in a live line.
 */
import { useEffect, useId, useRef, useState } from "react";
import { fieldChoice, type FieldOption } from "./field-choice.js";
import { moveField, pickAll, toggleField } from "./field-order.js";

export interface FieldPickerProps {
  fields: readonly FieldOption[];
  pii: boolean;
  /** The picked fields, in the file's column order. */
  selected: readonly string[];
  onChange(selected: string[]): void;
  /** The id of the text that says what is wrong with the selection (none picked), shown beside it. */
  problemId?: string;
}

type Direction = "up" | "down";

export function FieldPicker({ fields, pii, selected, onChange, problemId }: FieldPickerProps) {
  const orderTitleId = useId();
  const { offered, withheld } = fieldChoice(fields, pii);
  const offeredKeys = offered.map((f) => f.key);
  const labelOf = (key: string) => offered.find((f) => f.key === key)?.label ?? key;
  const moveButtons = useRef(new Map<string, HTMLButtonElement>());
  const [focusAfterMove, setFocusAfterMove] = useState<string>();
  const [announcement, setAnnouncement] = useState("");

  useEffect(() => {
    if (!focusAfterMove) return;
    moveButtons.current.get(focusAfterMove)?.focus();
    setFocusAfterMove(undefined);
  }, [focusAfterMove]);

  const move = (key: string, direction: Direction) => {
    const next = moveField(selected, key, direction === "up" ? -1 : 1);
    if (next.indexOf(key) === selected.indexOf(key)) return;
    onChange(next);
    setFocusAfterMove(`${key}:${direction}`);
    setAnnouncement(`${labelOf(key)} moved to column ${next.indexOf(key) + 1} of ${next.length}.`);
  };

  return (
    <fieldset className="fields" aria-describedby={problemId} aria-invalid={problemId ? true : undefined}>
      <legend>Fields</legend>
      <div className="fields-body">
        <div className="fields-pick">
          <div className="field-actions">
            <button type="button" className="link" onClick={() => onChange(pickAll(selected, offeredKeys))}>
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
                  <input type="checkbox" name="field" value={field.key} checked={selected.includes(field.key)} onChange={(e) => onChange(toggleField(selected, field.key, e.currentTarget.checked))} />
                  {field.label} <code>{field.key}</code>
                </label>
              </li>
            ))}
          </ul>
        </div>
        {selected.length > 0 && (
          <div className="field-order">
            <h3 id={orderTitleId}>Column order</h3>
            <ol aria-labelledby={orderTitleId}>
              {selected.map((key, index) => {
                const label = labelOf(key);
                const button = (direction: Direction, atEnd: boolean) => (
                  <button
                    type="button"
                    className="secondary small"
                    ref={(el) => {
                      if (el) moveButtons.current.set(`${key}:${direction}`, el);
                      else moveButtons.current.delete(`${key}:${direction}`);
                    }}
                    aria-label={`Move ${label} ${direction}`}
                    aria-disabled={atEnd}
                    title={atEnd ? `${label} is already the ${direction === "up" ? "first" : "last"} column` : undefined}
                    onClick={() => move(key, direction)}
                  >
                    {direction === "up" ? "↑" : "↓"}
                  </button>
                );
                return (
                  <li key={key} data-field={key}>
                    <span className="field-order-label">{label}</span>
                    {button("up", index === 0)}
                    {button("down", index === selected.length - 1)}
                  </li>
                );
              })}
            </ol>
            {/* aria-live, not role=status: the page's one status is the download's. */}
            <p className="visually-hidden" aria-live="polite">
              {announcement}
            </p>
          </div>
        )}
      </div>
      {withheld.length > 0 && (
        <p className="note" role="note">
          Personal fields are left out: your roles do not include <code>pii</code> ({withheld.map((f) => f.label).join(", ")}).
        </p>
      )}
    </fieldset>
  );
}
