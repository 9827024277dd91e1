/**
 * What the export page asks the transfer service for (web/src/export/export-form.ts):
 * the filter, sort and limit a person picked, the preview's own format and
 * row cap, and the problems that keep the form from being sent.
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { Entity } from "../../gen/dataexchange/records/v1/records_pb.js";
import { exportRequestOf, formProblems, initialForm, type ExportForm } from "../../web/src/export/export-form.js";

const form = (patch: Partial<ExportForm>): ExportForm => ({ ...initialForm(), fields: ["username"], ...patch });

describe("the export page's request", () => {
  it("carries the entity, format, fields, filters, sort and limit picked", () => {
    const request = exportRequestOf(form({ entity: Entity.SESSIONS, format: "xlsx", status: "active", userId: " ada ", courseId: "AAA-2024", sort: "startedAt", descending: true, limit: "50" }));
    expect(request).toMatchObject({ entity: Entity.SESSIONS, format: "xlsx", fields: ["username"], limit: 50n, estimateTotal: false });
    expect(request.filter).toMatchObject({ statuses: ["active"], userIds: ["ada"], courseIds: ["AAA-2024"], timeRanges: [] });
    expect(request.sort).toMatchObject([{ field: "startedAt", descending: true }]);
  });

  it("reads a date range as whole days in UTC, the end date included", () => {
    const request = exportRequestOf(form({ timeField: "createdAt", from: "2024-03-01", to: "2024-03-31" }));
    const [range] = request.filter!.timeRanges;
    expect(range!.field).toBe("createdAt");
    expect(timestampDate(range!.from!).toISOString()).toBe("2024-03-01T00:00:00.000Z");
    expect(timestampDate(range!.to!).toISOString()).toBe("2024-04-01T00:00:00.000Z");
    expect(exportRequestOf(form({ timeField: "createdAt", from: "2024-03-01" })).filter!.timeRanges[0]!.to).toBeUndefined();
  });

  it("asks the preview for NDJSON and at most its rows, or fewer when the person's limit is lower", () => {
    expect(exportRequestOf(form({}), { format: "ndjson", limit: 20 })).toMatchObject({ format: "ndjson", limit: 20n });
    expect(exportRequestOf(form({ limit: "5" }), { format: "ndjson", limit: 20 }).limit).toBe(5n);
    expect(exportRequestOf(form({ limit: "500" }), { format: "ndjson", limit: 20 }).limit).toBe(20n);
  });

  it("asks the download for the format's options set, and the preview (NDJSON) for none of them", () => {
    const picked = form({ format: "csv", formatOptions: { delimiter: ";", bom: false } });
    expect(exportRequestOf(picked).formatOptions).toEqual({ delimiter: ";", bom: false });
    expect(exportRequestOf(picked, { format: "ndjson", limit: 20 }).formatOptions).toBeUndefined();
    expect(exportRequestOf(form({ format: "csv" })).formatOptions).toBeUndefined();
  });

  it("asks the preview and the download for the fields in the order picked, the file's column order", () => {
    const picked = form({ fields: ["status", "username", "email"] });
    expect(exportRequestOf(picked).fields).toEqual(["status", "username", "email"]);
    expect(exportRequestOf(picked, { format: "ndjson", limit: 20 }).fields).toEqual(["status", "username", "email"]);
  });

  it("is not sent without a field, with a limit that is not a whole number above 0, or with a date range that ends before it starts", () => {
    expect(formProblems(form({}))).toEqual({});
    expect(formProblems(form({ fields: [] }))).toEqual({ fields: "Pick at least one field." });
    for (const limit of ["0", "-1", "1.5", "ten", "01"]) expect(formProblems(form({ limit })), limit).toHaveProperty("limit");
    expect(formProblems(form({ from: "2024-01-01" }))).toHaveProperty("timeField");
    expect(formProblems(form({ timeField: "createdAt", from: "2024-02-01", to: "2024-01-01" }))).toEqual({ to: "The end date is before the start date." });
  });
});
