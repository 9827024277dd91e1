/**
 * The export's picked fields are a list in the order the file's columns
 * take: ticking a field adds it at the end, unticking takes it out, and a
 * field moves one place up or down. The export request sends this list as it
 * is (the service writes columns in the order asked), for the preview and the
 * download alike.
 */

/** `selected` with `key` added at the end (on) or taken out (off). */
export function toggleField(selected: readonly string[], key: string, on: boolean): string[] {
  const without = selected.filter((k) => k !== key);
  return on ? [...without, key] : without;
}

/** Every offered field: those already picked keep their order, the others follow in the entity's order. */
export function pickAll(selected: readonly string[], offered: readonly string[]): string[] {
  const kept = selected.filter((k) => offered.includes(k));
  return [...kept, ...offered.filter((k) => !kept.includes(k))];
}

/** `selected` with `key` moved `by` places (-1 up, +1 down); unchanged at either end or for a key not picked. */
export function moveField(selected: readonly string[], key: string, by: -1 | 1): string[] {
  const from = selected.indexOf(key);
  const to = from + by;
  if (from < 0 || to < 0 || to >= selected.length) return [...selected];
  const next = [...selected];
  next[from] = next[to]!;
  next[to] = key;
  return next;
}
