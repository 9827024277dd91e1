/**
 * NDJSON (JSON Lines): one object per line. The format for pipelines and
 * logs: appendable, splittable, and one bad line never spoils the others, so a
 * line that does not parse, or whose object gives a key twice, is a row error
 * and reading goes on.
 */
import { z } from "zod";
import {
  checkJsonText,
  definePlugin,
  isJsonObject,
  jsonKind,
  jsonRowProblem,
  notUtf8,
  readLines,
  projectRow,
  tooManyKeys,
  type ReadContext,
  type ReadItem,
  type Row,
  type WriteContext,
} from "@data-exchange/format-sdk";

const ndjsonOptions = z.object({});
type NdjsonOptions = z.infer<typeof ndjsonOptions>;

async function* writeNdjson(rows: AsyncIterable<Row[]>, ctx: WriteContext<NdjsonOptions>): AsyncGenerator<Uint8Array> {
  for await (const batch of rows) {
    if (batch.length === 0) continue;
    let out = "";
    for (const row of batch) out += `${JSON.stringify(projectRow(row, ctx.columns, ctx.useLabels))}\n`;
    yield Buffer.from(out, "utf8");
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const BLANK = /^[ \t\r]*$/;

async function* readNdjson(input: AsyncIterable<Uint8Array>, ctx: ReadContext<NdjsonOptions>): AsyncGenerator<ReadItem[]> {
  const { maxRowBytes, maxColumns } = ctx.limits;
  let row = 0;
  // One batch per input chunk that completed rows: rows flow on as soon as they exist.
  for await (const lines of readLines(input, maxRowBytes)) {
    const batch: ReadItem[] = [];
    for (const item of lines) {
      if (item.kind === "oversize") {
        batch.push({ kind: "error", error: { row: ++row, line: item.line, reason: `line is larger than ${maxRowBytes} bytes` } });
        continue;
      }
      let text: string;
      try {
        text = utf8.decode(item.bytes);
      } catch {
        batch.push({ kind: "error", error: { row: ++row, line: item.line, reason: notUtf8(item.bytes) } });
        continue;
      }
      if (item.line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a BOM some editors add
      if (BLANK.test(text)) continue; // blank lines are separators, not records
      row++;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        batch.push({ kind: "error", error: { row, line: item.line, reason: `invalid JSON: ${(err as Error).message}` } });
        continue;
      }
      if (!isJsonObject(value)) {
        batch.push({ kind: "error", error: { row, line: item.line, reason: `expected an object, got ${jsonKind(value)}` } });
        continue;
      }
      // JSON.parse keeps the last of a key given twice, and prints 1.50 back as 1.5: checkJsonText says where.
      const found = checkJsonText(text, value, { numberText: true, inexactIntegers: "nested" });
      // A key given twice, or a nested integer JSON.parse rounded: this row is refused, not changed.
      const problem = jsonRowProblem(found);
      if (problem !== undefined) {
        batch.push({ kind: "error", error: { row, line: item.line, ...problem } });
        continue;
      }
      const wide = tooManyKeys(value, maxColumns);
      if (wide !== undefined) batch.push({ kind: "error", error: { row, line: item.line, reason: wide } });
      else if (found?.numberText !== undefined) batch.push({ kind: "row", row: { row, line: item.line, values: value, numberText: found.numberText } });
      else batch.push({ kind: "row", row: { row, line: item.line, values: value } });
    }
    if (batch.length > 0) yield batch;
  }
}

export default definePlugin<NdjsonOptions>({
  name: "ndjson",
  title: "NDJSON (one JSON object per line)",
  extensions: ["ndjson", "jsonl"],
  mimeType: "application/x-ndjson",
  shape: "document",
  audience: "machine",
  options: ndjsonOptions,
  write: writeNdjson,
  read: readNdjson,
});
