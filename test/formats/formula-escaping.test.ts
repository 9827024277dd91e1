/**
 * Formula-injection escaping in CSV must be reversible: an export that a
 * spreadsheet opens safely must also import back to exactly the values that
 * were exported (a course titled "-5 degrees" must not come back as
 * "'-5 degrees"), and a value that really starts with an apostrophe must
 * survive too.
 */
import { describe, expect, it } from "vitest";
import { escapeFormula, unescapeFormula, type Column } from "../../formats/_sdk/index.js";
import csv from "../../formats/csv/index.js";
import { readAll, values, writeAll } from "./support.js";

const cols: Column[] = [
  { key: "name", label: "Full name", type: "string" },
  { key: "age", label: "Age", type: "number" },
];
const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");

/** Cell starts that spreadsheet programs evaluate (OWASP "CSV injection", plus what LibreOffice and Excel also take). */
const evaluated = [
  '=HYPERLINK("http://x")',
  "+1",
  "-5 degrees",
  "@SUM(A1)",
  "\tleading tab",
  "\rleading CR",
  " =1+1",
  "\n=1+1",
  "  \t+cmd",
  "\u3000=1",
  "＝1+1",
  "＋1",
  "－1",
  "＠SUM(A1)",
  "﹦1",
  "﹢1",
  "﹣1",
  "﹫x",
];
/** Values that already look escaped, or start with an apostrophe for real. */
const apostrophes = ["'=already quoted", "''+x", "'-5", "'plain", "it's", "'", "''"];
const harmless = ["plain", "a=b", "5-3", "e@mail.org", " spaced", "\nnewline only", ""];

describe("formula escaping in CSV", () => {
  it("prefixes every cell start a spreadsheet evaluates, in the file as written", async () => {
    const out = text(
      await writeAll(
        csv,
        evaluated.map((name) => ({ name })),
        cols,
        { recordDelimiter: "lf" },
        false,
      ),
    );
    const raw = values(await readAll(csv, out, { options: { formulaEscape: false } })).map((v) => v.name);
    expect(raw).toEqual(evaluated.map((s) => `'${s}`));
  });

  it("reads back exactly the values it wrote, apostrophes included", async () => {
    const all = [...evaluated, ...apostrophes, ...harmless];
    const out = await writeAll(
      csv,
      all.map((name, i) => ({ name, age: -i })),
      cols,
      {},
      false,
    );
    for (const chunkSize of [undefined, 1]) {
      const back = values(await readAll(csv, out, { chunkSize }));
      expect(back.map((v) => v.name)).toEqual(all);
      expect(back.map((v) => v.age)).toEqual(all.map((_, i) => String(-i)));
    }
  });

  it("never prefixes numbers, which are data and not formulas", async () => {
    const out = text(await writeAll(csv, [{ name: "x", age: -5 }], cols, { recordDelimiter: "lf" }, false));
    expect(out).toBe("name,age\nx,-5\n");
  });

  it("escapes column labels too, and reads such a header back to the label", async () => {
    const risky: Column[] = [{ key: "name", label: "=cmd|' /C calc'!A0", type: "string" }];
    const out = await writeAll(csv, [{ name: "Ada" }], risky, { recordDelimiter: "lf" }, true);
    expect(text(out).split("\n")[0]).toBe("'=cmd|' /C calc'!A0");
    const result = await readAll(csv, out, { options: { delimiter: "," } });
    expect(result.header?.names).toEqual(["=cmd|' /C calc'!A0"]);
  });

  it("keeps every apostrophe as it is when formula escaping is off, both ways", async () => {
    const all = [...evaluated, ...apostrophes];
    const out = await writeAll(
      csv,
      all.map((name) => ({ name })),
      cols,
      { formulaEscape: false },
      false,
    );
    const back = values(await readAll(csv, out, { options: { formulaEscape: false } })).map((v) => v.name);
    expect(back).toEqual(all);
  });

  it("is its own inverse for any text (escapeFormula then unescapeFormula)", () => {
    for (const s of [...evaluated, ...apostrophes, ...harmless, "'''=x", "'\t", "''\n=x"]) {
      expect(unescapeFormula(escapeFormula(s))).toBe(s);
      expect(escapeFormula(s) === s || escapeFormula(s) === `'${s}`).toBe(true);
    }
  });
});
