/**
 * google.protobuf.Timestamp to Date, without rounding.
 *
 * Protobuf-ES's `timestampDate` rounds `nanos` to the nearest millisecond,
 * because a Date (and a stored BSON date) holds milliseconds: a record written
 * with `startedAt` 10:00:00.000999999 would be stored as 10:00:00.001, and a
 * `from` bound of 10:00:00.0005 would select a record stamped 10:00:00.000
 * that lies before it — both without a word. A time that a millisecond holds
 * exactly (nanos a multiple of 1,000,000) is taken; any other is refused by
 * the caller with {@link finerThanMillisecondsReason}, as files' timestamp
 * cells are (formats/_sdk/parse-timestamp.ts).
 */
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";

/** The Date a Timestamp is, or undefined when it is finer than a millisecond. */
export function millisecondDate(ts: Timestamp): Date | undefined {
  return ts.nanos % 1_000_000 === 0 ? timestampDate(ts) : undefined;
}

/**
 * Why `name` is refused. For a bound ("at or after", "before") the next whole
 * millisecond selects the same records, since stored times are whole
 * milliseconds; for a value, the caller decides how to round.
 */
export function finerThanMillisecondsReason(name: string, ts: Timestamp, kind: "value" | "bound"): string {
  const what = `${name} is more precise than milliseconds (${ts.nanos} nanoseconds past the second), which is what a stored time keeps`;
  if (kind === "value") return `${what}: round it to whole milliseconds`;
  const next = new Date(Number(ts.seconds) * 1000 + Math.ceil(ts.nanos / 1_000_000)).toISOString();
  return `${what}: give it in whole milliseconds (${next} selects the same records)`;
}
