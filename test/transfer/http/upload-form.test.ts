/**
 * `POST /import`'s form as people and tools send it: fields before or after
 * the file (curl sends them in the order typed), the job JSON's spellings,
 * typos, a second file, and forms built to overflow the parser's limits.
 * Every field counts wherever it is, and every form the route cannot take
 * whole is refused with 400 before a record is written.
 */
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Entity } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { startServices, type Services } from "../rpc/harness.js";

let s: Services;

beforeAll(async () => {
  s = await startServices();
});
afterAll(async () => s?.close());

type Part = [name: string, value: string] | [name: string, file: { content: string; fileName: string }];

function form(parts: Part[]): FormData {
  const body = new FormData();
  for (const [name, value] of parts) {
    if (typeof value === "string") body.append(name, value);
    else body.append(name, new Blob([value.content], { type: "text/csv" }), value.fileName);
  }
  return body;
}

const csv = (prefix: string, rows = 2) => ({ content: `email,username\n${Array.from({ length: rows }, (_, i) => `${prefix}${i}@example.org,${prefix}${i}`).join("\n")}\n`, fileName: `${prefix}.csv` });

async function users(): Promise<number> {
  return Number((await s.recordsClient.countRecords({ entity: Entity.USERS })).count);
}

async function post(parts: Part[]): Promise<{ status: number; body: Record<string, unknown> & { message?: string } }> {
  const res = await fetch(`${s.transfer.url}/import`, { method: "POST", body: form(parts) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Posts, expects a 400 whose message matches, and checks that no record and no job was written. */
async function expectRefused(parts: Part[], message: RegExp): Promise<void> {
  const before = [await users(), await s.transferDb.db.collection("jobs").countDocuments()];
  const res = await post(parts);
  expect(res.status).toBe(400);
  expect(res.body).toMatchObject({ code: "invalid_argument" });
  expect(res.body.message).toMatch(message);
  expect([await users(), await s.transferDb.db.collection("jobs").countDocuments()]).toEqual(before);
}

describe("field order", () => {
  it("a dry_run after the file is a dry run: nothing is written", async () => {
    const before = await users();
    const res = await post([
      ["format", "csv"],
      ["entity", "users"],
      ["file", csv("late-dry")],
      ["dry_run", "true"],
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ dryRun: true, read: 2, inserted: 2, failed: 0 });
    expect(await users()).toBe(before);
  });

  it("mode, strict and options after the file are applied too", async () => {
    const first = await post([
      ["file", csv("late-mode", 1)],
      ["format", "csv"],
      ["entity", "users"],
    ]);
    expect(first.body).toMatchObject({ inserted: 1 });
    const semicolons = { content: "email;username\nlate-mode0@example.org;late-mode0\n", fileName: "semi.csv" };
    const again = await post([
      ["format", "csv"],
      ["entity", "users"],
      ["file", semicolons],
      ["mode", "upsert"],
      ["strict", "true"],
      ["options", '{"delimiter":";"}'],
    ]);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ read: 1, inserted: 0, unchanged: 1, failed: 0 });
    const job = (await (await fetch(`${s.transfer.url}/jobs/${again.body.jobId as string}`)).json()) as Record<string, unknown>;
    expect(job).toMatchObject({ mode: "upsert", strict: true, formatOptions: { delimiter: ";" } });
  });
});

describe("names the form does not take", () => {
  it("refuses the job JSON's spelling dryRun, naming dry_run, and writes nothing", async () => {
    await expectRefused(
      [
        ["format", "csv"],
        ["entity", "users"],
        ["dryRun", "true"],
        ["file", csv("camel")],
      ],
      /unknown form field "dryRun" \(did you mean dry_run\?\).*accepted: file, format, entity, mode, strict, dry_run, options, mapping/,
    );
    await expectRefused(
      [
        ["file", csv("camel2")],
        ["format", "csv"],
        ["entity", "users"],
        ["formatOptions", "{}"],
      ],
      /"formatOptions" \(did you mean options\?\)/,
    );
  });

  it("refuses a field it does not know, before or after the file", async () => {
    await expectRefused(
      [
        ["bogus", "1"],
        ["format", "csv"],
        ["entity", "users"],
        ["file", csv("bogus")],
      ],
      /unknown form field "bogus" for POST \/import; accepted: /,
    );
    await expectRefused(
      [
        ["format", "csv"],
        ["entity", "users"],
        ["file", csv("bogus2")],
        ["bogus", "1"],
      ],
      /unknown form field "bogus"/,
    );
  });

  it("refuses a field given twice, and a second file", async () => {
    await expectRefused(
      [
        ["format", "csv"],
        ["entity", "users"],
        ["dry_run", "true"],
        ["dry_run", "false"],
        ["file", csv("twice")],
      ],
      /dry_run may be given only once/,
    );
    await expectRefused(
      [
        ["format", "csv"],
        ["entity", "users"],
        ["file", csv("one")],
        ["file", csv("two")],
      ],
      /file may be given only once/,
    );
    await expectRefused(
      [
        ["format", "csv"],
        ["entity", "users"],
        ["file", csv("one")],
        ["attachment", csv("two")],
      ],
      /unknown form field "attachment"/,
    );
  });

  it("refuses a mapping entry with a key it does not know", async () => {
    const mapping = JSON.stringify([{ source: "Mail", field: "email", transform: [{ kind: "lowercase" }] }]);
    await expectRefused(
      [
        ["format", "csv"],
        ["entity", "users"],
        ["mapping", mapping],
        ["file", { content: "Mail,username\nA@B.ORG,ab\n", fileName: "m.csv" }],
      ],
      /mapping is invalid: .*transform/,
    );
  });

  it("refuses options or a mapping that give a key twice, rather than keep the last one", async () => {
    // JSON.parse keeps the last: this file would have been decoded as UTF-8 (or Latin-1, the other way round) without a word.
    await expectRefused(
      [
        ["format", "csv"],
        ["entity", "users"],
        ["options", '{"encoding":"latin1","delimiter":";","encoding":"utf-8"}'],
        ["file", csv("twice")],
      ],
      /^options: duplicate key "encoding": the object gives it twice/,
    );
    await expectRefused(
      [
        ["format", "csv"],
        ["entity", "users"],
        ["mapping", '[{"source":"Mail","field":"email","field":"username"}]'],
        ["file", { content: "Mail\nab\n", fileName: "m.csv" }],
      ],
      /^mapping: duplicate key "\[0\]\.field"/,
    );
  });
});

/** A multipart body written by hand, for part headers FormData cannot set; each part: name, extra header lines, body. */
/** A raw part: `disposition` replaces the Content-Disposition built from name and fileName (null: none at all). */
interface RawPart {
  name: string;
  fileName?: string;
  disposition?: string | null;
  headers?: string[];
  body: string | Buffer;
}

async function postRaw(parts: RawPart[], contentType = "multipart/form-data; boundary=----dx-test-boundary"): Promise<{ status: number; body: Record<string, unknown> & { message?: string } }> {
  const boundary = "----dx-test-boundary";
  const bytes = parts.flatMap((p) => {
    const disposition = p.disposition === undefined ? `form-data; name="${p.name}"${p.fileName ? `; filename="${p.fileName}"` : ""}` : p.disposition;
    const headers = [...(disposition === null ? [] : [`Content-Disposition: ${disposition}`]), ...(p.headers ?? [])];
    return [Buffer.from(`--${boundary}\r\n${headers.join("\r\n")}\r\n\r\n`), Buffer.from(p.body), Buffer.from("\r\n")];
  });
  const res = await fetch(`${s.transfer.url}/import`, {
    method: "POST",
    headers: { "content-type": contentType },
    body: Buffer.concat([...bytes, Buffer.from(`--${boundary}--\r\n`)]),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The fields every raw form below starts with. */
const fields: RawPart[] = [
  { name: "format", body: "csv" },
  { name: "entity", body: "users" },
];

/** A one-row users file whose email and username start with `prefix`. */
const file = (prefix: string): RawPart => ({ name: "file", fileName: `${prefix}.csv`, headers: ["Content-Type: text/csv"], body: `email,username\r\n${prefix}@example.org,${prefix}\r\n` });

/** Posts raw parts, expects a 400 whose message matches, and checks that no record and no job was written. */
async function expectRawRefused(parts: RawPart[], message: RegExp, contentType?: string): Promise<void> {
  const before = [await users(), await s.transferDb.db.collection("jobs").countDocuments()];
  const res = await postRaw(parts, contentType);
  expect(res.status).toBe(400);
  expect(res.body).toMatchObject({ code: "invalid_argument" });
  expect(res.body.message).toMatch(message);
  expect([await users(), await s.transferDb.db.collection("jobs").countDocuments()]).toEqual(before);
}

describe("transfer-encoded parts", () => {
  it("refuses a quoted-printable file instead of importing its escapes as text, and writes nothing", async () => {
    const before = [await users(), await s.transferDb.db.collection("jobs").countDocuments()];
    // Read as it is, this row would store the username "jos=C3=A9".
    const res = await postRaw([
      ...fields,
      { name: "file", fileName: "qp.csv", headers: ["Content-Type: text/csv", "Content-Transfer-Encoding: quoted-printable"], body: "email,username\r\njose@example.org,jos=C3=A9\r\n" },
    ]);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "invalid_argument" });
    expect(res.body.message).toMatch(/^the form part "file" is sent with Content-Transfer-Encoding: quoted-printable, which this endpoint does not decode/);
    expect([await users(), await s.transferDb.db.collection("jobs").countDocuments()]).toEqual(before);
  });

  it("refuses a base64 form field, naming it", async () => {
    const before = await users();
    const res = await postRaw([
      ...fields,
      { name: "dry_run", headers: ["Content-Transfer-Encoding: BASE64"], body: Buffer.from("true").toString("base64") },
      { name: "file", fileName: "b.csv", body: "email,username\r\nb64@example.org,b64\r\n" },
    ]);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/the form part "dry_run" is sent with Content-Transfer-Encoding: base64/);
    expect(await users()).toBe(before);
  });

  it("takes parts that say their bytes are as they are: binary, 8bit, 7bit or no header", async () => {
    const res = await postRaw([
      { name: "format", headers: ["Content-Transfer-Encoding: 7bit"], body: "csv" },
      { name: "entity", headers: ["Content-Transfer-Encoding: 8bit"], body: "users" },
      { name: "file", fileName: "bin.csv", headers: ["Content-Type: text/csv", "Content-Transfer-Encoding: binary"], body: "email,username\r\nbinary-cte@example.org,binary-cte\r\n" },
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ read: 1, inserted: 1, failed: 0 });
  });
});

describe("parts the multipart parser would skip without a word", () => {
  it("refuses a dry_run whose Content-Disposition cannot be read, where dropping it would write the file for real", async () => {
    await expectRawRefused(
      [...fields, { name: "dry_run", disposition: 'form-data; name="dry_run"; junk', body: "true" }, file("skipped-dry-run")],
      /^the form's part 3 has a Content-Disposition this endpoint cannot read \(invalid parameter format\): "form-data; name=\\"dry_run\\"; junk"$/,
    );
  });

  it("refuses a part with no Content-Disposition, one that is not form-data, and one without a name", async () => {
    await expectRawRefused(
      [...fields, { name: "dry_run", disposition: null, headers: ["Content-Type: text/plain"], body: "true" }, file("no-disposition")],
      /^the form's part 3 has no Content-Disposition header/,
    );
    await expectRawRefused(
      [...fields, { name: "dry_run", disposition: 'attachment; name="dry_run"', body: "true" }, file("attachment")],
      /^the form's part 3 is Content-Disposition: attachment, not form-data/,
    );
    await expectRawRefused([file("nameless-first"), { name: "strict", disposition: "form-data", body: "true" }, ...fields], /^the form's part 2 has no name in its Content-Disposition: "form-data"$/);
  });

  it("refuses a file part named twice, whose declared charset would otherwise go unread", async () => {
    const named = { ...file("named-twice"), disposition: 'form-data; name="file"; name="other"; filename="w.csv"', headers: ["Content-Type: text/csv; charset=windows-1252"] };
    await expectRawRefused([...fields, named], /^the form's part 3 has a Content-Disposition this endpoint cannot read \(invalid duplicate parameter\)/);
  });

  it("refuses a body whose boundary is given twice, which the two readings would split differently", async () => {
    await expectRawRefused(
      [...fields, file("two-boundaries")],
      /^the form's parts cannot be read one way only: part 1 is no part by the boundary/,
      'multipart/form-data; boundary="----dx-test-boundary"; boundary=other',
    );
  });

  it("takes what real clients send: an upper-case disposition, an RFC 5987 file name, a name before form-data's parameters in any order", async () => {
    const res = await postRaw([
      { name: "format", disposition: 'FORM-DATA; NAME="format"', body: "csv" },
      { name: "entity", disposition: "form-data; name=entity", body: "users" },
      { ...file("rfc5987"), disposition: "form-data; filename*=utf-8''%E2%82%AC.csv; name=\"file\"" },
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ read: 1, inserted: 1, failed: 0 });
  });
});

describe("form fields' bytes", () => {
  /** A mapping that fills firstName with `name` (its bytes as given) in every row. */
  const mapping = (name: Buffer) =>
    Buffer.concat([
      Buffer.from('[{"source":"email","field":"email"},{"source":"username","field":"username"},{"source":"","field":"firstName","transforms":[{"kind":"default","value":"'),
      name,
      Buffer.from('"}]}]'),
    ]);
  const latin1Jose = Buffer.from([0x4a, 0x6f, 0x73, 0xe9]);

  it("refuses a mapping whose default value is not UTF-8, which would otherwise store U+FFFD in every row", async () => {
    const body = mapping(latin1Jose);
    await expectRawRefused(
      [...fields, { name: "mapping", body }, file("latin1-default")],
      new RegExp(`^the form field mapping is not valid UTF-8: byte 0xE9 at offset ${body.indexOf(0xe9)}; form fields are read as UTF-8`),
    );
  });

  it("refuses a field that declares a charset other than UTF-8, and a US-ASCII one that is not ASCII", async () => {
    // busboy reads windows-1252 as latin1: 0x80 would be U+0080, not "€".
    await expectRawRefused(
      [...fields, { name: "mapping", headers: ["Content-Type: text/plain; charset=windows-1252"], body: mapping(Buffer.from([0x35, 0x80])) }, file("cp1252-default")],
      /^the form field mapping declares charset=windows-1252; form fields are read as UTF-8 only/,
    );
    const ascii = mapping(Buffer.from("José"));
    await expectRawRefused(
      [...fields, { name: "mapping", headers: ["Content-Type: text/plain; charset=US-ASCII"], body: ascii }, file("ascii-default")],
      new RegExp(`^the form field mapping declares charset=us-ascii but holds byte 0xC3 at offset ${ascii.indexOf(0xc3)}, which is not ASCII`),
    );
  });

  it("refuses a form whose Content-Type says a charset other than UTF-8 for all its fields", async () => {
    await expectRawRefused(
      [...fields, file("form-charset")],
      /^the request's Content-Type says charset=windows-1252, but form fields are read as UTF-8 only/,
      "multipart/form-data; charset=windows-1252; boundary=----dx-test-boundary",
    );
    const utf8 = await postRaw([...fields, file("form-charset-utf8")], "multipart/form-data; boundary=----dx-test-boundary; charset=UTF-8");
    expect(utf8.status).toBe(200);
  });

  it("reads a field as UTF-8 to the byte, with no charset or with charset=UTF-8 as HTTP client libraries send it", async () => {
    for (const [prefix, headers] of [
      ["field-utf8-plain", []],
      ["field-utf8-declared", ["Content-Type: text/plain; charset=UTF-8", "Content-Transfer-Encoding: 8bit"]],
    ] as const) {
      const res = await postRaw([...fields, { name: "mapping", headers: [...headers], body: mapping(Buffer.from("José €")) }, file(prefix)]);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ read: 1, inserted: 1, failed: 0 });
      const stored = await s.recordsClient.getRecord({ entity: Entity.USERS, key: { parts: [`${prefix}@example.org`] } });
      expect(stored.record?.kind.value).toMatchObject({ firstName: "José €" });
    }
  });
});

describe("a compressed body", () => {
  it("is refused, naming its Content-Encoding, rather than read as a form it is not; identity is taken", async () => {
    const body = form([
      ["format", "csv"],
      ["entity", "users"],
      ["file", csv("gzipped")],
    ]);
    const plain = new Response(body);
    const contentType = plain.headers.get("content-type")!;
    const bytes = Buffer.from(await plain.arrayBuffer());
    const before = [await users(), await s.transferDb.db.collection("jobs").countDocuments()];
    for (const [encoding, sent] of [
      ["gzip", gzipSync(bytes)],
      ["GZIP, identity", gzipSync(bytes)],
      // The header set by mistake on a plain body: it says one thing and is another.
      ["br", bytes],
    ] as const) {
      const res = await fetch(`${s.transfer.url}/import`, { method: "POST", headers: { "content-type": contentType, "content-encoding": encoding }, body: sent });
      expect(res.status, encoding).toBe(400);
      const answer = (await res.json()) as { code: string; message: string };
      expect(answer.code).toBe("invalid_argument");
      expect(answer.message).toBe(
        `the request body is sent with Content-Encoding: ${encoding.startsWith("GZIP") ? "gzip" : encoding}, which this endpoint does not decode; send the form uncompressed (a ZIP bundle, POST /import?bundle=true, carries files compressed)`,
      );
    }
    expect([await users(), await s.transferDb.db.collection("jobs").countDocuments()]).toEqual(before);
    const identity = await fetch(`${s.transfer.url}/import`, { method: "POST", headers: { "content-type": contentType, "content-encoding": "identity" }, body: bytes });
    expect(identity.status).toBe(200);
    expect(await identity.json()).toMatchObject({ read: 2, inserted: 2, failed: 0 });
  });
});

describe("forms past the parser's limits", () => {
  it("refuses a form with more than 50 fields instead of dropping the ones past the 50th", async () => {
    // The 52nd field says dry run: dropped, the file would be imported for real.
    const parts: Part[] = [...Array.from({ length: 49 }, (_, i): Part => [`note${i}`, "x"]), ["format", "csv"], ["entity", "users"], ["dry_run", "true"], ["file", csv("many")]];
    await expectRefused(parts, /unknown form field "note0"|more than 50 form fields/);
  });

  it("refuses a field over 1 MiB instead of cutting it", async () => {
    const huge = JSON.stringify([{ source: "x".repeat(1 << 20), field: "email" }]);
    await expectRefused(
      [
        ["format", "csv"],
        ["entity", "users"],
        ["mapping", huge],
        ["file", csv("huge")],
      ],
      /the form field mapping is larger than 1 MiB/,
    );
  });

  it("refuses a field with a long unknown name, quoting the start of it", async () => {
    await expectRefused(
      [
        ["format", "csv"],
        ["entity", "users"],
        ["n".repeat(5000), "1"],
        ["file", csv("longname")],
      ],
      /unknown form field "n{100}…" for POST/,
    );
  });
});

describe("a file part's declared charset", () => {
  // "Ã©" in Windows-1252 is the bytes C3 A9, which are also UTF-8 for "é": read as UTF-8, the name would change silently.
  const windows1252 = Buffer.concat([Buffer.from("email,username,firstName\r\ncharset@example.org,charset,"), Buffer.from([0x4a, 0x6f, 0x73, 0xc3, 0xa9]), Buffer.from("\r\n")]);

  it("is refused when the file would be read as another encoding, naming the option that reads it so, and nothing is written", async () => {
    const before = [await users(), await s.transferDb.db.collection("jobs").countDocuments()];
    const res = await postRaw([...fields, { name: "file", fileName: "w.csv", headers: ["Content-Type: text/csv; charset=windows-1252"], body: windows1252 }]);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "invalid_argument" });
    expect(res.body.message).toBe(
      'the file part declares charset=windows-1252, but the file would be read as UTF-8: give options {"encoding": "windows-1252"} to read it so (the csv format takes it)',
    );
    expect([await users(), await s.transferDb.db.collection("jobs").countDocuments()]).toEqual(before);
  });

  it("is read as declared when the encoding option says the same: the first name is the Windows-1252 text, not UTF-8's", async () => {
    const res = await postRaw([
      ...fields,
      { name: "options", body: '{"encoding":"windows-1252"}' },
      { name: "file", fileName: "w.csv", headers: ["Content-Type: text/csv; charset=windows-1252"], body: windows1252 },
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ read: 1, inserted: 1, failed: 0 });
    const stored = await s.recordsClient.getRecord({ entity: Entity.USERS, key: { parts: ["charset@example.org"] } });
    expect(stored.record?.kind.value).toMatchObject({ firstName: "Jos\u00c3\u00a9" });
  });

  it("is refused when it disagrees with the encoding option, or is one this service does not read", async () => {
    const before = [await users(), await s.transferDb.db.collection("jobs").countDocuments()];
    const disagree = await postRaw([
      ...fields,
      { name: "options", body: '{"encoding":"latin1"}' },
      { name: "file", fileName: "u.csv", headers: ["Content-Type: text/csv; charset=UTF-8"], body: "email,username\r\nutf@example.org,utf\r\n" },
    ]);
    expect(disagree.status).toBe(400);
    expect(disagree.body.message).toBe('the file part declares charset=utf-8, but options say encoding "latin1": say one encoding ("utf-8")');
    const unknown = await postRaw([...fields, { name: "file", fileName: "k.csv", headers: ["Content-Type: text/csv; charset=koi8-r"], body: "email,username\r\nk@example.org,k\r\n" }]);
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toMatch(/^the file part declares charset=koi8-r, which this service does not read/);
    expect([await users(), await s.transferDb.db.collection("jobs").countDocuments()]).toEqual(before);
  });

  it("agrees with the default reading when it is UTF-8, as browsers and curl send it", async () => {
    const res = await postRaw([
      ...fields,
      { name: "file", fileName: "u.csv", headers: ["Content-Type: text/csv; charset=utf-8"], body: "email,username,firstName\r\nutf8-declared@example.org,utf8-declared,Jos\u00e9\r\n" },
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ read: 1, inserted: 1 });
  });
});
