/**
 * Timestamp cells as a JSON upload gives them to `POST /import`, and time
 * bounds as a URL gives them: a bare number (its unit unknown) and a fraction
 * finer than the milliseconds a stored date keeps are refused, with the row,
 * the column and what to do, never read as 1970 or cut short; the other rows
 * of a lenient import are written as the file says. Epoch values still import
 * through the mapping's date transform, which says their unit.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { xlsxOf } from "../../formats/spreadsheet-fixtures.js";
import { startServices, type Services } from "../rpc/harness.js";

let s: Services;
beforeAll(async () => {
  s = await startServices();
});
afterAll(async () => s?.close());

interface RowError {
  row: number;
  column: string;
  value: string;
  reason: string;
}

async function importJson(records: unknown[], fields: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> & { errors: RowError[] } }> {
  const body = new FormData();
  for (const [k, v] of Object.entries({ entity: "courses", format: "json", strict: "false", ...fields })) body.append(k, v);
  body.append("file", new Blob([JSON.stringify(records)], { type: "application/json" }), "courses.json");
  const res = await fetch(`${s.transfer.url}/import`, { method: "POST", body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { errors: RowError[] } };
}

/** The stored start dates of the courses whose code starts with `prefix`, as an NDJSON export writes them. */
async function startDates(prefix: string): Promise<Record<string, string>> {
  const text = await fetch(`${s.transfer.url}/export/ndjson?entity=courses&fields=code,startDate&sort=code`).then((r) => r.text());
  const rows = text
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as { code: string; startDate?: string });
  return Object.fromEntries(rows.filter((r) => r.code.startsWith(prefix)).map((r) => [r.code, r.startDate ?? "(none)"]));
}

describe("a lenient JSON import into a timestamp column", () => {
  it("rejects a number and a sub-millisecond fraction with row, column and how to fix them, and imports the other rows as written", async () => {
    const res = await importJson([
      { code: "TS-ISO", title: "ISO text", startDate: "2024-03-07T10:00:00Z" },
      { code: "TS-SECONDS", title: "Unix seconds", startDate: 1709805600 },
      { code: "TS-NANOS", title: "Seven decimals", startDate: "2024-03-07T10:00:00.9999999Z" },
      { code: "TS-ZEROS", title: "Microseconds that are whole milliseconds", startDate: "2024-03-07T10:00:00.123000Z" },
      { code: "TS-SERIAL", title: "A spreadsheet day number", startDate: 45358.5 },
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ read: 5, inserted: 2, failed: 3 });
    expect(res.body.errors.map((e) => ({ row: e.row, column: e.column, value: e.value }))).toEqual([
      { row: 2, column: "startDate", value: "1709805600" },
      { row: 3, column: "startDate", value: "2024-03-07T10:00:00.9999999Z" },
      { row: 5, column: "startDate", value: "45358.5" },
    ]);
    const [seconds, nanos, serial] = res.body.errors.map((e) => e.reason);
    expect(seconds).toContain("a number is not a timestamp: 1709805600 could be Unix seconds, milliseconds or a spreadsheet's day number");
    expect(seconds).toContain('map the column with the date transform, format "X" (Unix seconds) or "x" (milliseconds)');
    expect(nanos).toContain('"2024-03-07T10:00:00.9999999Z" is more precise than milliseconds, which is what a stored timestamp keeps: round it to 3 decimals in the file');
    expect(serial).toContain("format the cell as a date");
    expect(await startDates("TS-")).toEqual({ "TS-ISO": "2024-03-07T10:00:00.000Z", "TS-ZEROS": "2024-03-07T10:00:00.123Z" });
  });

  it("reads JSON numbers as Unix seconds or milliseconds when the mapping's date transform says which, refusing digits past milliseconds", async () => {
    const seconds = await importJson(
      [
        { code: "EP-S1", title: "Seconds", startDate: 1709805600 },
        { code: "EP-S2", title: "Seconds and milliseconds", startDate: 1709805600.25 },
        { code: "EP-S3", title: "Seconds and microseconds", startDate: 1709805600.1234 },
      ],
      { mapping: JSON.stringify([{ source: "startDate", field: "startDate", transforms: [{ kind: "date", format: "X" }] }]) },
    );
    expect(seconds.body).toMatchObject({ inserted: 2, failed: 1 });
    expect(seconds.body.errors).toEqual([expect.objectContaining({ row: 3, column: "startDate", reason: expect.stringContaining('"1709805600.1234" is more precise than milliseconds') })]);
    const millis = await importJson([{ code: "EP-MS", title: "Milliseconds", startDate: 1709805600123 }], {
      mapping: JSON.stringify([{ source: "startDate", field: "startDate", transforms: [{ kind: "date", format: "x" }] }]),
    });
    expect(millis.body).toMatchObject({ inserted: 1, failed: 0 });
    expect(await startDates("EP-")).toEqual({ "EP-MS": "2024-03-07T10:00:00.123Z", "EP-S1": "2024-03-07T10:00:00.000Z", "EP-S2": "2024-03-07T10:00:00.250Z" });
  });
});

describe("an XLSX import into a timestamp column", () => {
  it("takes a date-formatted cell as its date and rejects a plain number cell, telling a spreadsheet user to format it as a date", async () => {
    const text = (ref: string, t: string) => `<c r="${ref}" t="inlineStr"><is><t>${t}</t></is></c>`;
    const sheet =
      `<row r="1">${text("A1", "code")}${text("B1", "title")}${text("C1", "startDate")}</row>` +
      `<row r="2">${text("A2", "XL-DATE")}${text("B2", "A date cell")}<c r="C2" s="1"><v>45358.5</v></c></row>` +
      `<row r="3">${text("A3", "XL-NUMBER")}${text("B3", "A number cell")}<c r="C3"><v>45358.5</v></c></row>`;
    // Style 1 is the built-in date format 14 (m/d/yyyy), as Excel gives a cell typed as a date.
    const styles = '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs>';
    const body = new FormData();
    for (const [k, v] of Object.entries({ entity: "courses", format: "xlsx", strict: "false" })) body.append(k, v);
    body.append("file", new Blob([xlsxOf(sheet, { styles, sheets: ["Courses"] })]), "courses.xlsx");
    const res = await fetch(`${s.transfer.url}/import`, { method: "POST", body });
    const answer = (await res.json()) as Record<string, unknown> & { errors: (RowError & { line: number })[] };
    expect(answer).toMatchObject({ read: 2, inserted: 1, failed: 1 });
    expect(answer.errors).toEqual([
      expect.objectContaining({ row: 2, line: 3, column: "startDate", reason: expect.stringMatching(/^a number is not a timestamp: 45358\.5 .*format the cell as a date in a spreadsheet/) }),
    ]);
    expect(await startDates("XL-")).toEqual({ "XL-DATE": "2024-03-07T12:00:00.000Z" });
  });
});

describe("time bounds in a URL", () => {
  it.each([
    ["/export/ndjson?entity=courses&from=2024-03-07T10:00:00.0005Z", "from", "2024-03-07T10:00:00.001Z"],
    ["/export/ndjson?entity=courses&to=2024-03-07T10:00:00.123456%2B01:00", "to", "2024-03-07T09:00:00.124Z"],
    ["/export/ndjson?entity=courses&changed_since=2024-03-07T10:00:00.0000001Z", "changed_since", "2024-03-07T10:00:00.001Z"],
    ["/jobs?from=2024-03-07T10:00:00.9999999Z", "from", "2024-03-07T10:00:01.000Z"],
  ])("refuses %s with 400 naming the parameter and the millisecond bound that selects the same records", async (path, name, same) => {
    const res = await fetch(`${s.transfer.url}${path}`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe("invalid_argument");
    expect(body.message).toMatch(
      new RegExp(`^${name} ".*" is more precise than milliseconds, which is what stored times keep: give at most 3 decimals \\(${name}=${same.replaceAll(".", "\\.")} selects the same records\\)$`),
    );
  });

  it("takes a bound whose digits past milliseconds are zeros, as that millisecond", async () => {
    await importJson([{ code: "BOUND-1", title: "At the bound", startDate: "2031-05-06T07:08:09.321Z" }]);
    const path = (q: string) => `${s.transfer.url}/export/ndjson?entity=courses&fields=code&time_field=startDate&${q}`;
    const inside = await fetch(path("from=2031-05-06T07:08:09.321000Z&to=2031-05-06T07:08:09.322000Z"));
    expect(inside.status).toBe(200);
    expect((await inside.text()).trim()).toBe('{"code":"BOUND-1"}');
    const after = await fetch(path("from=2031-05-06T07:08:09.322000Z&to=2031-05-06T07:08:10Z"));
    expect((await after.text()).trim()).toBe("");
  });
});
