/**
 * The values of `dx`'s options, checked and turned into what the RPCs take.
 * Every name that is not understood is refused with the list of accepted
 * ones, before anything is sent: an option quietly dropped once imported a
 * file for real.
 */
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { Entity, WriteMode } from "../gen/dataexchange/records/v1/records_pb.js";
import { JobKind, JobState } from "../gen/dataexchange/transfer/v1/transfer_pb.js";
import { parseTimestamp } from "../formats/_sdk/parse-timestamp.js";
import { CliError, ExitCode } from "./exit-codes.js";

/** A refused command line: nothing was sent. */
export function usageError(message: string): CliError {
  return new CliError(message, ExitCode.nothingWritten);
}

/** Commander's collector for options given more than once. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export const ENTITY_NAMES = ["users", "courses", "sessions", "enrollments", "activity"] as const;

const ENTITIES: Readonly<Record<string, Entity>> = {
  users: Entity.USERS,
  courses: Entity.COURSES,
  sessions: Entity.SESSIONS,
  enrollments: Entity.ENROLLMENTS,
  activity: Entity.ACTIVITY,
};

/** The entity a name means (users, courses, …). */
export function entityOf(name: string | undefined): Entity {
  const key = (name ?? "").trim().toLowerCase();
  if (!key) throw usageError(`give the entity: one of ${ENTITY_NAMES.join(", ")}`);
  if (!Object.hasOwn(ENTITIES, key)) throw usageError(`unknown entity ${JSON.stringify(name)}; one of ${ENTITY_NAMES.join(", ")}`);
  return ENTITIES[key]!;
}

/** The name of an entity enum value. */
export function entityName(entity: Entity): string {
  return Object.entries(ENTITIES).find(([, e]) => e === entity)?.[0] ?? "";
}

/** `key=value` split at the first `=`. */
export function keyValue(text: string, option: string): [string, string] {
  const at = text.indexOf("=");
  if (at <= 0) throw usageError(`${option} takes key=value, not ${JSON.stringify(text)}`);
  return [text.slice(0, at).trim(), text.slice(at + 1)];
}

/**
 * `--option k=v …` as a format's options. A value that reads as JSON (true,
 * 3, "x", [1]) is that JSON value, anything else is text: `delimiter=;`,
 * `pretty=true`, `sheet=People`. The plugin's schema checks them all and
 * refuses an option it does not know.
 */
export function formatOptions(pairs: readonly string[]): JsonObject {
  const options: JsonObject = {};
  for (const pair of pairs) {
    const [key, raw] = keyValue(pair, "--option");
    if (Object.hasOwn(options, key)) throw usageError(`--option ${key} is given twice`);
    let value: JsonValue = raw;
    try {
      value = JSON.parse(raw) as JsonValue;
    } catch {
      // text
    }
    options[key] = value;
  }
  return options;
}

/**
 * An ISO 8601 date (midnight UTC) or an instant. A time must name its zone:
 * `dx` runs on a person's machine, and reading `12:00` in that machine's
 * zone (as `new Date()` does) would filter hours away from what the same
 * text means to the server's HTTP API (UTC). The components are checked by
 * the import's own rules (`parseTimestamp`): `2024-02-30` is refused, not
 * rolled into March, and digits past the millisecond are refused, not cut.
 */
export function dateOption(text: string, option: string): Date {
  const s = text.trim();
  const hint = "(2024-05-01, 2024-05-01T12:00:00Z, 2024-05-01T14:00:00+02:00)";
  if (!ISO_DATE_OR_TIME.test(s)) throw usageError(`${option} takes an ISO 8601 date or a time with its zone ${hint}, not ${JSON.stringify(text)}`);
  if (/[T ]/.test(s) && !ZONE_AT_END.test(s)) throw usageError(`${option} ${JSON.stringify(text)} has a time but no zone: end it with Z or an offset ${hint}`);
  const parsed = parseTimestamp(s);
  if (!parsed.ok) throw usageError(`${option}: ${parsed.reason}`);
  return parsed.value;
}

const ISO_DATE_OR_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;
const ZONE_AT_END = /(?:Z|[+-]\d{2}:?\d{2})$/i;

/** A whole number ≥ `min`. */
export function wholeNumber(text: string, option: string, min = 1): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < min || !Number.isSafeInteger(Number(text))) throw usageError(`${option} takes a whole number of at least ${min}, not ${JSON.stringify(text)}`);
  return Number(text);
}

/** `a,b,c` (and repeated options) as a list. */
export function list(values: readonly string[] | string | undefined): string[] {
  const all = typeof values === "string" ? [values] : (values ?? []);
  return all
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter(Boolean);
}

const MODES: Readonly<Record<string, WriteMode>> = {
  insert: WriteMode.INSERT,
  upsert: WriteMode.UPSERT,
  merge: WriteMode.MERGE,
  "skip-existing": WriteMode.SKIP_EXISTING,
};

/** `--mode`. */
export function writeMode(text: string): WriteMode {
  const key = text.trim().toLowerCase();
  if (!Object.hasOwn(MODES, key)) throw usageError(`--mode must be one of ${Object.keys(MODES).join(", ")}, not ${JSON.stringify(text)}`);
  return MODES[key]!;
}

const STATES: Readonly<Record<string, JobState>> = { running: JobState.RUNNING, succeeded: JobState.SUCCEEDED, failed: JobState.FAILED, cancelled: JobState.CANCELLED };

/** `--state`. */
export function jobState(text: string): JobState {
  const key = text.trim().toLowerCase();
  if (!Object.hasOwn(STATES, key)) throw usageError(`--state must be one of ${Object.keys(STATES).join(", ")}, not ${JSON.stringify(text)}`);
  return STATES[key]!;
}

/** `--kind`. */
export function jobKind(text: string): JobKind {
  const key = text.trim().toLowerCase();
  if (key === "import") return JobKind.IMPORT;
  if (key === "export") return JobKind.EXPORT;
  if (key === "revert") return JobKind.REVERT;
  throw usageError(`--kind must be import, export or revert, not ${JSON.stringify(text)}`);
}

/** Lower-case names of enum values: JobState.SUCCEEDED → "succeeded". */
export function stateName(state: JobState): string {
  return Object.entries(STATES).find(([, s]) => s === state)?.[0] ?? "unknown";
}
