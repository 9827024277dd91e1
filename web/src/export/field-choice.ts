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
  description?: string;
}

export interface FieldChoice {
  /** Fields the person may pick, in the entity's order. */
  offered: FieldOption[];
  /** Personal fields left out for want of `pii`. */
  withheld: FieldOption[];
}

export function fieldChoice(fields: readonly FieldOption[], pii: boolean): FieldChoice {
  const readable = fields.filter((f) => !f.writeOnly);
  return { offered: readable.filter((f) => pii || !f.personal), withheld: pii ? [] : readable.filter((f) => f.personal) };
}
