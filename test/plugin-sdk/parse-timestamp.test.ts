import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseTimestamp } from "../../formats/_sdk/index.js";

/**
 * An export's own spelling (`2024-03-07T14:30:00.000Z`) is read digit by digit
 * rather than through the general patterns; the same text with a space in
 * front goes the general way. Whatever the text, both must read the same.
 */
describe("parseTimestamp of an export's spelling", () => {
  const two = (max: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, "0"));
  const year = fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(50, 1900, 2000, 2023, 2024, 2100)).map((n) => String(n).padStart(4, "0"));
  const millis = fc.option(fc.integer({ min: 0, max: 999 }).map((n) => String(n).padStart(3, "0")));
  /** Near the exported form: its shape with parts in and just out of range (month 13, 29–31 February, hour 24), other zones and separators. */
  const nearExported = fc
    .tuple(year, two(13), two(32), two(25), two(61), two(61), millis, fc.constantFrom("Z", "Z", "Z", "z", "", "+01:00", "Zx"), fc.constantFrom("T", "T", "T", "t", " ", "-"))
    .map(([y, mo, d, h, mi, s, ms, zone, t]) => `${y}-${mo}-${d}${t}${h}:${mi}:${s}${ms === null ? "" : `.${ms}`}${zone}`);
  const mutated = fc.tuple(nearExported, fc.nat(), fc.constantFrom("-", ":", ".", "T", "Z", "a", "٣", "5", "")).map(([s, at, c]) => {
    const i = at % s.length;
    return s.slice(0, i) + c + s.slice(i + 1);
  });

  it("reads every text as the general way reads the same text with a space before it", () => {
    fc.assert(
      fc.property(fc.oneof(nearExported, mutated), (text) => {
        expect(parseTimestamp(text)).toEqual(parseTimestamp(` ${text}`));
      }),
      { numRuns: 20_000 },
    );
  });

  it.each([
    ["2024-03-07T14:30:00.000Z", "2024-03-07T14:30:00.000Z"],
    ["2024-03-07T14:30:00Z", "2024-03-07T14:30:00.000Z"],
    ["2024-02-29T23:59:59.999Z", "2024-02-29T23:59:59.999Z"],
    ["9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"],
  ])("reads %s as %s", (text, iso) => {
    const result = parseTimestamp(text);
    expect(result.ok && result.value.toISOString()).toBe(iso);
  });

  it.each([
    ["2023-02-29T00:00:00.000Z", "invalid day"],
    ["2024-13-01T00:00:00.000Z", "invalid month"],
    ["2024-01-01T24:00:00.000Z", "invalid hour"],
    ["2024-01-01T00:60:00.000Z", "invalid minute"],
  ])("refuses %s with the general way's words (%s)", (text, words) => {
    const result = parseTimestamp(text);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toContain(words);
  });

  it("keeps years below 100 as written, not as 1900–1999", () => {
    const result = parseTimestamp("0050-06-01T00:00:00.000Z");
    expect(result.ok && result.value.getUTCFullYear()).toBe(50);
  });
});
