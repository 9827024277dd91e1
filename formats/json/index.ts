/**
 * JSON: an array of objects, for machines (keys, not labels) and for people
 * reading an export in an editor (`pretty`). Document-shaped: nested objects and
 * lists are kept as they are.
 */
import { z } from "zod";
import { checkJsonText, definePlugin, isJsonObject, jsonKind, jsonRowProblem, projectRow, tooManyKeys, type ReadContext, type ReadItem, type Row, type WriteContext } from "@data-exchange/format-sdk";
import { JsonScanner, type ScanItem } from "./json-scanner.js";
import { parseSlice } from "./json-values.js";

const jsonOptions = z.object({
  /** One element per line, indented, instead of one long line. */
  pretty: z.boolean().default(false),
  /** Spaces per level when pretty. */
  indent: z.number().int().min(1).max(10).default(2),
});
type JsonOptions = z.infer<typeof jsonOptions>;

/** Streams `[`, the elements, `]`: never the whole array in memory. */
async function* writeJson(rows: AsyncIterable<Row[]>, ctx: WriteContext<JsonOptions>): AsyncGenerator<Uint8Array> {
  const { pretty, indent } = ctx.options;
  const pad = " ".repeat(indent);
  let first = true;
  for await (const batch of rows) {
    if (batch.length === 0) continue;
    let out = "";
    for (const row of batch) {
      const obj = projectRow(row, ctx.columns, ctx.useLabels);
      if (pretty) {
        out += (first ? "[\n" : ",\n") + pad + JSON.stringify(obj, null, indent).replaceAll("\n", `\n${pad}`);
      } else {
        out += (first ? "[" : ",") + JSON.stringify(obj);
      }
      first = false;
    }
    yield Buffer.from(out, "utf8");
  }
  yield Buffer.from(first ? (pretty ? "[]\n" : "[]") : pretty ? "\n]\n" : "]", "utf8");
}

/** Streams the array's elements: one element at a time is in memory, never the file. */
async function* readJson(input: AsyncIterable<Uint8Array>, ctx: ReadContext<JsonOptions>): AsyncGenerator<ReadItem[]> {
  const { maxRowBytes, maxColumns } = ctx.limits;
  const scanner = new JsonScanner("array", maxRowBytes);
  const items: ScanItem[] = [];
  let batch: ReadItem[] = [];
  const convert = () => {
    for (const item of items) {
      const row = item.index + 1;
      const line = item.line;
      if (item.kind === "oversize") {
        batch.push({ kind: "error", error: { row, line, reason: `element is larger than ${maxRowBytes} bytes` } });
        continue;
      }
      const { value, text } = parseSlice(item.bytes, item.index, item.offset, line);
      if (!isJsonObject(value)) {
        batch.push({ kind: "error", error: { row, line, reason: `expected an object, got ${jsonKind(value)}` } });
        continue;
      }
      // The element is valid JSON, so a key given twice spoils this row only: a row error, and on to the next element.
      const found = checkJsonText(text, value, { numberText: true, inexactIntegers: "nested" });
      // A key given twice, or a nested integer JSON.parse rounded: this row is refused, not changed.
      const problem = jsonRowProblem(found);
      if (problem !== undefined) {
        batch.push({ kind: "error", error: { row, line, ...problem } });
        continue;
      }
      const wide = tooManyKeys(value, maxColumns);
      if (wide !== undefined) batch.push({ kind: "error", error: { row, line, reason: wide } });
      else if (found?.numberText !== undefined) batch.push({ kind: "row", row: { row, line, values: value, numberText: found.numberText } });
      else batch.push({ kind: "row", row: { row, line, values: value } });
    }
    items.length = 0;
  };
  // Elements completed before a fatal error are still handed over, then the error is thrown.
  const step = (scan: () => void): unknown => {
    let failure: unknown;
    try {
      scan();
    } catch (err) {
      failure = err;
    }
    try {
      convert();
    } catch (err) {
      failure = err; // an element before the scanner's failure point: the earlier error wins
    }
    return failure;
  };
  for await (const chunk of input) {
    const failure = step(() => scanner.push(chunk, items));
    if (batch.length > 0) {
      // One batch per input chunk that completed rows: rows flow on as soon as they exist.
      yield batch;
      batch = [];
    }
    if (failure !== undefined) throw failure;
  }
  const failure = step(() => scanner.end(items));
  if (batch.length > 0) yield batch;
  if (failure !== undefined) throw failure;
}

export default definePlugin<JsonOptions>({
  name: "json",
  title: "JSON (array of objects)",
  extensions: ["json"],
  mimeType: "application/json",
  shape: "document",
  audience: "machine",
  options: jsonOptions,
  write: writeJson,
  read: readJson,
});
