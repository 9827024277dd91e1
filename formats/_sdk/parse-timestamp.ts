/**
 * Timestamp parsing for values that arrive as text (CSV cells, JSON strings).
 *
 * `Date.parse` is deliberately not the main path: it accepts anything V8 can
 * guess ("2", "March 7"), silently maps 2024-02-30 to March 1st and reads
 * zone-less ISO dates as UTC but zone-less date-times as local time. Imports
 * must be reproducible on any server, so this accepts a small set of forms,
 * checks every component, and treats a missing zone as UTC. A stored timestamp
 * (a BSON date) keeps milliseconds, so digits of a second beyond the third are
 * taken only when they are zeros (`.123000`); `.1234567` is refused rather
 * than cut to `.123`, which would change the value without a word.
 */

/** Why a text was refused, or the parsed instant. */
export type TimestampResult = { ok: true; value: Date } | { ok: false; reason: string };

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$/;
const YMD_SLASH = /^(\d{4})\/(\d{1,2})\/(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?$/;
const DMY_DOT = /^(\d{1,2})\.(\d{1,2})\.(\d{4})(?: (\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?$/;
const XY_SLASH = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?: (\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?$/;
/** RFC 2822 / HTTP dates as mail and web servers write them: always carry a zone, so Date.parse is exact. */
const RFC2822 = /^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),\s*)?\d{1,2}\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+\d{4}\s+\d{2}:\d{2}(?::\d{2})?\s*(?:GMT|UTC|[+-]\d{4})$/i;

const HINT = "use ISO 8601, e.g. 2024-03-07T14:30:00Z";

/**
 * xsd:dateTime / ISO 8601 as spreadsheets store a typed date cell (an ODS
 * `office:date-value`, an XLSX `t="d"` cell): only that form, years of any
 * length and sign as xsd allows, every component checked and a missing zone
 * taken as UTC — the same rules as a text cell's, so a typed cell cannot slip
 * past them. `new Date(text)` would roll 2024-02-30 into March, read a
 * zone-less date-time in the server's own zone and cut digits past the third.
 */
export function parseIsoTimestamp(text: string): TimestampResult {
  const s = text.trim();
  const m = XSD_DATE_TIME.exec(s);
  if (!m) return { ok: false, reason: `not an ISO 8601 date-time: ${JSON.stringify(clip(s))}` };
  return build(s, m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8]);
}

const XSD_DATE_TIME = /^(-?\d{4,})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?(Z|[+-]\d{2}:\d{2})?$/;

/** Parses a timestamp text; a zone-less value is taken as UTC. */
export function parseTimestamp(text: string): TimestampResult {
  const exported = exportedForm(text);
  if (exported !== undefined) return exported;
  const s = text.trim();
  let m = ISO.exec(s);
  if (m) return build(s, m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8]);
  m = YMD_SLASH.exec(s);
  if (m) return build(s, m[1], m[2], m[3], m[4], m[5], m[6], m[7]);
  m = DMY_DOT.exec(s);
  if (m) return build(s, m[3], m[2], m[1], m[4], m[5], m[6], m[7]);
  m = XY_SLASH.exec(s);
  if (m) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    // 03/04/2024 is March 4th in the US and April 3rd elsewhere: refuse rather than guess.
    if (a <= 12 && b <= 12 && a !== b) return { ok: false, reason: `ambiguous date ${JSON.stringify(s)} (month/day order unknown); ${HINT}` };
    const [month, day] = a > 12 ? [m[2], m[1]] : [m[1], m[2]];
    return build(s, m[3], month, day, m[4], m[5], m[6], m[7]);
  }
  if (RFC2822.test(s)) {
    const t = Date.parse(s);
    if (!Number.isNaN(t)) return { ok: true, value: new Date(t) };
  }
  return { ok: false, reason: `not a timestamp: ${JSON.stringify(clip(s))}; ${HINT}` };
}

/**
 * `2024-03-07T14:30:00.000Z` and `2024-03-07T14:30:00Z`, read digit by digit;
 * undefined for any other text, which {@link parseTimestamp} reads the
 * general way. Why: these are what every export writes, so a re-import reads
 * little else, two a session row; the general way's match array and its nine
 * substrings were 15 % of what the transfer service allocated a row (a
 * sampling heap profile of a 100k import, 3 December 2026). The same checks as
 * `build`, and the same result for every text (tested against it).
 */
function exportedForm(s: string): TimestampResult | undefined {
  const length = s.length;
  if (length !== 20 && length !== 24) return undefined;
  if (s.charCodeAt(4) !== 0x2d || s.charCodeAt(7) !== 0x2d || s.charCodeAt(10) !== 0x54 || s.charCodeAt(13) !== 0x3a || s.charCodeAt(16) !== 0x3a) return undefined; // - - T : :
  if (s.charCodeAt(length - 1) !== 0x5a) return undefined; // Z
  if (length === 24 && s.charCodeAt(19) !== 0x2e) return undefined; // .
  const year = twoDigits(s, 0) * 100 + twoDigits(s, 2);
  const month = twoDigits(s, 5);
  const day = twoDigits(s, 8);
  const hour = twoDigits(s, 11);
  const minute = twoDigits(s, 14);
  const second = twoDigits(s, 17);
  const ms = length === 24 ? twoDigits(s, 20) * 10 + digitAt(s, 22) : 0;
  // Not digits (NaN), years 0–99 (Date.UTC would read them as 1900–1999; build sets them literally), parts out of range (for build's words).
  if (!(year >= 100 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) && hour <= 23 && minute <= 59 && second <= 59 && ms >= 0)) return undefined;
  return { ok: true, value: new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms)) };
}

/** The decimal digit at `at`, or NaN. */
function digitAt(s: string, at: number): number {
  const code = s.charCodeAt(at);
  return code >= 0x30 && code <= 0x39 ? code - 0x30 : Number.NaN;
}

/** The two decimal digits at `at` as a number, or NaN. */
function twoDigits(s: string, at: number): number {
  return digitAt(s, at) * 10 + digitAt(s, at + 1);
}

function build(source: string, y: string | undefined, mo: string | undefined, d: string | undefined, h?: string, mi?: string, sec?: string, frac?: string, zone?: string): TimestampResult {
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = h === undefined ? 0 : Number(h);
  const minute = mi === undefined ? 0 : Number(mi);
  const second = sec === undefined ? 0 : Number(sec);
  // A stored timestamp keeps milliseconds: finer digits are taken only when they change nothing.
  if (frac !== undefined && /[1-9]/.test(frac.slice(3))) return { ok: false, reason: finerThanMilliseconds(source) };
  const ms = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, "0"));
  if (month < 1 || month > 12) return invalid(source, "month");
  if (day < 1 || day > daysInMonth(year, month)) return invalid(source, "day");
  // 24:00:00 is ISO's "end of day"; accepting it would make two spellings of one instant, so it is refused.
  if (hour > 23) return invalid(source, "hour");
  if (minute > 59) return invalid(source, "minute");
  if (second > 59) return invalid(source, "second");
  let offsetMinutes = 0;
  if (zone !== undefined && zone !== "Z" && zone !== "z" && zone !== "UTC") {
    const sign = zone[0] === "-" ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) return invalid(source, "zone offset");
    offsetMinutes = sign * (oh * 60 + om);
  }
  const t = utcTime(year, month, day, hour, minute, second, ms) - offsetMinutes * 60_000;
  if (Number.isNaN(t)) return invalid(source, "range");
  return { ok: true, value: new Date(t) };
}

/** The refusal of a fraction of a second finer than a millisecond, which a stored timestamp cannot keep. */
function finerThanMilliseconds(source: string): string {
  return `${JSON.stringify(clip(source))} is more precise than milliseconds, which is what a stored timestamp keeps: round it to 3 decimals in the file`;
}

/** Milliseconds since the epoch of a UTC date-time whose parts are in range. */
function utcTime(year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number): number {
  if (year >= 100) return Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // setUTCFullYear keeps years 0-99 literal, Date.UTC would add 1900
  date.setUTCHours(hour, minute, second, ms);
  return date.getTime();
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  if (month === 2 && isLeap(year)) return 29;
  return DAYS_IN_MONTH[month - 1] ?? 0;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function invalid(source: string, part: string): TimestampResult {
  return { ok: false, reason: `invalid ${part} in timestamp ${JSON.stringify(clip(source))}` };
}

/** Keeps error messages short when a cell holds a whole paragraph. */
export function clip(s: string, max = 60): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
