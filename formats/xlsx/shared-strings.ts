/**
 * The shared-strings table of a workbook (`xl/sharedStrings.xml`), bounded.
 *
 * Cells of text point into this table by index, and any cell may point
 * anywhere, so it is loaded before the sheet is read. Its first
 * {@link IN_MEMORY_CHARS} characters (and at most {@link IN_MEMORY_STRINGS}
 * strings) stay in memory; past that every further string is spilled to a
 * temporary file as UTF-8 and read back by offset when a cell asks for it
 * (a small cache in front), so a workbook whose table is larger than memory
 * still reads in flat memory, at the cost of one positioned read per
 * spilled lookup. The table may hold at most {@link MAX_STRINGS} strings
 * (8 bytes of offset each stay in memory): past it the file is refused with
 * a clear error. The temporary file is removed when reading ends.
 */
import { closeSync, openSync, readSync, writeSync } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FormatError } from "@data-exchange/format-sdk";
import { decodeOoxmlEscapes } from "../_spreadsheet/xml-escape.js";
import { parseXml, attr } from "../_spreadsheet/xml-stream.js";

export const IN_MEMORY_CHARS = 16 * 1024 * 1024;
export const IN_MEMORY_STRINGS = 500_000;
export const MAX_STRINGS = 20_000_000;
const CACHE_SLOTS = 4096;

export interface SharedStringsLimits {
  inMemoryChars: number;
  inMemoryStrings: number;
  maxStrings: number;
}

const DEFAULT_LIMITS: SharedStringsLimits = { inMemoryChars: IN_MEMORY_CHARS, inMemoryStrings: IN_MEMORY_STRINGS, maxStrings: MAX_STRINGS };

export class SharedStrings {
  private memory: string[] = [];
  private chars = 0;
  private spill?: { dir: string; fd: number; offsets: Float64Array; count: number; end: number };
  private readonly cache = new Array<string | undefined>(CACHE_SLOTS);
  private readonly cacheIds = new Int32Array(CACHE_SLOTS).fill(-1);

  private constructor(private readonly limits: SharedStringsLimits) {}

  /** Strings spilled to the temporary file (0 while the table fits in memory). */
  get spilled(): number {
    return this.spill?.count ?? 0;
  }

  get size(): number {
    return this.memory.length + (this.spill?.count ?? 0);
  }

  /** The string at `index`, or undefined when the table has no such entry. */
  get(index: number): string | undefined {
    if (index < this.memory.length) return this.memory[index];
    const s = this.spill;
    if (s === undefined) return undefined;
    const i = index - this.memory.length;
    if (i >= s.count) return undefined;
    const slot = index % CACHE_SLOTS;
    if (this.cacheIds[slot] === index) return this.cache[slot];
    const start = s.offsets[i]!;
    const length = s.offsets[i + 1]! - start;
    const buf = Buffer.allocUnsafe(length);
    if (length > 0) readSync(s.fd, buf, 0, length, start);
    const text = buf.toString("utf8");
    this.cacheIds[slot] = index;
    this.cache[slot] = text;
    return text;
  }

  close(): void {
    if (this.spill) {
      closeSync(this.spill.fd);
      rmSync(this.spill.dir, { recursive: true, force: true });
      this.spill = undefined;
    }
    this.memory = [];
  }

  private add(text: string): void {
    if (this.spill === undefined && this.chars + text.length <= this.limits.inMemoryChars && this.memory.length < this.limits.inMemoryStrings) {
      this.memory.push(text);
      this.chars += text.length;
      return;
    }
    const s = (this.spill ??= this.openSpill());
    if (this.memory.length + s.count + 1 > this.limits.maxStrings) {
      throw new FormatError(`the workbook's shared-strings table has more than ${this.limits.maxStrings} strings, more than this reader holds`);
    }
    if (s.count + 2 > s.offsets.length) {
      const grown = new Float64Array(s.offsets.length * 2);
      grown.set(s.offsets);
      s.offsets = grown;
    }
    const bytes = Buffer.from(text, "utf8");
    if (bytes.length > 0) writeSync(s.fd, bytes, 0, bytes.length, s.end);
    s.end += bytes.length;
    s.count++;
    s.offsets[s.count] = s.end;
  }

  private openSpill() {
    const dir = mkdtempSync(join(tmpdir(), "dx-sst-"));
    const fd = openSync(join(dir, "strings"), "w+");
    const offsets = new Float64Array(1 << 16);
    offsets[0] = 0;
    return { dir, fd, offsets, count: 0, end: 0 };
  }

  /** Loads the table from its part; `maxTextChars` bounds one string. */
  static async load(chunks: AsyncIterable<Uint8Array> | undefined, maxTextChars: number, limits: SharedStringsLimits = DEFAULT_LIMITS): Promise<SharedStrings> {
    const table = new SharedStrings(limits);
    if (chunks === undefined) return table;
    try {
      const collector = new RichText(maxTextChars, "xl/sharedStrings.xml");
      let inItem = false;
      for await (const _ of parseXml(
        chunks,
        {
          open(name, attributes, selfClosing) {
            if (name === "si") {
              inItem = true;
              collector.reset();
              if (selfClosing) table.add("");
            } else if (inItem) collector.open(name, attributes, selfClosing);
          },
          close(name) {
            if (name === "si" && inItem) {
              inItem = false;
              table.add(collector.value());
            } else if (inItem) collector.close(name);
          },
          text(t) {
            if (inItem) collector.text(t);
          },
        },
        "xl/sharedStrings.xml",
        maxTextChars,
      ));
    } catch (err) {
      table.close();
      throw err;
    }
    return table;
  }
}

/**
 * The text of a string item (`<si>` or an inline `<is>`): plain `<t>`, or
 * rich-text runs `<r><t>…</t></r>` joined; phonetic guides (`<rPh>`) are not
 * part of the value. Without `xml:space="preserve"` leading and trailing
 * whitespace of a `<t>` is not content (Excel drops it), and `_xHHHH_`
 * escapes are decoded.
 */
export class RichText {
  private parts = "";
  private current = "";
  private inT = false;
  private preserve = false;
  private phonetic = 0;

  constructor(
    private readonly maxChars: number,
    private readonly part: string,
  ) {}

  reset(): void {
    this.parts = "";
    this.inT = false;
    this.phonetic = 0;
  }

  open(name: string, attributes: Record<string, string>, selfClosing: boolean): void {
    if (name === "rPh") {
      if (!selfClosing) this.phonetic++;
    } else if (name === "t" && this.phonetic === 0 && !selfClosing) {
      this.inT = true;
      this.current = "";
      this.preserve = attr(attributes, "space") === "preserve";
    }
  }

  close(name: string): void {
    if (name === "rPh") this.phonetic = Math.max(0, this.phonetic - 1);
    else if (name === "t" && this.inT) {
      this.inT = false;
      const t = this.preserve ? this.current : this.current.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
      this.parts += t;
      if (this.parts.length > this.maxChars) throw new FormatError(`a string in ${this.part} is longer than ${this.maxChars} characters`);
    }
  }

  text(t: string): void {
    if (this.inT) this.current += t;
  }

  value(): string {
    return decodeOoxmlEscapes(this.parts);
  }
}
