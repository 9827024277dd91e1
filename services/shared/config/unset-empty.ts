/**
 * The environment with empty variables taken as unset, as every service reads
 * it: a template's `RECORDS_PORT=` means "not given", not port 0 or "".
 */
export function withoutEmptyValues(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ""));
}
