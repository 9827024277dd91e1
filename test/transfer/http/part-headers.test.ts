/**
 * The part headers read beside busboy (services/transfer/api/http/part-headers.ts)
 * and the rule for a file part's declared charset (declared-charset.ts): the
 * headers of every part, whatever the chunks the body arrives in, and a
 * charset that agrees with the import's encoding or is refused.
 */
import { describe, expect, it } from "vitest";
import { MAX_HEADER_BYTES, PartHeaderScanner } from "../../../services/transfer/api/http/part-headers.js";
import { charsetOf, checkBundleCharset, checkDeclaredCharset } from "../../../services/transfer/api/http/declared-charset.js";

/** A multipart body as undici writes it, and its boundary. */
async function multipart(form: FormData): Promise<{ body: Buffer; boundary: string }> {
  const response = new Response(form);
  const boundary = /boundary=(.+)$/.exec(response.headers.get("content-type")!)![1]!;
  return { body: Buffer.from(await response.arrayBuffer()), boundary };
}

function scan(body: Buffer, boundary: string, chunkSizes: (i: number) => number, maxFieldBytes = 1 << 20) {
  const scanner = new PartHeaderScanner(boundary, maxFieldBytes);
  for (let at = 0, i = 0; at < body.length; i++) {
    const size = Math.max(1, chunkSizes(i));
    scanner.write(body.subarray(at, at + size));
    at += size;
  }
  return scanner;
}

describe("the part headers of an upload", () => {
  const form = new FormData();
  form.append("entity", "users");
  form.append("options", '{"delimiter":";"}');
  // A file that holds what a delimiter starts with, and a line like one.
  const file = "email,name\r\n--x,-\r\n\r\n--formdata-undici,Jos\u00e9\r\n";
  form.append("file", new Blob([file], { type: "text/csv;charset=utf-8" }), "users.csv");
  form.append("dry_run", "true");

  it("are each part's, in order, read whole, a byte at a time and in chunks of every size up to 97", async () => {
    const { body, boundary } = await multipart(form);
    const expected = [
      { name: "entity", headers: { "content-disposition": 'form-data; name="entity"' }, file: false, body: Buffer.from("users") },
      { name: "options", headers: { "content-disposition": 'form-data; name="options"' }, file: false, body: Buffer.from('{"delimiter":";"}') },
      { name: "file", headers: { "content-disposition": 'form-data; name="file"; filename="users.csv"', "content-type": "text/csv;charset=utf-8" }, file: true },
      { name: "dry_run", headers: { "content-disposition": 'form-data; name="dry_run"' }, file: false, body: Buffer.from("true") },
    ];
    expect(scan(body, boundary, () => body.length).parts).toEqual(expected);
    expect(scan(body, boundary, () => 1).parts).toEqual(expected);
    for (let size = 2; size <= 97; size++) expect(scan(body, boundary, () => size).parts, `chunks of ${size}`).toEqual(expected);
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) % 40;
    expect(scan(body, boundary, random).parts).toEqual(expected);
  });

  it("skip a preamble, join folded header lines, and keep the first of a header given twice", () => {
    const body = Buffer.from(
      [
        "a preamble that mentions --b but is not a delimiter",
        "--b",
        'Content-Disposition: form-data; name="file";',
        ' filename="u.csv"',
        "Content-Type: text/csv; charset=windows-1252",
        "Content-Type: text/plain",
        "",
        "body",
        "--b--",
        "",
      ].join("\r\n"),
    );
    const parts = scan(body, "b", () => 3).parts;
    expect(parts).toEqual([{ name: "file", headers: { "content-disposition": 'form-data; name="file"; filename="u.csv"', "content-type": "text/csv; charset=windows-1252" }, file: true }]);
  });

  it("keep a field's bytes as sent, whatever their encoding and however they are split, and one byte past the limit only", () => {
    // Latin-1 "é", a CR LF and the start of a delimiter (another boundary), all inside fields; a text/plain part is a field too, an octet-stream one a file.
    const fieldBytes = Buffer.from([0x4a, 0x6f, 0x73, 0xe9, 0x0d, 0x0a, 0x2d, 0x2d, 0x63, 0x58]);
    const body = Buffer.concat([
      Buffer.from('--b\r\nContent-Disposition: form-data; name="mapping"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'),
      fieldBytes,
      Buffer.from('\r\n--b\r\nContent-Disposition: form-data; name="empty"\r\n\r\n\r\n--b\r\nContent-Disposition: form-data; name="blob"\r\nContent-Type: Application/Octet-Stream\r\n\r\nxyz'),
      Buffer.from('\r\n--b\r\nContent-Disposition: form-data; name="long"\r\n\r\n0123456789\r\n--b--\r\n'),
    ]);
    for (let size = 1; size <= body.length; size++) {
      const parts = scan(body, "b", () => size, 6).parts;
      expect(
        parts.map((p) => [p.name, p.file, p.body]),
        `chunks of ${size}`,
      ).toEqual([
        ["mapping", false, fieldBytes.subarray(0, 7)],
        ["empty", false, Buffer.alloc(0)],
        ["blob", true, undefined],
        ["long", false, Buffer.from("0123456")],
      ]);
    }
    expect(scan(body, "b", () => body.length, 100).parts[0]!.body).toEqual(fieldBytes);
  });

  it("say why a part has no name: no Content-Disposition, an unreadable one, one not form-data, one without a name", () => {
    const body = Buffer.from(
      [
        "--b",
        "Content-Type: text/plain",
        "",
        "a",
        "--b",
        'Content-Disposition: form-data; name="x"; junk',
        "",
        "b",
        "--b",
        'Content-Disposition: attachment; filename="f.csv"',
        "",
        "c",
        "--b",
        "Content-Disposition: form-data",
        "",
        "d",
        "--b--",
        "",
      ].join("\r\n"),
    );
    expect(scan(body, "b", () => 5).parts.map((p) => p.problem)).toEqual([
      'has no Content-Disposition header (form-data; name="…")',
      'has a Content-Disposition this endpoint cannot read (invalid parameter format): "form-data; name=\\"x\\"; junk"',
      'is Content-Disposition: attachment, not form-data: "attachment; filename=\\"f.csv\\""',
      'has no name in its Content-Disposition: "form-data"',
    ]);
  });

  it("stop at a header block longer than the limit, saying so", () => {
    const body = Buffer.from(`--b\r\nContent-Disposition: form-data; name="x"\r\nX-Long: ${"y".repeat(MAX_HEADER_BYTES)}\r\n\r\nv\r\n--b--\r\n`);
    const scanner = scan(body, "b", () => 1000);
    expect(scanner.overflowed).toBe(true);
    expect(scanner.parts).toEqual([]);
  });
});

describe("a file part's declared charset", () => {
  it("is the Content-Type's charset parameter, lower case, quoted or not", () => {
    expect(charsetOf("text/csv; charset=Windows-1252")).toBe("windows-1252");
    expect(charsetOf('text/csv; charset="utf-8"')).toBe("utf-8");
    expect(charsetOf("text/csv")).toBeUndefined();
    expect(charsetOf(undefined)).toBeUndefined();
  });

  it("agrees with reading UTF-8 when it is UTF-8 or US-ASCII, and with the encoding option naming it", () => {
    for (const type of ["text/csv; charset=utf-8", "text/csv; charset=US-ASCII", "text/csv"]) expect(() => checkDeclaredCharset(type, {}, "options")).not.toThrow();
    expect(() => checkDeclaredCharset("text/csv; charset=utf-8", { encoding: "utf-8" }, "options")).not.toThrow();
    expect(() => checkDeclaredCharset("text/csv; charset=windows-1252", { encoding: "windows-1252" }, "options")).not.toThrow();
    expect(() => checkDeclaredCharset("text/csv; charset=iso-8859-1", { encoding: "latin1" }, "options")).not.toThrow();
    expect(() => checkDeclaredCharset("text/csv; charset=utf-16", { encoding: "utf-16be" }, "options")).not.toThrow();
  });

  it("is refused when the file would be read otherwise, naming the option to give", () => {
    expect(() => checkDeclaredCharset("text/csv; charset=windows-1252", {}, "options")).toThrow(
      'the file part declares charset=windows-1252, but the file would be read as UTF-8: give options {"encoding": "windows-1252"} to read it so (the csv format takes it)',
    );
    expect(() => checkDeclaredCharset("text/csv; charset=windows-1252", { encoding: "auto" }, "options")).toThrow(
      'the file part declares charset=windows-1252, but options say encoding "auto": say one encoding ("windows-1252")',
    );
    expect(() => checkDeclaredCharset("text/csv; charset=utf-8", { encoding: "latin1" }, "options")).toThrow(/say one encoding \("utf-8"\)/);
  });

  it("is refused when this service does not read it", () => {
    expect(() => checkDeclaredCharset("text/csv; charset=koi8-r", { encoding: "koi8-r" }, "options")).toThrow(/^the file part declares charset=koi8-r, which this service does not read/);
  });

  it("on a bundle is refused unless UTF-8: a ZIP's entries carry their own", () => {
    expect(() => checkBundleCharset("application/zip; charset=utf-8")).not.toThrow();
    expect(() => checkBundleCharset("application/zip")).not.toThrow();
    expect(() => checkBundleCharset("application/zip; charset=windows-1252")).toThrow(/a bundle is a ZIP or a workbook/);
  });
});
