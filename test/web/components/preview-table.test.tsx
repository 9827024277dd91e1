// @vitest-environment happy-dom
/**
 * The export preview's table: columns by label, values as text (nested ones
 * as JSON), the empty and error states, and the old rows kept while a new
 * preview loads.
 */
import { cleanup, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { cellText, PreviewTable } from "../../../web/src/export/preview-table.js";

afterEach(cleanup);

const COLUMNS = [
  { key: "username", label: "Username" },
  { key: "meta", label: "Extra" },
  { key: "active", label: "Active" },
];

const texts = (elements: HTMLElement[]) => elements.map((e) => e.textContent);

describe("the preview table", () => {
  it("shows the columns by label and each row's values, nested values as JSON and missing ones empty", () => {
    render(<PreviewTable columns={COLUMNS} rows={[{ username: "ada", meta: { a: [1, 2] }, active: true }, { username: "alan" }]} />);
    const table = screen.getByRole("table");
    expect(texts(within(table).getAllByRole("columnheader"))).toEqual(["Username", "Extra", "Active"]);
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows.map((r) => texts(within(r).getAllByRole("cell")))).toEqual([
      ["ada", '{"a":[1,2]}', "true"],
      ["alan", "", ""],
    ]);
    expect(screen.getByRole("heading").textContent).toBe("Preview first 2 rows");
  });

  it("says when no record matches, and when no field is picked", () => {
    render(<PreviewTable columns={COLUMNS} rows={[]} />);
    expect(screen.getByRole("cell").textContent).toBe("No records match.");
    cleanup();
    render(<PreviewTable columns={[]} rows={[]} />);
    expect(screen.queryByRole("table")).toBeNull();
    expect(screen.getByText("Pick at least one field to see a preview.")).toBeTruthy();
  });

  it("keeps the previous rows while loading, marked busy, and shows an error in their place", () => {
    render(<PreviewTable columns={COLUMNS} rows={[{ username: "ada" }]} loading />);
    expect(screen.getByRole("region", { name: "Preview" }).getAttribute("aria-busy")).toBe("true");
    expect(screen.getAllByRole("row")).toHaveLength(2);
    expect(screen.getByRole("heading").textContent).toBe("Preview loading…");
    cleanup();
    render(<PreviewTable columns={COLUMNS} rows={[]} error="export:users needs the exporter role" />);
    expect(screen.getByRole("alert").textContent).toBe("export:users needs the exporter role");
    expect(screen.queryByRole("table")).toBeNull();
  });

  it("writes cell values as a person reads them", () => {
    expect([cellText(undefined), cellText(null), cellText("x"), cellText(3), cellText(false), cellText(["a"])]).toEqual(["", "", "x", "3", "false", '["a"]']);
  });
});
