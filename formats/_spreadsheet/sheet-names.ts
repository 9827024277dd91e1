/**
 * Sheet names for a written workbook: the entity's name ("users"), then
 * "users (2)", "users (3)" for rows past a sheet's limit. Both Excel and
 * LibreOffice refuse names over 31 characters or with `[ ] : * ? / \`, so
 * those characters become `_` and the name is shortened to leave room for
 * the suffix.
 */
const MAX_NAME = 31;

export function sheetNames(entity: string | undefined): (index: number) => string {
  const base = clean(entity) || "Sheet1";
  return (index) => {
    if (index === 0) return base.slice(0, MAX_NAME);
    const suffix = ` (${index + 1})`;
    return base.slice(0, MAX_NAME - suffix.length) + suffix;
  };
}

function clean(name: string | undefined): string {
  return (name ?? "")
    .replace(/[[\]:*?/\\\u0000-\u001f]/g, "_")
    .replace(/^'+|'+$/g, "")
    .trim();
}
