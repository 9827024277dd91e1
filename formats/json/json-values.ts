/**
 * From scanned slices to JavaScript values, with positions in errors.
 *
 * JSON text must be UTF-8 (RFC 8259 §8.1), so invalid bytes are an error
 * rather than a silent U+FFFD; JSON.parse then checks the value's syntax.
 */
import { FormatError, invalidUtf8At, notUtf8 } from "@data-exchange/format-sdk";
import { JsonScanner, type ScanItem } from "./json-scanner.js";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Parses one scanned value, and gives its text too (for checkJsonText); a
 * failure is fatal for the file and says which element and byte.
 */
export function parseSlice(bytes: Uint8Array, index: number, offset: number, line?: number): { value: unknown; text: string } {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (err) {
    throw new FormatError(notUtf8(bytes), { row: index + 1, line, offset: offset + invalidUtf8At(bytes) }, { cause: err });
  }
  try {
    return { value: JSON.parse(text), text };
  } catch (err) {
    const message = (err as Error).message;
    // V8 reports a character position for most errors; turn it into a byte offset in the file.
    const at = /position (\d+)/.exec(message);
    const where = at ? offset + Buffer.byteLength(text.slice(0, Number(at[1]))) : offset;
    throw new FormatError(`invalid JSON: ${message}`, { row: index + 1, line, offset: where }, { cause: err });
  }
}

/**
 * Parses a whole stream as one top-level JSON value, through the same scanner
 * the array reader uses (the JSONTestSuite runs over this). Holds the value in
 * memory, so it is for bounded inputs only.
 */
export async function parseJsonValue(input: AsyncIterable<Uint8Array>, maxBytes = 64 * 1024 * 1024): Promise<unknown> {
  const scanner = new JsonScanner("value", maxBytes);
  const items: ScanItem[] = [];
  let value: unknown;
  const take = () => {
    for (const item of items) {
      if (item.kind === "oversize") throw new FormatError(`value is larger than ${maxBytes} bytes`, { offset: item.offset });
      value = parseSlice(item.bytes, item.index, item.offset).value;
    }
    items.length = 0;
  };
  for await (const chunk of input) {
    scanner.push(chunk, items);
    take();
  }
  scanner.end(items);
  take();
  return value;
}
