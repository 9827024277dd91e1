/**
 * The `date` mapping transform's parser: dates in the form a file from another
 * system writes them ("DD/MM/YYYY", "YYYY-M-D H:mm:ss", "MMM D, YYYY", Unix
 * seconds), read strictly, in a time zone when they carry no offset.
 *
 * Formats use the tokens of Moment.js/Day.js, which Moodle, Canvas and most
 * import documentation quote: `YYYY YY M MM MMM MMMM D DD H HH h hh m mm s ss
 * S SS SSS (fractions of a second) A a (AM/PM) Z ZZ (offsets; a literal Z is
 * UTC) X (Unix seconds) x (Unix milliseconds)`, text in `[brackets]` as is,
 * every other character literally. Parsing is Luxon's (`DateTime.fromFormat`,
 * which is strict: no roll-over of 31/02); this file only translates the
 * tokens and adds what Luxon lets through silently — 24:00 (read as the next
 * day's midnight, as ISO 8601 allows), a local time that does
 * not exist in the zone (a daylight-saving gap, which Luxon moves an hour on)
 * or exists twice (the hour repeated when clocks go back) is refused, not
 * guessed; so are digits of a second past milliseconds that are not zeros
 * (SSSSSS, whose extra digits Luxon cuts; X with more than 3 decimals; x with
 * any), since a stored timestamp keeps milliseconds. Without a time zone,
 * dates without an offset are UTC, like every zone-less timestamp the service
 * reads, so imports never depend on the server's zone.
 */
import { DateTime, IANAZone } from "luxon";
import { TransferSettingsError } from "./errors.js";

export interface DateFormat {
  /** The format as the user wrote it, for error messages. */
  format: string;
  /** The time zone naive dates are read in (an IANA name, or "UTC"). */
  timeZone: string;
  /** Set when the format is a Unix timestamp alone (X seconds, x milliseconds), which a number cell can be too. */
  epoch?: "X" | "x";
  /** Parses a cell: the instant, or why the text is not a date of this format. */
  parse(text: string): { ok: true; date: Date } | { ok: false; reason: string };
}

/** Moment/Day.js tokens, longest first, and Luxon's for each. */
const TOKENS: readonly (readonly [moment: string, luxon: string])[] = [
  ["YYYY", "yyyy"],
  ["YY", "yy"],
  ["MMMM", "MMMM"],
  ["MMM", "MMM"],
  ["MM", "MM"],
  ["M", "M"],
  ["DD", "dd"],
  ["D", "d"],
  ["HH", "HH"],
  ["H", "H"],
  ["hh", "hh"],
  ["h", "h"],
  ["mm", "mm"],
  ["m", "m"],
  ["ss", "ss"],
  ["s", "s"],
  ["SSSSSSSSS", "u"],
  ["SSSSSS", "u"],
  ["SSS", "SSS"],
  ["SS", "uu"],
  ["S", "uuu"],
  ["A", "a"],
  ["a", "a"],
  ["ZZ", "ZZZ"],
  ["Z", "ZZ"],
  ["X", "X"],
  ["x", "x"],
];

const UTC_OFFSET: Record<string, string> = { ZZ: "+00:00", ZZZ: "+0000" };

/** Compiles a format once per job; a format that cannot name a day, or an unknown time zone, is a settings error naming `setting`. */
export function compileDateFormat(format: string, setting = "format", timeZone?: string): DateFormat {
  const refuse = (reason: string, at = setting): never => {
    throw new TransferSettingsError(`date format ${JSON.stringify(format)}: ${reason}`, [{ setting: at, reason }]);
  };
  const zoneSetting = setting.replace(/format$/, "timeZone");
  if (timeZone !== undefined && timeZone !== "UTC" && !IANAZone.isValidZone(timeZone)) {
    const reason = `unknown time zone ${JSON.stringify(timeZone)}; give an IANA name such as "Europe/Berlin" or "America/Denver"`;
    throw new TransferSettingsError(reason, [{ setting: zoneSetting, reason }]);
  }
  const { luxon, used } = translate(format, refuse);
  const epoch = used.length === 1 && (used[0] === "X" || used[0] === "x") ? used[0] : undefined;
  if (!epoch) {
    if (used.includes("X") || used.includes("x")) refuse("X and x are a whole timestamp and cannot be combined with other tokens");
    const has = (...tokens: string[]) => tokens.some((t) => used.includes(t));
    if (!has("YYYY", "YY") || !has("M", "MM", "MMM", "MMMM") || !has("D", "DD")) refuse("needs a year (YYYY or YY), a month (M, MM, MMM or MMMM) and a day (D or DD), or X or x alone");
    const twice = used.find((t, i) => used.indexOf(t) !== i);
    if (twice) refuse(`has ${twice} twice`);
  }
  const zone = timeZone ?? "UTC";
  const usesHour = used.some((t) => t === "H" || t === "HH");
  const usesMicros = used.some((t) => t === "SSSSSS" || t === "SSSSSSSSS");
  const offsetToken = TOKENS.find(([m]) => m === used.find((t) => t === "Z" || t === "ZZ"))?.[1];

  const parse = (text: string): { ok: true; date: Date } | { ok: false; reason: string } => {
    const mismatch = { ok: false as const, reason: `does not match the date format ${JSON.stringify(format)}` };
    if (epoch) {
      const m = (epoch === "X" ? /^(-?)(\d{1,12})(?:\.(\d+))?$/ : /^(-?)(\d{1,15})(?:\.(\d+))?$/).exec(text);
      if (!m) return mismatch;
      // Milliseconds are what a stored timestamp keeps: digits finer than that must be zeros, never cut or rounded.
      const [, sign, whole, fraction = ""] = m;
      const places = epoch === "X" ? 3 : 0;
      if (/[1-9]/.test(fraction.slice(places))) return { ok: false, reason: finerThanMilliseconds(text, epoch === "x" ? "a whole number" : "3 decimals") };
      const ms = Number(whole) * 10 ** places + Number(fraction.slice(0, places).padEnd(places, "0") || "0");
      const date = new Date(sign === "-" ? -ms : ms);
      return Number.isNaN(date.getTime()) ? mismatch : { ok: true, date };
    }
    // A literal Z where an offset is expected is UTC (as Moment reads it; Luxon wants digits).
    const input = offsetToken && /[Zz]$/.test(text) && luxon.endsWith(offsetToken) ? text.slice(0, -1) + UTC_OFFSET[offsetToken] : text;
    const parsed = DateTime.fromFormat(input, luxon, { zone, locale: "en-US" });
    if (!parsed.isValid) return mismatch;
    const explained = usesHour || usesMicros ? DateTime.fromFormatExplain(input, luxon, { locale: "en-US" }) : undefined;
    // Luxon reads 24:00 as the next day's midnight (ISO 8601 allows it); a file's 24:00 is more likely a mistake.
    if (usesHour && explained?.result?.hour === 24) return mismatch;
    // SSSSSS and SSSSSSSSS read up to 9 digits, and Luxon keeps the first 3: a stored timestamp has milliseconds, so finer digits must be zeros.
    const fraction: unknown = explained?.matches?.u;
    if (usesMicros && typeof fraction === "string" && /[1-9]/.test(fraction.slice(3))) return { ok: false, reason: finerThanMilliseconds(text) };
    if (!offsetToken && zone !== "UTC") {
      const offsets = parsed.getPossibleOffsets();
      const wall = DateTime.fromFormat(input, luxon, { zone: "UTC", locale: "en-US" });
      if (offsets.length === 0 || parsed.hour !== wall.hour || parsed.minute !== wall.minute) return { ok: false, reason: `${JSON.stringify(text)} does not exist in ${zone} (the clocks skip it)` };
      if (offsets.length > 1) return { ok: false, reason: `${JSON.stringify(text)} happens twice in ${zone} (the clocks go back); give a time with an offset` };
    }
    return { ok: true, date: parsed.toJSDate() };
  };
  return { format, timeZone: zone, epoch, parse };
}

/** The refusal of a fraction of a second finer than a millisecond, which a stored timestamp cannot keep. */
function finerThanMilliseconds(text: string, roundTo = "3 decimals"): string {
  return `${JSON.stringify(text)} is more precise than milliseconds, which is what a stored timestamp keeps: round it to ${roundTo} in the file`;
}

/** Luxon's format for a Moment-style one, and the Moment tokens it uses in order. */
function translate(format: string, refuse: (reason: string) => never): { luxon: string; used: string[] } {
  let luxon = "";
  let literal = "";
  const used: string[] = [];
  const flush = () => {
    if (literal) luxon += `'${literal.replace(/'/g, "''")}'`;
    literal = "";
  };
  for (let i = 0; i < format.length; ) {
    if (format[i] === "[") {
      const end = format.indexOf("]", i);
      if (end < 0) refuse('has an unclosed "["');
      literal += format.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    const token = TOKENS.find(([m]) => format.startsWith(m, i));
    if (token) {
      flush();
      luxon += token[1];
      used.push(token[0]);
      i += token[0].length;
    } else {
      literal += format[i];
      i++;
    }
  }
  flush();
  return { luxon, used };
}
