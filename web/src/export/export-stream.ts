/**
 * Runs an Export call and gathers what it streams: the header (file name,
 * type, columns), the file's chunks, progress (records so far of the
 * estimate) and the summary. Aborting the signal cancels the call, which
 * cancels the job on the server (the proto's Export comment).
 */
import type { ExportRequest } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import type { TransferClient } from "../api/transfer-client.js";

export interface ExportProgressUpdate {
  records: number;
  estimatedTotal: number;
  bytes: number;
}

export interface ExportResult {
  jobId: string;
  fileName: string;
  mimeType: string;
  columns: { key: string; label: string }[];
  chunks: Uint8Array<ArrayBuffer>[];
  records: number;
  bytes: number;
  sha256: string;
}

export async function runExport(client: TransferClient, request: ExportRequest, signal: AbortSignal, onProgress?: (p: ExportProgressUpdate) => void): Promise<ExportResult> {
  const result: ExportResult = { jobId: "", fileName: "", mimeType: "", columns: [], chunks: [], records: 0, bytes: 0, sha256: "" };
  let received = 0;
  let estimate = 0;
  for await (const message of client.export(request, { signal })) {
    const event = message.event;
    switch (event.case) {
      case "header":
        result.jobId = event.value.jobId;
        result.fileName = event.value.fileName;
        result.mimeType = event.value.mimeType;
        result.columns = event.value.columns.map((c) => ({ key: c.key, label: c.label }));
        break;
      case "chunk":
        // A copy with its own ArrayBuffer, as Blob wants.
        result.chunks.push(new Uint8Array(event.value));
        received += event.value.byteLength;
        break;
      case "progress":
        estimate = Number(event.value.estimatedTotal) || estimate;
        onProgress?.({ records: Number(event.value.records), estimatedTotal: estimate, bytes: received });
        break;
      case "summary":
        result.records = Number(event.value.records);
        result.bytes = Number(event.value.bytes);
        result.sha256 = event.value.sha256;
        onProgress?.({ records: result.records, estimatedTotal: Math.max(estimate, result.records), bytes: received });
        break;
    }
  }
  return result;
}

/** The rows of an NDJSON export (the preview's format). */
export function ndjsonRows(chunks: readonly Uint8Array[]): Record<string, unknown>[] {
  const decoder = new TextDecoder();
  const text = chunks.map((c) => decoder.decode(c, { stream: true })).join("") + decoder.decode();
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Saves the file as the browser's download, under the name the server gave it. */
export function saveFile(result: ExportResult): void {
  const url = URL.createObjectURL(new Blob(result.chunks, { type: result.mimeType || "application/octet-stream" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = result.fileName;
  document.body.append(link);
  link.click();
  link.remove();
  // After the click has handed the file to the browser.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
