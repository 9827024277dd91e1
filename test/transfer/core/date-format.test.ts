/** The strict date parser behind the `date` mapping transform (Moment/Day.js tokens, parsed by Luxon). */
import { describe, expect, it } from "vitest";
import { compileDateFormat, TransferSettingsError } from "../../../services/transfer/core/index.js";

/** The instant a format reads from a text, or undefined when it refuses it. */
const at = (format: string, text: string, timeZone?: string) => {
  const parsed = compileDateFormat(format, "format", timeZone).parse(text);
  return parsed.ok ? parsed.date : undefined;
};
const why = (format: string, text: string, timeZone?: string) => {
  const parsed = compileDateFormat(format, "format", timeZone).parse(text);
  return parsed.ok ? "parsed" : parsed.reason;
};

describe("date formats", () => {
  it("read day-first dates as UTC midnight", () => {
    expect(at("DD/MM/YYYY", "07/03/2024")).toEqual(new Date("2024-03-07T00:00:00Z"));
    expect(at("DD/MM/YYYY", "29/02/2024")).toEqual(new Date("2024-02-29T00:00:00Z"));
  });

  it("read dates with hours, minutes and seconds", () => {
    expect(at("YYYY-MM-DD HH:mm", "2024-03-07 14:30")).toEqual(new Date("2024-03-07T14:30:00Z"));
    expect(at("YYYYMMDDTHHmmss", "20240307T143005")).toEqual(new Date("2024-03-07T14:30:05Z"));
    expect(at("MM.DD.YYYY", "12.31.0099")).toEqual(new Date("0099-12-31T00:00:00Z"));
  });

  it("read non-padded numbers, two-digit years, month names and 12-hour clocks", () => {
    expect(at("YYYY-M-D H:mm:ss", "2013-1-3 7:05:09")).toEqual(new Date("2013-01-03T07:05:09Z"));
    expect(at("D/M/YY", "3/2/24")).toEqual(new Date("2024-02-03T00:00:00Z"));
    expect(at("MMM D, YYYY", "Mar 5, 2024")).toEqual(new Date("2024-03-05T00:00:00Z"));
    expect(at("MMMM D, YYYY", "September 15, 2023")).toEqual(new Date("2023-09-15T00:00:00Z"));
    expect(at("YYYY-M-D h:mm A", "2024-3-5 1:07 PM")).toEqual(new Date("2024-03-05T13:07:00Z"));
  });

  it("read fractional seconds and offsets, a literal Z as UTC", () => {
    expect(at("YYYY-MM-DD HH:mm:ss.SSS", "2024-01-02 03:04:05.123")).toEqual(new Date("2024-01-02T03:04:05.123Z"));
    expect(at("YYYY-MM-DD HH:mm:ss.S", "2024-01-02 03:04:05.5")).toEqual(new Date("2024-01-02T03:04:05.500Z"));
    expect(at("YYYY-MM-DD HH:mm:ss.SSSSSS", "2024-01-02 03:04:05.123000")).toEqual(new Date("2024-01-02T03:04:05.123Z"));
    expect(at("YYYY-MM-DD HH:mm:ss.SSSSSSSSS", "2024-01-02 03:04:05.120000000")).toEqual(new Date("2024-01-02T03:04:05.120Z"));
    expect(at("YYYY-MM-DD[T]HH:mm:ss.SSSZ", "2024-01-02T03:04:05.123+02:00")).toEqual(new Date("2024-01-02T01:04:05.123Z"));
    expect(at("YYYY-MM-DD HH:mm:ss ZZ", "2024-01-02 03:04:05 -0700")).toEqual(new Date("2024-01-02T10:04:05Z"));
    expect(at("YYYY-MM-DDTHH:mm:ssZ", "2024-01-02T03:04:05Z")).toEqual(new Date("2024-01-02T03:04:05Z"));
  });

  it("refuse digits of a second past milliseconds that are not zeros, which a stored timestamp cannot keep, instead of cutting them", () => {
    const finer = (text: string, roundTo = "3 decimals") => `${JSON.stringify(text)} is more precise than milliseconds, which is what a stored timestamp keeps: round it to ${roundTo} in the file`;
    expect(why("YYYY-MM-DD HH:mm:ss.SSSSSS", "2024-01-02 03:04:05.123456")).toBe(finer("2024-01-02 03:04:05.123456"));
    expect(why("YYYY-MM-DD HH:mm:ss.SSSSSSSSS", "2024-01-02 03:04:05.999999999")).toBe(finer("2024-01-02 03:04:05.999999999"));
    expect(why("YYYY-MM-DD[T]HH:mm:ss.SSSSSSZ", "2024-01-02T03:04:05.000001Z")).toBe(finer("2024-01-02T03:04:05.000001Z"));
    expect(why("X", "1700000000.1234")).toBe(finer("1700000000.1234"));
    expect(why("x", "1700000000123.5")).toBe(finer("1700000000123.5", "a whole number"));
  });

  it("read Unix seconds (X) and milliseconds (x)", () => {
    expect(at("X", "1700000000")).toEqual(new Date("2023-11-14T22:13:20Z"));
    expect(at("X", "1700000000.25")).toEqual(new Date("2023-11-14T22:13:20.250Z"));
    expect(at("X", "1700000000.123000")).toEqual(new Date("2023-11-14T22:13:20.123Z"));
    expect(at("X", "-1.5")).toEqual(new Date("1969-12-31T23:59:58.500Z"));
    expect(at("x", "1700000000123")).toEqual(new Date("2023-11-14T22:13:20.123Z"));
    expect(at("x", "1700000000123.000")).toEqual(new Date("2023-11-14T22:13:20.123Z"));
    for (const text of ["", "17e8", "1700000000.1234", " 1700000000", "0x10", "1700000000.", ".5"]) expect(at("X", text), text).toBeUndefined();
  });

  it("read a naive time in the time zone given: Canvas' own sample in America/Denver, winter and summer", () => {
    expect(at("YYYY-M-DD HH:mm:ss", "2013-1-03 00:00:00", "America/Denver")).toEqual(new Date("2013-01-03T07:00:00Z"));
    expect(at("YYYY-M-DD HH:mm:ss", "2013-7-03 00:00:00", "America/Denver")).toEqual(new Date("2013-07-03T06:00:00Z"));
    // A time with its own offset is that instant whatever the zone.
    expect(at("YYYY-MM-DD HH:mmZ", "2013-01-03 00:00+01:00", "America/Denver")).toEqual(new Date("2013-01-02T23:00:00Z"));
  });

  it("refuse a local time the zone skips or repeats instead of moving or guessing it", () => {
    expect(why("YYYY-MM-DD HH:mm", "2024-03-10 02:30", "America/Denver")).toBe('"2024-03-10 02:30" does not exist in America/Denver (the clocks skip it)');
    expect(why("YYYY-MM-DD HH:mm", "2024-11-03 01:30", "America/Denver")).toBe('"2024-11-03 01:30" happens twice in America/Denver (the clocks go back); give a time with an offset');
    expect(at("YYYY-MM-DD HH:mm", "2024-11-03 02:30", "America/Denver")).toEqual(new Date("2024-11-03T09:30:00Z"));
  });

  it("refuse anything that does not match exactly", () => {
    for (const text of ["7/3/2024", "07/03/24", "07-03-2024", " 07/03/2024", "07/03/2024 10:00", "2024-03-07", "", "aa/bb/cccc"]) {
      expect(at("DD/MM/YYYY", text), text).toBeUndefined();
    }
    expect(why("DD/MM/YYYY", "7/3/2024")).toBe('does not match the date format "DD/MM/YYYY"');
  });

  it("refuse impossible dates and times instead of rolling them over", () => {
    for (const [format, text] of [
      ["DD/MM/YYYY", "31/02/2024"],
      ["DD/MM/YYYY", "29/02/2023"],
      ["DD/MM/YYYY", "29/02/1900"],
      ["DD/MM/YYYY", "01/13/2024"],
      ["DD/MM/YYYY", "00/01/2024"],
      ["YYYY-MM-DD HH:mm", "2024-01-01 24:00"],
      ["YYYY-MM-DD HH:mm:ss", "2024-01-01 23:59:60"],
      ["YYYY-MM-DD[T]HH:mm:ssZ", "2024-02-31T03:04:05+02:00"],
      ["MMM D, YYYY", "Feb 30, 2024"],
    ]) {
      expect(at(format!, text!), `${format} ${text}`).toBeUndefined();
    }
    expect(at("DD/MM/YYYY", "29/02/2000")).toEqual(new Date("2000-02-29T00:00:00Z"));
  });

  it("treat other characters, including regex ones and [bracketed] text, as literals", () => {
    expect(at("(YYYY).MM*DD", "(2024).03*07")).toEqual(new Date("2024-03-07T00:00:00Z"));
    expect(at("(YYYY).MM*DD", "(2024)x03*07")).toBeUndefined();
    expect(at("[Day] D [of] MMMM YYYY", "Day 7 of March 2024")).toEqual(new Date("2024-03-07T00:00:00Z"));
  });

  it("are settings errors when they lack a year, month or day, repeat a token, mix X with others or name an unknown zone", () => {
    for (const format of ["DD/MM", "HH:mm", "YYYY-MM-DD-DD", "dd/mm/yyyy", "X YYYY", "[YYYY-MM-DD", "YYYY-MM-DD x"]) {
      expect(() => compileDateFormat(format), format).toThrow(TransferSettingsError);
    }
    expect(() => compileDateFormat("YYYY-MM-DD", "mapping[1].transforms[0].format", "Mars/Olympus")).toThrow(
      'unknown time zone "Mars/Olympus"; give an IANA name such as "Europe/Berlin" or "America/Denver"',
    );
    try {
      compileDateFormat("YYYY-MM-DD", "mapping[1].transforms[0].format", "Mars/Olympus");
    } catch (error) {
      expect((error as TransferSettingsError).issues).toEqual([{ setting: "mapping[1].transforms[0].timeZone", reason: expect.stringContaining('unknown time zone "Mars/Olympus"') }]);
    }
  });
});
