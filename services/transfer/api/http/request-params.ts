/**
 * The names a plain HTTP route takes — query parameters of the downloads and
 * job pages, form fields of the upload — and the one rule for every other
 * name: refused with 400, naming it and listing the accepted ones, before
 * anything is read or written. An option the service does not understand is
 * never ignored: `-F dryRun=true` once imported a file for real because only
 * `dry_run` was read.
 *
 * Names are snake_case, like the proto fields they stand for. The
 * lowerCamelCase spelling the job JSON shows (`dryRun`, `formatOptions`,
 * `pageSize`) is refused with a hint, not taken as an alias: one name per
 * parameter, so a request has one meaning and cannot say two things at once.
 */
import type { JsonObject } from "@bufbuild/protobuf";
import { checkJsonText, duplicateKeyReason, parseTimestamp } from "../../../../formats/_sdk/index.js";
import { InvalidTransferRequestError } from "../../errors.js";

export interface ParamSpec {
  name: string;
  /** May be given more than once (lists: `status=a&status=b` is `status=a,b`). */
  repeatable?: boolean;
}

/** Names people send for a parameter because the job JSON or the proto spells it so. */
const HINTS: Readonly<Record<string, string>> = {
  formatoptions: "options",
  format_options: "options",
  filename: "file",
  file_name: "file",
};

function squash(name: string): string {
  return name.toLowerCase().replace(/[_\-\s]/g, "");
}

/** The accepted name someone most likely meant by `given`: same letters ignoring case and `_`, a plural, or a job JSON name. */
export function didYouMean(given: string, accepted: readonly string[]): string | undefined {
  const hint = Object.hasOwn(HINTS, given.toLowerCase()) ? HINTS[given.toLowerCase()] : undefined;
  if (hint && accepted.includes(hint)) return hint;
  const g = squash(given);
  return accepted.find((a) => {
    const s = squash(a);
    return s === g || `${s}s` === g || `${s}es` === g;
  });
}

/**
 * Refuses every name in `given` that `accepted` does not list, and every
 * repeat of a name that is not repeatable (`entity=users&entity=courses`
 * would otherwise mean whichever one the code happened to read).
 */
export function refuseUnknownNames(given: Iterable<string>, accepted: readonly ParamSpec[], kind: "query parameter" | "form field", where: string): void {
  const names = accepted.map((p) => p.name);
  const counts = new Map<string, number>();
  for (const name of given) counts.set(name, (counts.get(name) ?? 0) + 1);
  const unknown = [...counts.keys()].filter((name) => !names.includes(name));
  if (unknown.length > 0) {
    const hints = unknown.map((name) => {
      const meant = didYouMean(name, names);
      const shown = JSON.stringify(name.length > 100 ? `${name.slice(0, 100)}…` : name);
      return meant ? `${shown} (did you mean ${meant}?)` : shown;
    });
    throw new InvalidTransferRequestError(`unknown ${kind}${unknown.length > 1 ? "s" : ""} ${hints.join(", ")} for ${where}; accepted: ${names.join(", ")}`, unknown[0]!.slice(0, 100));
  }
  const repeated = accepted.filter((p) => !p.repeatable && (counts.get(p.name) ?? 0) > 1).map((p) => p.name);
  if (repeated.length > 0) throw new InvalidTransferRequestError(`${repeated.join(", ")} may be given only once`, repeated[0]);
}

/** Refuses query parameters that `accepted` does not list (see {@link refuseUnknownNames}), then any given empty (see {@link refuseEmptyValues}). */
export function refuseUnknownQuery(query: URLSearchParams, accepted: readonly ParamSpec[], where: string): void {
  refuseUnknownNames(query.keys(), accepted, "query parameter", where);
  refuseEmptyValues(query);
}

/** What to give instead of nothing, by parameter (an entity's prefix, `users.mode`, aside). */
const EXPECTED: Readonly<Record<string, string>> = {
  async: "give true or false",
  strict: "give true or false",
  dry_run: "give true or false",
  mode: "give insert, upsert, merge or skip-existing",
  options: "give a JSON object",
  labels: "give a JSON object",
  mapping: "give a JSON array of {source, field, transforms}",
  max_errors: "give a whole number",
  max_changes: "give a whole number",
  max_error_ratio: "give a fraction such as 0.05",
  limit: "give a whole number",
  page_size: "give a whole number",
  from: "give an ISO 8601 date or timestamp",
  to: "give an ISO 8601 date or timestamp",
  changed_since: "give an ISO 8601 date or timestamp",
  entity: "give users, courses, sessions, enrollments or activity",
  source: "give records, audit or deletions",
  format: "give a format such as csv, or leave format out to have it detected from the file",
  ...Object.fromEntries(["fields", "sort", "status", "role", "user_id", "course_id", "session_id"].map((name) => [name, "give one or more, separated by commas, or leave it out"])),
};

/**
 * The 400 for a parameter given with an empty (or blank) value: `dry_run=`
 * is not `dry_run` left out, and is never taken as its default — a request
 * says what it means or leaves the parameter out.
 */
export function emptyValueError(name: string): InvalidTransferRequestError {
  const base = name.includes(".") ? name.slice(name.indexOf(".") + 1) : name;
  const expected = Object.hasOwn(EXPECTED, base) ? EXPECTED[base] : `give a value, or leave ${name} out`;
  return new InvalidTransferRequestError(`${name} is empty: ${expected}`, name);
}

/** Throws {@link emptyValueError} when `value` is given (not null or undefined) but blank. */
export function refuseEmpty(value: string | null | undefined, name: string): void {
  if (value !== null && value !== undefined && value.trim() === "") throw emptyValueError(name);
}

/** Refuses the first parameter (query parameter or form field) given with an empty or blank value. */
export function refuseEmptyValues(given: Iterable<readonly [string, string]>): void {
  for (const [name, value] of given) refuseEmpty(value, name);
}

/** Earliest and latest instants a protobuf Timestamp (and so a job or a filter) can hold. */
const MIN_TIME = Date.parse("0001-01-01T00:00:00Z");
const MAX_TIME = Date.parse("9999-12-31T23:59:59.999Z");

/**
 * An ISO 8601 date (midnight UTC) or date-time with its zone; undefined when
 * absent, refused when empty. Only that form: `new Date(text)` read a
 * zone-less date-time in this server's zone (another host, another window),
 * took `from=2` as the year 2001 and rolled `2024-02-30` into March — each a
 * filter that selects other records without a word. Components are checked
 * by the import's own rules (`parseTimestamp`).
 */
export function dateParam(query: URLSearchParams, name: string): Date | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  refuseEmpty(value, name);
  const text = value.trim();
  if (!ISO_DATE_OR_TIME.test(text)) {
    // An offset's "+" not written %2B arrives as a space.
    const plus = /T[\d:.,]+ \d{2}:?\d{2}$/.test(text) ? ' (a "+" in a query string must be written %2B)' : "";
    throw new InvalidTransferRequestError(`${name} must be an ISO 8601 date (2024-05-01, midnight UTC) or date-time with its zone (2024-05-01T12:00:00Z), not ${JSON.stringify(value)}${plus}`, name);
  }
  if (text.includes("T") && !ZONE_AT_END.test(text)) {
    throw new InvalidTransferRequestError(`${name} ${JSON.stringify(value)} has a time but no time zone: end it with Z or an offset such as +01:00 (it would be read in some server's zone)`, name);
  }
  // Digits past the millisecond are checked below, where the bound that selects the same records can be named.
  const parsed = parseTimestamp(text.replace(/([.,]\d{3})\d+/, "$1"));
  if (!parsed.ok) throw new InvalidTransferRequestError(`${name}: ${parsed.reason}`, name);
  const date = parsed.value;
  if (date.getTime() < MIN_TIME || date.getTime() > MAX_TIME) throw new InvalidTransferRequestError(`${name} must be a date from 0001-01-01 to 9999-12-31, not ${JSON.stringify(value)}`, name);
  // Stored times are milliseconds, so a finer bound is refused, naming the millisecond one that selects the same records:
  // every bound is inclusive from below (from, changed_since) or exclusive from above (to), so that is the next millisecond.
  const fraction = /:\d{2}[.,](\d+)/.exec(text)?.[1];
  if (fraction !== undefined && /[1-9]/.test(fraction.slice(3))) {
    const same = date.getTime() < MAX_TIME ? ` (${name}=${new Date(date.getTime() + 1).toISOString()} selects the same records)` : "";
    throw new InvalidTransferRequestError(`${name} ${JSON.stringify(value)} is more precise than milliseconds, which is what stored times keep: give at most 3 decimals${same}`, name);
  }
  return date;
}

const ISO_DATE_OR_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;
const ZONE_AT_END = /(?:Z|[+-]\d{2}:?\d{2})$/i;

/**
 * A whole-number parameter from 0 to `max`; undefined when absent, refused when empty.
 * The default bound is the largest count a JavaScript number holds exactly:
 * a larger `limit` could not be passed on unchanged (and is no limit anyway).
 */
export function wholeNumberParam(query: URLSearchParams, name: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  refuseEmpty(value, name);
  if (!/^\d+$/.test(value) || BigInt(value) > BigInt(max)) throw new InvalidTransferRequestError(`${name} must be a whole number from 0 to ${max}, not ${JSON.stringify(value)}`, name);
  return Number(value);
}

/** A parameter holding a JSON object (`options`, `labels`); `{}` when absent, refused when empty. */
export function jsonObjectParam(value: string | null | undefined, name: string): JsonObject {
  if (value === null || value === undefined) return {};
  refuseEmpty(value, name);
  const parsed = jsonParam(value, name, "a JSON object");
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new InvalidTransferRequestError(`${name} must be a JSON object`, name);
  return parsed as JsonObject;
}

/**
 * A parameter's JSON text as its value, refused with 400 when it is not JSON
 * or gives a key twice: `JSON.parse` keeps the last of
 * `{"encoding":"latin1","encoding":"utf-8"}` without a word, and which one the
 * sender meant is not ours to guess.
 */
export function jsonParam(text: string, name: string, what: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InvalidTransferRequestError(`${name} must be ${what}: ${(error as Error).message}`, name);
  }
  const twice = checkJsonText(text, parsed)?.duplicateKey;
  if (twice) throw new InvalidTransferRequestError(`${name}: ${duplicateKeyReason(twice.path)}`, name);
  return parsed;
}
