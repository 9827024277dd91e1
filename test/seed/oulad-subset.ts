/**
 * A real subset of the OULAD tables for the seed test: every row of the
 * chosen modules, copied byte for byte (quoting and line endings kept) into a
 * temporary folder. The full set takes ~5 minutes per load on FerretDB, too
 * long to run twice per CI run; DX_SEED_TEST_FULL=1 uses it anyway.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const FILES = ["courses.csv", "studentInfo.csv", "studentRegistration.csv", "vle.csv", "studentVle_head13905.csv"];

function unquote(cell: string): string {
  return cell.trim().replace(/^"(.*)"$/, "$1");
}

export function makeOuladSubset(sourceDir: string, modules: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "dx-oulad-subset-"));
  const keep = new Set(modules);
  for (const file of FILES) {
    const lines = readFileSync(join(sourceDir, file), "utf8").split("\n");
    const header = lines[0]!.split(",").map(unquote);
    const column = header.indexOf("code_module");
    if (column < 0) throw new Error(`${file} has no code_module column`);
    // OULAD cells hold no commas or line breaks, so a line is a row.
    const rows = lines.slice(1).filter((line) => line.trim() !== "" && keep.has(unquote(line.split(",")[column] ?? "")));
    const ending = lines[0]!.endsWith("\r") ? "\r\n" : "\n";
    writeFileSync(join(dir, file), [lines[0]!.replace(/\r$/, ""), ...rows.map((r) => r.replace(/\r$/, ""))].join(ending) + ending);
  }
  return dir;
}
