/**
 * A reader's batches (`ReadItem[]`) packed for the trip from a worker to the
 * main thread.
 *
 * Structured clone is what makes reading in a worker expensive where it
 * matters: the main thread deserializes every row object and every value
 * string one by one, which costs about twice as much as parsing the CSV in
 * the first place (bench/README.md, "Format workers"). Packed, a batch is a
 * handful of flat arrays: one string holding every string value, their
 * lengths, numbers in a Float64Array, key and shape indices in an
 * Int32Array. The main thread copies those in one go and cuts the values out
 * of the one string, about a seventh of the cost.
 *
 * Values cut out of the batch's string share its memory (V8 "sliced
 * strings"), so a value kept keeps its batch's text (one input chunk) alive.
 * The import pipeline holds values only for the batch it is writing (keys
 * seen in the file are kept as hashes), so memory stays flat; code that
 * keeps read values for longer should copy them.
 *
 * Anything that is not a string, number, boolean, null or undefined (a
 * nested object from JSON, a row error, a row with `numberText`) travels in
 * `others` by structured clone, so nothing a reader may produce is lost.
 */
import type { ReadItem, ReadRow } from "../../../../formats/_sdk/index.js";

export interface PackedReadItems {
  packed: "read-items";
  /** Value keys, each once. */
  keys: string[];
  /** Per item: 0 (row: then row, line or -1, value count, then key index and tag per value) or 1 (an item from `others`). */
  shape: Int32Array;
  numbers: Float64Array;
  /** UTF-16 lengths of the string values, in order. */
  lengths: Int32Array;
  text: string;
  others: unknown[];
}

enum Tag {
  String = 0,
  Number = 1,
  True = 2,
  False = 3,
  Null = 4,
  Undefined = 5,
  Other = 6,
}

export function isPackedReadItems(value: unknown): value is PackedReadItems {
  return typeof value === "object" && value !== null && (value as { packed?: unknown }).packed === "read-items";
}

/** Packs a batch (in the worker); the typed arrays' buffers can be transferred. */
export function packReadItems(items: ReadItem[]): { packed: PackedReadItems; transfer: ArrayBuffer[] } {
  const keyIds = new Map<string, number>();
  const keys: string[] = [];
  const shape: number[] = [];
  const numbers: number[] = [];
  const lengths: number[] = [];
  const others: unknown[] = [];
  let text = "";
  for (const item of items) {
    // A row with numberText (rare: JSON numbers written as 1.50, 1e21) travels whole, by structured clone.
    if (item.kind !== "row" || item.row.numberText !== undefined) {
      shape.push(1);
      others.push(item);
      continue;
    }
    const { row, line, values } = item.row;
    const names = Object.keys(values);
    shape.push(0, row, line ?? -1, names.length);
    for (const name of names) {
      let id = keyIds.get(name);
      if (id === undefined) {
        id = keys.length;
        keyIds.set(name, id);
        keys.push(name);
      }
      const value = values[name];
      let tag: Tag;
      if (typeof value === "string") {
        tag = Tag.String;
        lengths.push(value.length);
        text += value;
      } else if (typeof value === "number") {
        tag = Tag.Number;
        numbers.push(value);
      } else if (value === true) tag = Tag.True;
      else if (value === false) tag = Tag.False;
      else if (value === null) tag = Tag.Null;
      else if (value === undefined) tag = Tag.Undefined;
      else {
        tag = Tag.Other;
        others.push(value);
      }
      shape.push(id, tag);
    }
  }
  const packed: PackedReadItems = { packed: "read-items", keys, shape: Int32Array.from(shape), numbers: Float64Array.from(numbers), lengths: Int32Array.from(lengths), text, others };
  return { packed, transfer: [packed.shape.buffer as ArrayBuffer, packed.numbers.buffer as ArrayBuffer, packed.lengths.buffer as ArrayBuffer] };
}

/** The batch as the reader yielded it (on the main thread). */
export function unpackReadItems(packed: PackedReadItems): ReadItem[] {
  const { keys, shape, numbers, lengths, text, others } = packed;
  const out: ReadItem[] = [];
  let s = 0;
  let n = 0;
  let l = 0;
  let o = 0;
  let at = 0;
  while (s < shape.length) {
    if (shape[s++] === 1) {
      out.push(others[o++] as ReadItem);
      continue;
    }
    const row = shape[s++]!;
    const line = shape[s++]!;
    const count = shape[s++]!;
    const values: Record<string, unknown> = {};
    for (let c = 0; c < count; c++) {
      const key = keys[shape[s++]!]!;
      const tag = shape[s++] as Tag;
      let value: unknown;
      switch (tag) {
        case Tag.String: {
          const length = lengths[l++]!;
          value = text.slice(at, at + length);
          at += length;
          break;
        }
        case Tag.Number:
          value = numbers[n++];
          break;
        case Tag.True:
          value = true;
          break;
        case Tag.False:
          value = false;
          break;
        case Tag.Null:
          value = null;
          break;
        case Tag.Undefined:
          value = undefined;
          break;
        default:
          value = others[o++];
      }
      // An own "__proto__" key (JSON.parse makes those) must stay a value, not become the object's prototype.
      if (key === "__proto__") Object.defineProperty(values, key, { value, enumerable: true, writable: true, configurable: true });
      else values[key] = value;
    }
    const read: ReadRow = line < 0 ? { row, values } : { row, line, values };
    out.push({ kind: "row", row: read });
  }
  return out;
}
