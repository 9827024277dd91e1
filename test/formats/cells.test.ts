import { describe, expect, it } from "vitest";
import { coerceCell, formatCell, toTabularRow, type CellValue, type FieldType } from "../../formats/_sdk/index.js";

const ok = (value: unknown) => ({ ok: true, value });
const refused = { ok: false, reason: expect.any(String) };

describe("coerceCell", () => {
  it("keeps missing missing and null null for every type", () => {
    for (const type of ["string", "number", "boolean", "timestamp", "object", "string_list", "object_list"] as const) {
      expect(coerceCell(undefined, type)).toEqual(ok(undefined));
      expect(coerceCell(null, type)).toEqual(ok(null));
    }
  });

  it("keeps an empty string as text but treats it as missing for other types", () => {
    expect(coerceCell("", "string")).toEqual(ok(""));
    expect(coerceCell("", "number")).toEqual(ok(undefined));
    expect(coerceCell("  ", "timestamp")).toEqual(ok(undefined));
    expect(coerceCell("", "boolean")).toEqual(ok(undefined));
  });

  it.each([
    ["42", 42],
    [" -3.5 ", -3.5],
    ["1e3", 1000],
    [".5", 0.5],
    ["+7", 7],
    [12, 12],
  ])("reads %j as the number %j", (input, expected) => {
    expect(coerceCell(input, "number")).toEqual(ok(expected));
  });

  it.each(["abc", "NaN", "Infinity", "-Infinity", "0x10", "1,5", "1 000", "1e999", "12abc"])("refuses %j as a number", (input) => {
    expect(coerceCell(input, "number")).toEqual(refused);
  });

  it("refuses non-finite numbers that arrive as numbers", () => {
    expect(coerceCell(Number.NaN, "number")).toEqual(refused);
    expect(coerceCell(Number.POSITIVE_INFINITY, "number")).toEqual(refused);
  });

  it.each([
    ["true", true],
    ["FALSE", false],
    ["1", true],
    ["0", false],
    [" Yes ", true],
    ["no", false],
    [true, true],
    [0, false],
  ])("reads %j as the boolean %j", (input, expected) => {
    expect(coerceCell(input, "boolean")).toEqual(ok(expected));
  });

  it.each(["maybe", "2", "y"])("refuses %j as a boolean", (input) => {
    expect(coerceCell(input, "boolean")).toEqual(refused);
  });

  it.each([
    ["2024-03-07T14:30:00.123Z", "2024-03-07T14:30:00.123Z"],
    ["2024-03-07T14:30:00+02:00", "2024-03-07T12:30:00.000Z"],
    ["2024-03-07T14:30:00-0530", "2024-03-07T20:00:00.000Z"],
    ["2024-03-07 14:30", "2024-03-07T14:30:00.000Z"],
    ["2024-03-07", "2024-03-07T00:00:00.000Z"],
    ["2024/3/7", "2024-03-07T00:00:00.000Z"],
    ["07.03.2024", "2024-03-07T00:00:00.000Z"],
    ["10/18/2010", "2010-10-18T00:00:00.000Z"],
    ["18/10/2010 08:15", "2010-10-18T08:15:00.000Z"],
    ["Thu, 07 Mar 2024 14:30:00 GMT", "2024-03-07T14:30:00.000Z"],
    ["0099-01-01", "0099-01-01T00:00:00.000Z"],
    ["2024-03-07T14:30:00.123000Z", "2024-03-07T14:30:00.123Z"],
    ["2024-03-07 14:30:00,5000000", "2024-03-07T14:30:00.500Z"],
  ])("reads %j as the instant %s (no zone means UTC)", (input, iso) => {
    const r = coerceCell(input, "timestamp");
    expect(r.ok && r.value instanceof Date && r.value.toISOString()).toBe(iso);
  });

  it.each(["2023-02-29", "2024-13-01", "2024-01-01T24:00:00Z", "03/04/2024", "yesterday", "2024", "March 7"])("refuses %j as a timestamp", (input) => {
    expect(coerceCell(input, "timestamp")).toEqual(refused);
  });

  it("explains an ambiguous day/month order instead of guessing", () => {
    const r = coerceCell("03/04/2024", "timestamp");
    expect(!r.ok && r.reason).toMatch(/ambiguous/);
  });

  it.each([
    [1709805600, "Unix seconds, once read as January 1970"],
    [1709805600000, "Unix milliseconds"],
    [45358.5, "an unformatted spreadsheet date"],
    [0, "zero"],
  ])("refuses the number %j in a timestamp column (%s), saying how to give a date instead", (input) => {
    const r = coerceCell(input, "timestamp");
    expect(r.ok).toBe(false);
    const reason = r.ok ? "" : r.reason;
    expect(reason).toContain(`a number is not a timestamp: ${input} could be Unix seconds, milliseconds or a spreadsheet's day number`);
    expect(reason).toContain("ISO 8601 text (2024-03-07T14:30:00Z)");
    expect(reason).toContain("format the cell as a date");
    expect(reason).toContain('the date transform, format "X" (Unix seconds) or "x" (milliseconds)');
  });

  it("still takes a date a spreadsheet reader produced from a date-formatted cell", () => {
    expect(coerceCell(new Date("2024-03-07T10:00:00.250Z"), "timestamp")).toEqual(ok(new Date("2024-03-07T10:00:00.250Z")));
  });

  it.each(["2024-03-07T10:00:00.9999999Z", "2024-03-07T10:00:00.1234Z", "2024-03-07 10:00:00.000001", "2024/3/7 10:00:00.0005", "07.03.2024 10:00:00.1230001", "18/10/2010 08:15:00.9999"])(
    "refuses %j, finer than the milliseconds a stored timestamp keeps, instead of cutting it",
    (input) => {
      expect(coerceCell(input, "timestamp")).toEqual({
        ok: false,
        reason: `${JSON.stringify(input)} is more precise than milliseconds, which is what a stored timestamp keeps: round it to 3 decimals in the file`,
      });
    },
  );

  it("reads lists and objects from JSON values or JSON text", () => {
    expect(coerceCell(["a", 1, true], "string_list")).toEqual(ok(["a", "1", "true"]));
    expect(coerceCell('["a","b"]', "string_list")).toEqual(ok(["a", "b"]));
    expect(coerceCell('{"x":1}', "object")).toEqual(ok({ x: 1 }));
    expect(coerceCell('[{"x":1}]', "object_list")).toEqual(ok([{ x: 1 }]));
    expect(coerceCell("a;b", "string_list")).toEqual(refused);
    expect(coerceCell([["nested"]], "string_list")).toEqual(refused);
    expect(coerceCell([1], "object_list")).toEqual(refused);
    expect(coerceCell("[1]", "object")).toEqual(refused);
  });

  it("refuses JSON text whose object gives a key twice, at any depth, naming the key, rather than keep the last value", () => {
    expect(coerceCell('{"score":1,"device":"pc","score":2}', "object")).toEqual({
      ok: false,
      reason: 'duplicate key "score": the object gives it twice, and a key can hold one value; remove one of them',
    });
    expect(coerceCell('{"a":{"b":1,"\\u0062":2}}', "object")).toEqual({ ok: false, reason: expect.stringMatching(/^duplicate key "a.b": /) });
    expect(coerceCell('[{"id":1},{"id":2,"id":3}]', "object_list")).toEqual({ ok: false, reason: expect.stringMatching(/^duplicate key "\[1\].id": /) });
    expect(coerceCell('{"a":{"k":1},"b":{"k":2}}', "object")).toEqual(ok({ a: { k: 1 }, b: { k: 2 } }));
  });

  it("refuses JSON text holding an integer longer than a number keeps exactly, rather than round it", () => {
    expect(coerceCell('{"postId":12345678901234567890}', "object")).toEqual({
      ok: false,
      reason: expect.stringMatching(/^the integer 12345678901234567890 at "postId" has more digits than a number keeps exactly: it would be stored as 12345678901234567000;/),
    });
    expect(coerceCell('[{"id":9007199254740993}]', "object_list")).toEqual({ ok: false, reason: expect.stringMatching(/^the integer 9007199254740993 at "\[0\].id" /) });
    expect(coerceCell('{"postId":"12345678901234567890","n":9007199254740991}', "object")).toEqual(ok({ postId: "12345678901234567890", n: 9007199254740991 }));
  });

  it("turns scalars into text for string columns but refuses structures", () => {
    expect(coerceCell(8123, "string")).toEqual(ok("8123"));
    expect(coerceCell(false, "string")).toEqual(ok("false"));
    expect(coerceCell({ a: 1 }, "string")).toEqual(refused);
  });
});

describe("formatCell", () => {
  it("writes dates as ISO 8601 UTC with milliseconds and leaves missing cells empty", () => {
    expect(formatCell(new Date(Date.UTC(2024, 2, 7, 14, 30)), "timestamp")).toBe("2024-03-07T14:30:00.000Z");
    expect(formatCell(undefined, "string")).toBeUndefined();
    expect(formatCell(null, "number")).toBeUndefined();
    expect(formatCell(new Date(Number.NaN), "timestamp")).toBeUndefined();
  });

  it("writes what coerceCell reads back, for every kind of value", () => {
    const cases: [CellValue, FieldType][] = [
      [-0.000123, "number"],
      [true, "boolean"],
      [["a", "b,c"], "string_list"],
      [{ when: "x", n: [1, 2] }, "object"],
      [[{ id: 1 }], "object_list"],
    ];
    for (const [value, type] of cases) expect(coerceCell(formatCell(value, type), type)).toEqual(ok(value));
  });
});

describe("toTabularRow", () => {
  it("encodes nested values as JSON text, keeps scalars and keeps only the given columns", () => {
    const when = new Date(0);
    const row = toTabularRow({ a: [1], b: { c: 2 }, d: when, e: 5, extra: "x" }, [
      { key: "a", label: "A", type: "string_list" },
      { key: "b", label: "B", type: "object" },
      { key: "d", label: "D", type: "timestamp" },
      { key: "e", label: "E", type: "number" },
    ]);
    expect(row).toEqual({ a: "[1]", b: '{"c":2}', d: when, e: 5 });
  });
});
