/**
 * Bytes that are not the encoding a file is read in are never replaced with
 * U+FFFD: they are refused where they are (line, byte offset, the encoding
 * they look like), or, with `encoding: "auto"`, decoded as a detector names
 * them and reported. Real-world-shaped files: test/fixtures/real-world/SOURCE.md.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decodeText, invalidUtf8At, type Column } from "../../formats/_sdk/index.js";
import csv from "../../formats/csv/index.js";
import { chunked, readAll, values, writeAll } from "./support.js";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/real-world/${name}`, import.meta.url));
const latin1 = fixture("csvkit-test_latin1.csv");
const moodle1252 = fixture("moodle-upload-users-windows-1252.csv");

describe("a file that is not UTF-8, read without an encoding", () => {
  it("is refused at the line and byte of the first bad byte, naming the encoding it looks like, and the rows before it are read", async () => {
    for (const chunkSize of [undefined, 1, 5]) {
      const result = await readAll(csv, latin1, { chunkSize });
      expect(result.rows.map((r) => r.values)).toEqual([{ a: "1", b: "2", c: "3" }]);
      expect(result.fatal?.line).toBe(3);
      expect(result.fatal?.offset).toBe(16);
      expect(result.fatal?.message).toMatch(/not valid UTF-8.*line 3, byte 16 \(byte 0xA9\).*looks like windows-1252.*encoding "auto"/);
      expect(JSON.stringify(result)).not.toContain("\uFFFD");
    }
  });

  it("names windows-1252 for an Excel-saved Moodle upload with curly quotes, at the first accented name", async () => {
    const result = await readAll(csv, moodle1252);
    expect(result.rows).toEqual([]);
    expect(result.fatal?.line).toBe(2);
    expect(result.fatal?.message).toMatch(/looks like windows-1252 \(detector: windows-1252, confidence \d+%\)/);
  });
});

describe("encoding: auto", () => {
  it("decodes an Excel-saved Moodle upload as windows-1252 and reports the guess and its confidence", async () => {
    for (const chunkSize of [undefined, 1, 7]) {
      const result = await readAll(csv, moodle1252, { options: { encoding: "auto" }, chunkSize });
      expect(result.fatal).toBeUndefined();
      expect(values(result).map((v) => `${v.firstname} ${v.lastname}`)).toEqual(["José García", "Zoë Müller", "François O’Brien", "Björk Lindqvist – Ærø"]);
      expect(result.encoding).toMatchObject({ name: "windows-1252", source: "detected" });
      expect(result.encoding?.confidence).toBeGreaterThan(0);
      expect(result.header?.detected).toMatchObject({ encoding: "windows-1252" });
    }
  });

  it("decodes csvkit's Latin-1 sample, whose single non-ASCII byte gives a detector little to go on, with a low reported confidence", async () => {
    const result = await readAll(csv, latin1, { options: { encoding: "auto" }, chunkSize: 1 });
    expect(values(result)).toEqual([
      { a: "1", b: "2", c: "3" },
      { a: "4", b: "5", c: "©" },
    ]);
    expect(result.encoding).toMatchObject({ name: "windows-1252", source: "detected" });
  });

  it("reads a UTF-8 file as UTF-8 and says so", async () => {
    const result = await readAll(csv, fixture("moodle-upload-users.csv"), { options: { encoding: "auto" } });
    expect(values(result)[0]).toMatchObject({ firstname: "José" });
    expect(result.encoding).toEqual({ name: "utf-8", source: "default" });
  });

  it("refuses a file that mixes valid UTF-8 with other bytes: no single encoding reads it", async () => {
    const mixed = Buffer.concat([Buffer.from("name\nZoë\n", "utf8"), Buffer.from("Jos\xe9\n", "latin1")]);
    const result = await readAll(csv, mixed, { options: { encoding: "auto" } });
    expect(result.fatal?.message).toMatch(/mixes encodings/);
    expect(result.fatal?.line).toBe(3);
    expect(values(result)).toEqual([{ name: "Zoë" }]);
  });
});

describe("declared encodings", () => {
  it("reads windows-1252 when declared, curly apostrophe and en dash included", async () => {
    const result = await readAll(csv, moodle1252, { options: { encoding: "windows-1252" } });
    expect(values(result)[2]).toMatchObject({ lastname: "O’Brien" });
    expect(result.encoding).toEqual({ name: "windows-1252", source: "option" });
  });

  it("writes windows-1252 that reads back the same, and refuses a character it cannot hold", async () => {
    const cols: Column[] = [{ key: "name", label: "Name", type: "string" }];
    const rows = [{ name: "O’Brien – 5 € ‰ œ Ÿ é" }];
    const out = await writeAll(csv, rows, cols, { encoding: "windows-1252" }, false);
    expect(Buffer.from(out).includes(0x92)).toBe(true);
    expect(values(await readAll(csv, out, { options: { encoding: "windows-1252" } }))).toEqual(rows);
    await expect(writeAll(csv, [{ name: "漢字" }], cols, { encoding: "windows-1252" }, false)).rejects.toThrow('character "漢" (U+6F22) cannot be written in windows-1252');
  });

  it("names a character outside the Basic Multilingual Plane whole when an encoding cannot hold it, not half of its surrogate pair", async () => {
    const cols: Column[] = [{ key: "name", label: "Name", type: "string" }];
    await expect(writeAll(csv, [{ name: "ok" }, { name: "Zoë 😀" }], cols, { encoding: "latin1" }, false)).rejects.toThrow('character "😀" (U+1F600) cannot be written in latin1');
  });

  it("refuses UTF-8 declared for bytes that are not, at their line and offset", async () => {
    const result = await readAll(csv, latin1, { options: { encoding: "utf-8" } });
    expect(result.fatal?.message).toMatch(/not valid UTF-8 declared as utf-8: invalid bytes at line 3, byte 16/);
  });

  it("refuses 'auto' on write", async () => {
    await expect(writeAll(csv, [], [{ key: "a", label: "A", type: "string" }], { encoding: "auto" })).rejects.toThrow(/reading only/);
  });
});

describe("UTF-16 without a byte order mark", () => {
  it("is recognised by its zero bytes, little- and big-endian", async () => {
    const text = "username,firstname\r\njgarcia,José\r\nzhang,张伟\r\n";
    for (const [name, bytes] of [
      ["utf-16le", Buffer.from(text, "utf16le")],
      ["utf-16be", Buffer.from(text, "utf16le").swap16()],
    ] as const) {
      for (const chunkSize of [undefined, 1, 3]) {
        const result = await readAll(csv, bytes, { chunkSize });
        expect(values(result)).toEqual([
          { username: "jgarcia", firstname: "José" },
          { username: "zhang", firstname: "张伟" },
        ]);
        expect(result.encoding).toEqual({ name, source: "detected" });
      }
    }
  });

  it("is recognised when an early character has a zero byte of its own (一 U+4E00, 最 U+6700, Ā U+0100)", async () => {
    const text = "username,firstname,lastname\r\nwang,一,最\r\nzhang,Ā,伟\r\n";
    for (const [name, bytes] of [
      ["utf-16le", Buffer.from(text, "utf16le")],
      ["utf-16be", Buffer.from(text, "utf16le").swap16()],
    ] as const) {
      const result = await readAll(csv, bytes);
      expect(values(result)).toEqual([
        { username: "wang", firstname: "一", lastname: "最" },
        { username: "zhang", firstname: "Ā", lastname: "伟" },
      ]);
      expect(result.encoding).toEqual({ name, source: "detected" });
    }
  });

  it("refuses a lone surrogate in UTF-16 at its byte offset", async () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("a\nb", "utf16le"), Buffer.from([0x00, 0xd8]), Buffer.from("\n", "utf16le")]);
    const result = await readAll(csv, bytes);
    expect(result.fatal?.message).toMatch(/not valid UTF-16LE/);
    expect(result.fatal?.offset).toBe(8);
  });

  it("refuses UTF-16 that ends in half a unit or half a surrogate pair at its byte offset, the rows before it read", async () => {
    const rows = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("code,title\nQA-W5,odd\n", "utf16le")]);
    for (const [tail, offset] of [
      [Buffer.from([0x41]), rows.length],
      [Buffer.from([0x3d, 0xd8]), rows.length],
    ] as const) {
      for (const chunkSize of [undefined, 1, 3]) {
        const result = await readAll(csv, Buffer.concat([rows, tail]), { chunkSize });
        expect(result.fatal?.message).toMatch(/not valid UTF-16LE/);
        expect(result.fatal?.offset).toBe(offset);
        expect(values(result)).toEqual([{ code: "QA-W5", title: "odd" }]);
      }
    }
  });
});

describe("decodeText", () => {
  it("finds the first invalid UTF-8 byte: overlong forms, surrogates, cut sequences", () => {
    expect(invalidUtf8At(Buffer.from("abc"))).toBe(3);
    expect(invalidUtf8At(Buffer.from([0x61, 0xc0, 0xaf]))).toBe(1);
    expect(invalidUtf8At(Buffer.from([0x61, 0xed, 0xa0, 0x80]))).toBe(1);
    expect(invalidUtf8At(Buffer.from([0xe2, 0x82]))).toBe(0);
    expect(invalidUtf8At(Buffer.from("é😀", "utf8"))).toBe(6);
  });

  it("gives the same text for every chunking of valid UTF-8", async () => {
    const text = "name\nZoë Ångström 漢字 😀\n".repeat(50);
    for (const size of [1, 2, 3, 5, 64]) {
      let out = "";
      for await (const t of decodeText(chunked(text, size), undefined)) out += t;
      expect(out).toBe(text);
    }
  });
});
