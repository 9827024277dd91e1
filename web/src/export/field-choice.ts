/**
 * Which of an entity's fields an export may offer a person: readable fields
 * only (not a write-only password), and without `pii` no personal field —
 * the records service would leave them out anyway, so the UI does not offer
 * what it cannot deliver, and says so.
 */

export interface FieldOption {
  key: string;
  label: string;
  personal: boolean;
  writeOnly: boolean;
  /** Read from another collection, only when picked (a session's user name): not picked to begin with. */
  joined?: boolean;
  description?: string;
}

export interface FieldChoice {
  /** Fields the person may pick, in the entity's order. */
  offered: FieldOption[];
  /** Personal fields left out for want of `pii`. */
  withheld: FieldOption[];
  /**
   * What an export picks to begin with: the offered fields the records hold
   * themselves, as an export that names no fields has them. Joined fields
   * are offered, unpicked: each costs a look-up in another collection.
   */
  preselected: FieldOption[];
}

export function fieldChoice(fields: readonly FieldOption[], pii: boolean): FieldChoice {
  const readable = fields.filter((f) => !f.writeOnly);
  const offered = readable.filter((f) => pii || !f.personal);
  return { offered, withheld: pii ? [] : readable.filter((f) => f.personal), preselected: offered.filter((f) => !f.joined) };
}
