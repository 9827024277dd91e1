/**
 * A small, strict date parser for user-given formats such as "DD/MM/YYYY" or
 * "YYYY-MM-DD HH:mm". Files from other systems often carry local date forms
 * that {@link parseTimestamp} refuses as ambiguous; the person importing knows
 * the form, so the mapping names it and every cell must match it exactly.
 *
 * Tokens: `YYYY` (4-digit year), `MM` (month), `DD` (day), `HH` (hour, 24h),
 * `mm` (minutes), `ss` (seconds), each exactly 2 digits except the year. Any
 * other character must appear as is. Values are taken as UTC, like every
 * zone-less timestamp the service reads, so imports do not depend on the
 * server's time zone. Impossible dates (31/02/2024, 24:00) are refused rather
 * than rolled over the way `Date` would.
 */
import { TransferSettingsError } from "./errors.js";

const TOKENS = ["YYYY", "MM", "DD", "HH", "mm", "ss"] as const;
type Token = (typeof TOKENS)[number];

export interface DateFormat {
  /** The format as the user wrote it, for error messages. */
  format: string;
  /** Parses a cell; `undefined` when it does not match the format or is not a real date. */
  parse(text: string): Date | undefined;
}

/** Compiles a format once per job; a format without a year, month and day is a settings error. */
export function compileDateFormat(format: string, setting = "format"): DateFormat {
  const order: Token[] = [];
  let pattern = "^";
  let i = 0;
  while (i < format.length) {
    const token = TOKENS.find((t) => format.startsWith(t, i));
    if (token !== undefined) {
      if (order.includes(token)) throw new TransferSettingsError(`date format ${JSON.stringify(format)} has ${token} twice`, [{ setting, reason: `${token} appears twice` }]);
      order.push(token);
      pattern += token === "YYYY" ? "(\\d{4})" : "(\\d{2})";
      i += token.length;
    } else {
      pattern += format[i]!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      i++;
    }
  }
  for (const required of ["YYYY", "MM", "DD"] as const) {
    if (!order.includes(required)) {
      throw new TransferSettingsError(`date format ${JSON.stringify(format)} has no ${required}; use the tokens YYYY MM DD HH mm ss`, [{ setting, reason: `must contain YYYY, MM and DD` }]);
    }
  }
  const regex = new RegExp(`${pattern}$`);
  return {
    format,
    parse(text) {
      const m = regex.exec(text);
      if (m === null) return undefined;
      const part: Record<Token, number> = { YYYY: 0, MM: 1, DD: 1, HH: 0, mm: 0, ss: 0 };
      order.forEach((token, k) => (part[token] = Number(m[k + 1])));
      const { YYYY: year, MM: month, DD: day, HH: hour, mm: minute, ss: second } = part;
      if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
      if (hour > 23 || minute > 59 || second > 59) return undefined;
      const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
      date.setUTCFullYear(year); // Date.UTC maps years 0–99 to 1900–1999
      return date;
    },
  };
}

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
