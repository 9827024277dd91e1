/**
 * Property: whatever records are stored, exporting them in any shipped format
 * and importing that file back in upsert mode changes nothing — every record
 * `unchanged`, none updated, none rejected. Formats are discovered from
 * formats/ the way the service finds them, so a new plugin joins this test
 * the moment its folder exists. Text is generated from all of Unicode plus
 * what breaks files: delimiters, quotes, line breaks, leading apostrophes,
 * formula starts (= + - @, fullwidth forms, after white space).
 *
 * A format that cannot hold a character refuses the export naming it instead
 * of changing it (tested in the format's own suite); for such records the
 * property is that refusal, for every other record the round trip.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LONE_SURROGATE } from "../../../services/domain/index.js";
import { defaultFormatsDir, discoverPlugins } from "../../../services/transfer/plugins/index.js";
import { exportAll, importAll, importSettings, openRecords, plugin, users, type RecordsFixture } from "./support.js";

const discovered = await discoverPlugins([defaultFormatsDir()]);
const formats = [...discovered.plugins.values()].filter((p) => p.read && p.write).map((p) => p.name);
const RUNS = Number(process.env.DX_PROPERTY_RUNS ?? 12);

let fx: RecordsFixture;
beforeAll(async () => {
  fx = await openRecords("rt_property");
});
afterAll(async () => {
  await fx?.close();
});

/** Pieces that break naive files and naive escaping, mixed into arbitrary Unicode. */
const tricky = fc.constantFrom(
  "=",
  "+",
  "-",
  "@",
  "'",
  "''",
  "＝",
  "＋",
  "﹣",
  " =",
  "\t",
  "\r",
  "\n",
  "\r\n",
  ",",
  ";",
  '"',
  '""',
  "\\",
  "|",
  "{",
  "[",
  "null",
  "true",
  "3",
  "é",
  "😀",
  "\u3000",
  "\u00a0",
);
const piece = fc.oneof(tricky, fc.string({ unit: "grapheme", maxLength: 6 }), fc.string({ unit: "binary", maxLength: 4 }));
const text = (min: number, max: number) =>
  fc
    .array(piece, { maxLength: 6 })
    .map((parts) => parts.join("").slice(0, max))
    .filter((s) => s.length >= min && !s.includes("\u0000") && !LONE_SURROGATE.test(s));
/**
 * Characters a format refuses to write. ODS is XML 1.0, which cannot hold these
 * control characters, and ODF has no escape for them (XLSX has `_xHHHH_`).
 */
const CANNOT_HOLD: Readonly<Record<string, RegExp>> = { ods: /[\u0001-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/ };

/** Every string value in records (details of activity are JSON text in tabular files, where control characters are escaped). */
function* strings(value: unknown): Generator<string> {
  if (typeof value === "string") yield value;
  else if (Array.isArray(value)) for (const v of value) yield* strings(v);
  else if (value && typeof value === "object" && !(value instanceof Date)) for (const v of Object.values(value)) yield* strings(v);
}

/** True when `format` must refuse these records, after checking that exporting them fails naming the character. */
async function refusedAsUnwritable(format: string, records: unknown, exporting: () => Promise<unknown>): Promise<boolean> {
  const cannot = CANNOT_HOLD[format];
  if (!cannot || ![...strings(records)].some((s) => cannot.test(s))) return false;
  await expect(exporting()).rejects.toThrow(/the character U\+[0-9A-F]{4} cannot be written/);
  return true;
}

const instant = fc.date({ min: new Date("1000-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z"), noInvalidDate: true });

const course = fc.record(
  {
    title: text(1, 500),
    description: text(0, 200),
    category: text(1, 200),
    startDate: instant,
    visible: fc.boolean(),
  },
  { requiredKeys: ["title"] },
);

const key = fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 8 }).filter((k) => !k.includes(".") && !k.startsWith("$") && k !== "__proto__");
const leaf = fc.oneof(
  text(0, 20),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)),
  fc.boolean(),
  fc.constant(null),
);
// fast-check's dictionaries have no prototype; records from files and the wire are plain objects.
const plain = <T extends object>(d: T): T => ({ ...d });
const details = fc.dictionary(key, fc.oneof(leaf, fc.array(leaf, { maxLength: 3 }), fc.dictionary(key, leaf, { maxKeys: 3 }).map(plain)), { maxKeys: 5 }).map(plain);
const entry = fc.record({ action: fc.constantFrom("view", "quiz:submit", "login"), at: instant, details }, { requiredKeys: ["action", "at"] });

describe.each(formats)("any records exported as %s and imported back in upsert mode", (format) => {
  it("are all unchanged: courses with any text", async () => {
    const p = await plugin(format);
    await fc.assert(
      fc.asyncProperty(fc.array(course, { minLength: 1, maxLength: 8 }), async (courses) => {
        await fx.clear();
        await fx.seed(
          "courses",
          courses.map((c, i) => ({ code: `C${i}`, ...c, ...(c.startDate ? { endDate: c.startDate } : {}) })),
        );
        if (await refusedAsUnwritable(format, courses, () => exportAll(fx, "courses", p))) return;
        const file = await exportAll(fx, "courses", p);
        const { summary, errors } = await importAll(fx, file, importSettings("courses", p, { mode: "upsert" }));
        expect(errors).toEqual([]);
        expect(summary).toMatchObject({ read: courses.length, unchanged: courses.length, updated: 0, inserted: 0, failed: 0 });
      }),
      { numRuns: RUNS },
    );
  });

  it("are all unchanged: users with any names", async () => {
    const p = await plugin(format);
    const names = fc.array(fc.record({ firstName: text(1, 200), lastName: text(1, 200) }, { requiredKeys: [] }), { minLength: 1, maxLength: 8 });
    await fc.assert(
      fc.asyncProperty(names, async (people) => {
        await fx.clear();
        await fx.seed(
          "users",
          users(1, people.length, (n) => ({ firstName: undefined, lastName: undefined, ...people[n - 1] })),
        );
        if (await refusedAsUnwritable(format, people, () => exportAll(fx, "users", p))) return;
        const file = await exportAll(fx, "users", p);
        const { summary, errors } = await importAll(fx, file, importSettings("users", p, { mode: "upsert" }));
        expect(errors).toEqual([]);
        expect(summary).toMatchObject({ read: people.length, unchanged: people.length, failed: 0 });
      }),
      { numRuns: RUNS },
    );
  });

  it("are all unchanged: activity entries with any details (the log is restored, not doubled)", async () => {
    const p = await plugin(format);
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 8 }), async (entries) => {
        await fx.clear();
        await fx.seed("users", users(1, 1));
        await fx.seed(
          "activity",
          entries.map((e) => ({ userId: "user1", ...e })),
        );
        const file = await exportAll(fx, "activity", p);
        const { summary, errors } = await importAll(fx, file, importSettings("activity", p));
        expect(errors).toEqual([]);
        expect(summary).toMatchObject({ read: entries.length, unchanged: entries.length, inserted: 0, failed: 0 });
        expect(await fx.count("activity")).toBe(entries.length);
      }),
      { numRuns: RUNS },
    );
  });
});

it("covers every shipped format that reads and writes", () => {
  expect(formats).toEqual(expect.arrayContaining(["csv", "json", "ndjson"]));
});
