/**
 * Excel's date serials and the number formats that make a number a date.
 *
 * A date in a workbook is a number of days with a date format on its
 * cell. In the 1900 date system, day 1 is 1900-01-01 and Excel (after
 * Lotus 1-2-3) counts a 29 February 1900 that never was, so serials from 61
 * on are days since 1899-12-30 and those below 60 are one day off. In the
 * 1904 date system (old Mac workbooks, `<workbookPr date1904="1">`) day 0
 * is 1904-01-01 and there is no such gap.
 */

const DAY_MS = 86_400_000;
/** 1899-12-30T00:00:00Z: serial 0 for serials ≥ 61 in the 1900 system. */
const EPOCH_1900 = Date.UTC(1899, 11, 30);
const EPOCH_1904 = Date.UTC(1904, 0, 1);
/** 1900-03-01, serial 61: the first date whose serial is the same in Excel, LibreOffice and every reader. */
const FIRST_WRITABLE = Date.UTC(1900, 2, 1);
/** 9999-12-31T23:59:59.999, the last date Excel shows. */
const LAST_WRITABLE = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * The serial for a date, or `undefined` when Excel cannot show it as a date
 * (before 1900-03-01 or after 9999): the writer then writes the ISO text, so
 * the value is kept and readable instead of showing as `#####`.
 */
export function dateToSerial(date: Date): number | undefined {
  const t = date.getTime();
  if (!(t >= FIRST_WRITABLE && t <= LAST_WRITABLE)) return undefined;
  return (t - EPOCH_1900) / DAY_MS;
}

/** The instant for a serial, to the millisecond (times are stored as fractions of a day; rounding undoes the float error). */
export function serialToDate(serial: number, date1904: boolean): Date | undefined {
  if (!Number.isFinite(serial) || serial < 0) return undefined;
  let days = serial;
  if (date1904) return new Date(Math.round(EPOCH_1904 + days * DAY_MS));
  if (days < 61) {
    // Serials 1–59 are Jan 1 – Feb 28 1900 counted from 1899-12-31; 60 is Excel's phantom Feb 29, read as Mar 1.
    if (days >= 60) days = 61 + (days - 60);
    else days += 1;
  }
  const t = Math.round(EPOCH_1900 + days * DAY_MS);
  return t <= LAST_WRITABLE + DAY_MS ? new Date(t) : undefined;
}

/** What a number format makes of a number. */
export type NumberKind = "number" | "date" | "duration";

/** Built-in format ids (ECMA-376 §18.8.30) that show dates or times; 46 and 47 are elapsed time. */
const BUILT_IN: Record<number, NumberKind> = {
  14: "date",
  15: "date",
  16: "date",
  17: "date",
  18: "duration",
  19: "duration",
  20: "duration",
  21: "duration",
  22: "date",
  27: "date",
  28: "date",
  29: "date",
  30: "date",
  31: "date",
  32: "duration",
  33: "duration",
  34: "duration",
  35: "duration",
  36: "date",
  45: "duration",
  46: "duration",
  47: "duration",
  50: "date",
  51: "date",
  52: "date",
  53: "date",
  54: "date",
  55: "date",
  56: "date",
  57: "date",
  58: "date",
};

/**
 * Kind of a format: "date" when it shows a calendar date (y, d, or m next to
 * them), "duration" when it shows only a time of day or elapsed time
 * (`h:mm`, `[h]:mm:ss`), "number" otherwise. Quoted text, escaped
 * characters, colours and conditions (`[Red]`, `[<100]`) are not tokens.
 */
export function numberFormatKind(id: number, code: string | undefined): NumberKind {
  if (code === undefined) return BUILT_IN[id] ?? "number";
  let plain = "";
  for (let i = 0; i < code.length; i++) {
    const c = code[i]!;
    if (c === '"') {
      const end = code.indexOf('"', i + 1);
      i = end < 0 ? code.length : end;
    } else if (c === "\\" || c === "_" || c === "*") i++;
    else if (c === "[") {
      const end = code.indexOf("]", i + 1);
      const inner = code.slice(i + 1, end < 0 ? code.length : end).toLowerCase();
      if (/^(h+|m+|s+)$/.test(inner)) plain += "[e]"; // elapsed hours/minutes/seconds
      i = end < 0 ? code.length : end;
    } else plain += c.toLowerCase();
  }
  // Only the first section (positive numbers) decides.
  const first = plain.split(";")[0]!;
  if (first.includes("general")) return "number";
  if (/[yd]/.test(first)) return "date";
  if (first.includes("[e]") || /[hs]/.test(first)) return "duration";
  // "m" or "mmm" alone is a month.
  if (/m/.test(first)) return "date";
  return "number";
}

/** Days as an ISO 8601 duration, "PT255H10M10S" (what a duration or time-of-day cell reads as). */
export function daysToDuration(days: number): string {
  const sign = days < 0 ? "-" : "";
  let ms = Math.round(Math.abs(days) * DAY_MS);
  const h = Math.floor(ms / 3_600_000);
  ms -= h * 3_600_000;
  const m = Math.floor(ms / 60_000);
  ms -= m * 60_000;
  const s = ms / 1000;
  return `${sign}PT${h}H${m}M${Number.isInteger(s) ? s : s.toFixed(3).replace(/0+$/, "")}S`;
}
