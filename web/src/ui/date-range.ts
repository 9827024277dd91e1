/**
 * A range of whole days picked with two date inputs (yyyy-mm-dd, either may
 * be empty), as the timestamps a filter wants: from the start of the first
 * day, up to the start of the day after the last, so that the last day is
 * included. Days are UTC days, as the UI shows every time in UTC.
 */
import { timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";

const DAY_MS = 86_400_000;

/** The start of `day` (yyyy-mm-dd), or undefined when empty. */
export function startOfDay(day: string): Timestamp | undefined {
  return day ? timestampFromDate(new Date(`${day}T00:00:00Z`)) : undefined;
}

/** The start of the day after `day`: the end of a range that includes `day`. */
export function endOfDay(day: string): Timestamp | undefined {
  return day ? timestampFromDate(new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS)) : undefined;
}

/** Why the range cannot be asked for, or undefined when it can. */
export function dateRangeProblem(from: string, to: string): string | undefined {
  return from && to && from > to ? "The end date is before the start date." : undefined;
}
