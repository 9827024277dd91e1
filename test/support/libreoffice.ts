/**
 * LibreOffice as an independent oracle for the spreadsheets we write: the
 * files must open in a real office suite and show the same cells.
 *
 * `ensureLibreOffice()` installs Debian's `libreoffice-calc-nogui` when
 * `soffice` is missing (as root, as on these machines and in CI; anyone else
 * is told what to install). `convertToCsv()` runs one headless conversion
 * with a profile of its own (`-env:UserInstallation`), since two runs on one
 * profile lock each other out, and removes the profile afterwards.
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { parse } from "csv-parse/sync";
import { parse as parseHtml } from "parse5";

const run = promisify(execFile);
const PACKAGE = "libreoffice-calc-nogui";

function sofficePath(): string | undefined {
  for (const p of ["/usr/bin/soffice", "/usr/bin/libreoffice", "/usr/lib/libreoffice/program/soffice"]) if (existsSync(p)) return p;
  return undefined;
}

/** The path of soffice, installing LibreOffice Calc first when it is missing. */
export function ensureLibreOffice(): string {
  const found = sofficePath();
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error(`LibreOffice is needed for the spreadsheet oracle tests: install it with "apt-get install -y ${PACKAGE}" (as root)`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update"], { stdio: "ignore", env, timeout: 300_000 });
  execFileSync("apt-get", ["install", "-y", "--no-install-recommends", PACKAGE], { stdio: "ignore", env, timeout: 900_000 });
  const installed = sofficePath();
  if (!installed) throw new Error(`apt-get installed ${PACKAGE} but no soffice was found`);
  return installed;
}

/** A cell of the first sheet as LibreOffice renders it: its shown text, whether bold, and the column's width in pixels. */
export interface RenderedCell {
  text: string;
  bold: boolean;
}

/**
 * The first sheet of `file` as LibreOffice renders it for a person (its
 * HTML export: the text each cell shows, bold or not) and the columns'
 * widths in pixels — what a CSV cannot tell.
 */
export async function renderFirstSheet(soffice: string, file: string): Promise<{ rows: RenderedCell[][]; widths: number[] }> {
  const html = await convert(soffice, file, "html", "html");
  type Node = { nodeName: string; tagName?: string; value?: string; childNodes?: Node[]; attrs?: { name: string; value: string }[] };
  const all = (node: Node, tag: string, out: Node[] = []): Node[] => {
    if (node.tagName === tag) out.push(node);
    for (const child of node.childNodes ?? []) all(child, tag, out);
    return out;
  };
  const text = (node: Node): string => (node.nodeName === "#text" ? (node.value ?? "") : (node.childNodes ?? []).map(text).join(""));
  const doc = parseHtml(html) as unknown as Node;
  const table = all(doc, "table")[0];
  if (table === undefined) throw new Error(`LibreOffice rendered no table for ${file}`);
  const rows = all(table, "tr").map((tr) => all(tr, "td").map((td) => ({ text: text(td).replace(/\s+$/, ""), bold: all(td, "b").length > 0 })));
  const widths = all(table, "colgroup").map((c) => Number(c.attrs?.find((a) => a.name === "width")?.value ?? NaN));
  return { rows, widths };
}

/**
 * The cells of `file`'s sheet `sheet` (1-based) as LibreOffice shows them:
 * converted to CSV (UTF-8, comma, every text quoted, cells as shown).
 */
export async function convertToCsv(soffice: string, file: string, sheet = 1): Promise<string[][]> {
  // Filter options: separator 44 (,), quote 34 ("), charset 76 (UTF-8), from line 1, no column types, language,
  // quote all text, detect special numbers, save cells as shown, export formulas, remove space, sheet number.
  const csv = await convert(soffice, file, `csv:Text - txt - csv (StarCalc):44,34,76,1,,0,true,true,true,false,false,${sheet}`, "csv");
  return parse(csv, { relaxColumnCount: true }) as string[][];
}

/** One headless conversion with a profile of its own; the converted file's text. */
async function convert(soffice: string, file: string, filter: string, extension: string): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), "dx-lo-"));
  try {
    const profile = join(work, "profile");
    const out = join(work, "out");
    await run(soffice, ["--headless", "--norestore", `-env:UserInstallation=${pathToFileURL(profile).href}`, "--convert-to", filter, "--outdir", out, file], {
      timeout: 120_000,
      env: { ...process.env, HOME: work },
    });
    const produced = existsSync(out) ? readdirSync(out) : [];
    const stem = basename(file).replace(/\.[^.]+$/, "");
    const name = produced.find((f) => f === `${stem}.${extension}`) ?? produced.find((f) => f.endsWith(`.${extension}`));
    if (name === undefined) throw new Error(`LibreOffice produced no ${extension} for ${file} (got: ${produced.join(", ") || "nothing"})`);
    return readFileSync(join(out, name), "utf8");
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
