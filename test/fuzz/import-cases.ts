/**
 * What the import fuzz feeds the real import path: course files in CSV, JSON
 * or NDJSON built from generated rows, and how each one should come out.
 *
 * Two kinds of case:
 *
 * - **Rows** (`mutations` empty): every row is built from values that are
 *   each known to be accepted or refused — text from all of Unicode, lone
 *   surrogates, NUL characters, formula-like cells (`=`, `+`, `-`, `@`, tabs),
 *   line breaks inside cells, fields over the row-size limit, bad codes, bad
 *   booleans, keys repeated in the file. The oracle ({@link expectedOutcome})
 *   says which rows must be stored, with exactly which values, and which
 *   must be reported.
 * - **Bytes**: such a file (of harmless rows) mutated at the byte level —
 *   bytes flipped, the file cut short, NUL bytes, bytes that are not UTF-8
 *   (a lone surrogate's UTF-8 form among them), a huge run of one byte,
 *   deep nesting, a key no course has (`__proto__`, `constructor`, `$where`,
 *   `a.b`, an empty one, one given twice). Nobody can say which rows survive; the invariants still
 *   hold (import-fuzz.test.ts), and nothing stored may contain a U+FFFD that
 *   the file did not.
 */
import fc from "fast-check";
import { COURSE_CODE_PATTERN } from "../../services/domain/entities/courses.js";
import { unescapeFormula } from "../../formats/_sdk/formula-escape.js";

export type Format = "csv" | "json" | "ndjson";

/** One course row as generated: the values as they go into the file. */
export interface CaseRow {
  code: string;
  title: string;
  description: string;
  /** A JSON boolean, or text (CSV's form, or a wrong type in JSON). */
  visible: boolean | string;
}

export type Mutation =
  | { kind: "flip"; at: number; xor: number }
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; bytes: readonly number[]; label: "nul" | "invalid-utf8" | "lone-surrogate-utf8" }
  | { kind: "huge"; at: number; length: number }
  | { kind: "nesting"; at: number; depth: number }
  | { kind: "key"; name: string };

export interface ImportCase {
  format: Format;
  rows: CaseRow[];
  mutations: Mutation[];
  strict: boolean;
  dryRun: boolean;
  mode: "insert" | "upsert";
  /** How the file travels: the bidi RPC in chunks of this size, or a multipart upload. */
  transport: { kind: "rpc"; chunkSize: number } | { kind: "http" };
}

/** The row-size limit the fuzzed service runs with (importMaxRowBytes). */
export const MAX_ROW_BYTES = 4096;

const FORMULA_STARTS = ["=", "+", "-", "@", "'=", "''+", " =", "\t", "\r", "＝", "﹫"];

/** Text as people and attackers write it: any code point, formulas, quotes, breaks, the odd lone surrogate or NUL. */
function text(maxLength: number): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength }) },
    { weight: 2, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength }) },
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...FORMULA_STARTS), fc.string({ maxLength: 20 })).map(([a, b]) => a + b) },
    { weight: 2, arbitrary: fc.constantFrom('"quoted"', "a,b;c\td", "line\nbreak", "crlf\r\nbreak", " padded ", "'", "\\", "null", "true", "1e400") },
    { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 })).map(([a, b]) => `${a}\u0000${b}`) },
    { weight: 1, arbitrary: fc.constantFrom("\uD800", "a\uDC00b", "\uDBFF\uDBFF", "x\uD83D") },
  );
}

const row = (i: number): fc.Arbitrary<CaseRow> =>
  fc.record({
    code: fc.oneof(
      { weight: 8, arbitrary: fc.constant(`K${i}`) },
      { weight: 1, arbitrary: fc.constantFrom("", "bad code", "-lead", "K!", "ü") },
      { weight: 1, arbitrary: fc.nat(3).map((n) => `K${n}`) },
    ),
    title: fc.oneof({ weight: 8, arbitrary: text(40) }, { weight: 1, arbitrary: fc.constantFrom("", "x".repeat(501)) }),
    description: fc.oneof({ weight: 8, arbitrary: text(60) }, { weight: 1, arbitrary: fc.integer({ min: 3 * MAX_ROW_BYTES, max: 6 * MAX_ROW_BYTES }).map((n) => "h".repeat(n)) }),
    visible: fc.oneof({ weight: 8, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.constantFrom("maybe", "yes!", "2") }),
  });

const rows = fc.integer({ min: 1, max: 12 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => row(i + 1))));

const harmlessRows = fc
  .integer({ min: 1, max: 8 })
  .map((n) => Array.from({ length: n }, (_, i): CaseRow => ({ code: `K${i + 1}`, title: `Course ${i + 1} – ünïcødé`, description: `About course ${i + 1}`, visible: i % 2 === 0 })));

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.double({ min: 0, max: 1, noNaN: true }), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc
    .record({
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      payload: fc.constantFrom(
        { label: "nul" as const, bytes: [0] },
        { label: "invalid-utf8" as const, bytes: [0xff] },
        { label: "invalid-utf8" as const, bytes: [0xc3, 0x28] },
        { label: "invalid-utf8" as const, bytes: [0xc0, 0x80] },
        { label: "lone-surrogate-utf8" as const, bytes: [0xed, 0xa0, 0x80] },
      ),
    })
    .map(({ at, payload }): Mutation => ({ kind: "insert", at, ...payload })),
  fc.record({ kind: fc.constant("huge" as const), at: fc.double({ min: 0, max: 1, noNaN: true }), length: fc.constantFrom(2 * MAX_ROW_BYTES, 64 * 1024, 1_100_000) }),
  fc.record({ kind: fc.constant("nesting" as const), at: fc.double({ min: 0, max: 1, noNaN: true }), depth: fc.constantFrom(64, 2_000, 20_000) }),
  fc.record({ kind: fc.constant("key" as const), name: fc.constantFrom("__proto__", "constructor", "prototype", "$where", "a.b", "", "title") }),
);

const common = {
  format: fc.constantFrom<Format>("csv", "json", "ndjson"),
  strict: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  dryRun: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  mode: fc.constantFrom<"insert" | "upsert">("insert", "upsert"),
  transport: fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 4096 }).map((chunkSize) => ({ kind: "rpc" as const, chunkSize })) },
    { weight: 1, arbitrary: fc.constant({ kind: "http" as const }) },
  ),
};

/** Row cases (with an oracle) and byte cases (invariants only), about half each. */
export const importCases: fc.Arbitrary<ImportCase> = fc.oneof(
  fc.record({ ...common, rows, mutations: fc.constant([] as Mutation[]) }),
  fc.record({ ...common, rows: harmlessRows, mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }) }),
);

/** The file's bytes: the rows written as the format writes them, then the mutations applied in order. */
export function fileOf(c: ImportCase): Buffer {
  let bytes: Buffer = Buffer.from(textOf(c.format, c.rows), "utf8");
  for (const m of c.mutations) bytes = mutate(bytes, m);
  return bytes;
}

function textOf(format: Format, rows: CaseRow[]): string {
  if (format === "csv") {
    const cell = (v: boolean | string) => `"${String(v).replaceAll('"', '""')}"`;
    return `${["code,title,description,visible", ...rows.map((r) => [r.code, r.title, r.description, r.visible].map(cell).join(","))].join("\r\n")}\r\n`;
  }
  const objects = rows.map((r) => JSON.stringify({ code: r.code, title: r.title, description: r.description, visible: r.visible }));
  return format === "json" ? `[\n${objects.join(",\n")}\n]\n` : objects.map((o) => `${o}\n`).join("");
}

function mutate(bytes: Buffer, m: Mutation): Buffer {
  const at = "at" in m ? Math.min(bytes.length, Math.floor(m.at * (bytes.length + 1))) : 0;
  switch (m.kind) {
    case "flip": {
      if (bytes.length === 0) return bytes;
      const copy = Buffer.from(bytes);
      const i = Math.min(at, bytes.length - 1);
      copy[i] = copy[i]! ^ m.xor;
      return copy;
    }
    case "truncate":
      return bytes.subarray(0, at);
    case "insert":
      return Buffer.concat([bytes.subarray(0, at), Buffer.from(m.bytes), bytes.subarray(at)]);
    case "huge":
      return Buffer.concat([bytes.subarray(0, at), Buffer.alloc(m.length, "A"), bytes.subarray(at)]);
    case "nesting":
      return Buffer.concat([bytes.subarray(0, at), Buffer.from("[".repeat(m.depth) + "]".repeat(m.depth)), bytes.subarray(at)]);
    case "key": {
      // A key no course has (or one given twice): into the first JSON object, or as one more CSV column.
      const brace = bytes.indexOf("{");
      if (brace >= 0) return Buffer.concat([bytes.subarray(0, brace + 1), Buffer.from(`${JSON.stringify(m.name)}:{"title":"polluted","isAdmin":true},`), bytes.subarray(brace + 1)]);
      const eol = bytes.indexOf("\r\n");
      return eol < 0 ? bytes : Buffer.concat([bytes.subarray(0, eol), Buffer.from(`,${JSON.stringify(m.name)}`), bytes.subarray(eol)]);
    }
  }
}

/** What a row case must end with: the rows refused (1-based) and the records stored, by code. */
export interface Expected {
  rejected: Set<number>;
  stored: Map<string, { title: string; description: string; visible: boolean }>;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The oracle of a row case, from the documented rules: a CSV cell loses one
 * leading apostrophe before an evaluated start (formula-escape.ts) and the
 * file is UTF-8, so a lone surrogate in it was written as U+FFFD; JSON keeps
 * lone surrogates as `\uD800` escapes, which are refused (not text). Text
 * refuses NUL and must fit its field; a row over the row-size limit is
 * refused; a key already taken by an earlier accepted row is refused. A
 * strict import that refuses any row stores nothing, nor does a dry run.
 */
export function expectedOutcome(c: ImportCase): Expected {
  const rejected = new Set<number>();
  const valid = new Map<string, { title: string; description: string; visible: boolean }>();
  c.rows.forEach((r, index) => {
    const n = index + 1;
    const value = (v: string) => (c.format === "csv" ? unescapeFormula(Buffer.from(v, "utf8").toString("utf8")) : v);
    const title = value(r.title);
    const description = value(r.description);
    const code = value(r.code);
    const visible = typeof r.visible === "boolean" ? r.visible : c.format === "csv" && (r.visible === "true" || r.visible === "false") ? r.visible === "true" : undefined;
    const textOk = (v: string, min: number, max: number) => v.length >= min && v.length <= max && !v.includes("\u0000") && !LONE_SURROGATE.test(v);
    const ok =
      rowBytes(c.format, r) <= MAX_ROW_BYTES &&
      COURSE_CODE_PATTERN.test(code) &&
      code.length <= 100 &&
      textOk(title, 1, 500) &&
      textOk(description, 0, 20_000) &&
      visible !== undefined &&
      !valid.has(code);
    if (ok) valid.set(code, { title, description, visible: visible! });
    else rejected.add(n);
  });
  const stored = c.dryRun || (c.strict && rejected.size > 0) ? new Map<string, { title: string; description: string; visible: boolean }>() : valid;
  return { rejected, stored };
}

/** The bytes of one row as the file holds it (the limit's measure, near enough: the cases stay far from it or far over it). */
function rowBytes(format: Format, r: CaseRow): number {
  return Buffer.byteLength(textOf(format, [r]), "utf8");
}

/** A short description of a case for failure messages. */
export function describeCase(c: ImportCase): string {
  const m = c.mutations.map((x) => x.kind + ("label" in x ? `:${x.label}` : "name" in x ? `:${x.name}` : "")).join("+") || "rows";
  return `${c.format} ${c.mode}${c.strict ? " strict" : ""}${c.dryRun ? " dry-run" : ""} via ${c.transport.kind}${c.transport.kind === "rpc" ? `/${c.transport.chunkSize}` : ""}, ${c.rows.length} rows, ${m}`;
}
