/**
 * One party of the spreadsheet bench in a process of its own, so its peak
 * RSS is its own: our XLSX or ODS plugin (through the formats/_sdk interface,
 * as the transfer core calls it) or ExcelJS's streaming workbook writer and
 * reader (the best streaming XLSX library found on npm), writing N session
 * rows to a file or reading them back from the file our plugin wrote.
 *
 * Rows come in batches of 1000 (100 distinct batches, reused, so making rows
 * is not what is timed); files are read in 64 KiB chunks from disk. Timed:
 * first pull to last byte or row.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { once } from "node:events";
import ExcelJS from "exceljs";
import type { Column, FormatPlugin, Row } from "../../formats/_sdk/index.js";
import ods from "../../formats/ods/index.js";
import xlsx from "../../formats/xlsx/index.js";
import { session, SESSION_COLUMNS } from "../lib/data.js";
import { runAsWorker } from "../lib/worker.js";

interface Args {
  party: "xlsx" | "ods" | "exceljs";
  operation: "write" | "read";
  n: number;
  file: string;
}

const columns: Column[] = SESSION_COLUMNS.map((c) => ({ key: c.key, label: c.key, type: c.type }));
const BATCH = 1000;

async function* batches(n: number): AsyncGenerator<Row[]> {
  const distinct = Array.from({ length: Math.min(100, Math.ceil(n / BATCH)) }, (_, b) => Array.from({ length: BATCH }, (_, i) => session(b * BATCH + i) as Row));
  for (let done = 0, b = 0; done < n; done += BATCH, b++) yield distinct[b % distinct.length]!.slice(0, Math.min(BATCH, n - done));
}

async function pluginWrite(plugin: FormatPlugin, n: number, file: string): Promise<number> {
  const out = createWriteStream(file);
  let bytes = 0;
  for await (const chunk of plugin.write!(batches(n), { columns, options: plugin.options.parse({}), useLabels: false })) {
    bytes += chunk.byteLength;
    if (!out.write(chunk)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
  return bytes;
}

async function pluginRead(plugin: FormatPlugin, file: string): Promise<number> {
  let rows = 0;
  const input = createReadStream(file, { highWaterMark: 64 * 1024 });
  for await (const items of plugin.read!(input, { options: plugin.options.parse({}), columns, limits: { maxRowBytes: 1 << 20, maxColumns: 100 } })) {
    for (const item of items) if (item.kind === "row") rows++;
  }
  return rows;
}

/** ExcelJS's streaming writer: committed rows leave memory; shared strings off (inline, as ours), styles for the header and dates. */
async function exceljsWrite(n: number, file: string): Promise<void> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: false, useStyles: true });
  const sheet = workbook.addWorksheet("sessions", { views: [{ state: "frozen", ySplit: 1 }] });
  sheet.columns = columns.map((c) => ({ header: c.key, key: c.key, width: c.type === "timestamp" ? 24 : 14, style: c.type === "timestamp" ? { numFmt: "yyyy-mm-dd hh:mm:ss.000" } : {} }));
  sheet.getRow(1).font = { bold: true };
  for await (const batch of batches(n)) {
    for (const row of batch) sheet.addRow(row).commit();
  }
  sheet.commit();
  await workbook.commit();
}

/** ExcelJS's streaming reader: rows as they are parsed, nothing kept (shared strings and styles cached, as it must). */
async function exceljsRead(file: string): Promise<number> {
  let rows = 0;
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(file, { sharedStrings: "cache", styles: "cache", hyperlinks: "ignore", worksheets: "emit", entries: "emit" });
  for await (const worksheet of reader) {
    for await (const row of worksheet) if ((row as { number: number }).number > 1) rows++;
  }
  return rows;
}

runAsWorker<Args>(async ({ party, operation, n, file }) => {
  const t0 = performance.now();
  let records = n;
  if (operation === "write") {
    if (party === "exceljs") await exceljsWrite(n, file);
    else await pluginWrite(party === "xlsx" ? xlsx : ods, n, file);
  } else {
    records = party === "exceljs" ? await exceljsRead(file) : await pluginRead(party === "xlsx" ? xlsx : ods, file);
  }
  const ms = performance.now() - t0;
  const { size } = await import("node:fs").then((fs) => fs.statSync(file));
  return { records, bytes: size, ms };
});
