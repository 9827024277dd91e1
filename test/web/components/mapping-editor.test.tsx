// @vitest-environment happy-dom
/**
 * The import's mapping editor: every column of the file with the field it
 * fills, starting from the service's suggestions and why; a column can be
 * mapped to any writable field or left out; two columns on one field and a
 * required field no column fills are said before the import refuses them.
 * And the mappings it sends: every column said, mapped or left out.
 */
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MappingEditor } from "../../../web/src/import/mapping-editor.js";
import { initialMapping, mappingsOf, mergeMapping } from "../../../web/src/import/mapping.js";

afterEach(cleanup);

const FIELDS = [
  { key: "email", label: "Email address", required: true },
  { key: "username", label: "Username", required: true },
  { key: "status", label: "Status", required: false },
];
const COLUMNS = ["E-mail", "Login name", "Notes"];
const SUGGESTIONS = [
  { column: "E-mail", field: "email", matchedBy: "synonym" },
  { column: "Login name", field: "", matchedBy: "" },
  { column: "Notes", field: "", matchedBy: "" },
];

const selected = (column: string) => (screen.getByLabelText(`Field for ${column}`) as HTMLSelectElement).value;

describe("the mapping editor", () => {
  it("lists every column with the suggested field and why, and leaves out a column nothing fits", () => {
    render(
      <MappingEditor columns={COLUMNS} fields={FIELDS} suggestions={SUGGESTIONS} mapping={initialMapping(COLUMNS, SUGGESTIONS)} onChange={() => {}} transforms={{}} onTransformsChange={() => {}} />,
    );
    expect(COLUMNS.map(selected)).toEqual(["email", "", ""]);
    expect(screen.getAllByRole("row").map((r) => r.children[2]?.textContent)).toEqual(["Suggested", "email, by a known synonym", "no field fits", "no field fits"]);
    expect(screen.getByRole("note").textContent).toBe("No column fills Username: rows need it unless the records already exist.");
  });

  it("maps a renamed column to the field picked, keeping the other columns as they were", () => {
    const onChange = vi.fn();
    render(
      <MappingEditor columns={COLUMNS} fields={FIELDS} suggestions={SUGGESTIONS} mapping={initialMapping(COLUMNS, SUGGESTIONS)} onChange={onChange} transforms={{}} onTransformsChange={() => {}} />,
    );
    fireEvent.change(screen.getByLabelText("Field for Login name"), { target: { value: "username" } });
    expect(onChange).toHaveBeenLastCalledWith({ "E-mail": "email", "Login name": "username", Notes: "" });
  });

  it("says when two columns fill one field", () => {
    render(
      <MappingEditor
        columns={COLUMNS}
        fields={FIELDS}
        suggestions={SUGGESTIONS}
        mapping={{ "E-mail": "email", "Login name": "email", Notes: "" }}
        onChange={() => {}}
        transforms={{}}
        onTransformsChange={() => {}}
      />,
    );
    expect(screen.getAllByText("another column fills this field too")).toHaveLength(2);
    expect(screen.getByLabelText("Field for Login name").getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByLabelText("Field for Notes").getAttribute("aria-invalid")).toBe("false");
  });
});

describe("the mappings sent", () => {
  it("say every column: mapped to its field, or left out on purpose", () => {
    expect(mappingsOf({ "E-mail": "email", "Login name": "username", Notes: "" })).toEqual([
      { source: "E-mail", field: "email" },
      { source: "Login name", field: "username" },
      { source: "Notes", ignore: true },
    ]);
  });

  it("keep what the person chose when the file is read again, and take suggestions for new columns only", () => {
    const chosen = { "E-mail": "", "Login name": "username" };
    expect(
      mergeMapping(
        chosen,
        ["E-mail", "Login name", "State"],
        [
          { column: "E-mail", field: "email", matchedBy: "synonym" },
          { column: "State", field: "status", matchedBy: "synonym" },
        ],
      ),
    ).toEqual({
      "E-mail": "",
      "Login name": "username",
      State: "status",
    });
  });
});
