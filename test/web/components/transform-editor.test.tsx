// @vitest-environment happy-dom
/**
 * The transforms of a mapped column in the mapping editor: added from a
 * menu, each with labelled controls, moved up and down, removed; what is
 * wrong with a step (an empty date format, an unknown time zone, a value map
 * with nothing in it, two rows for one value, "use a default" with no
 * default) said next to the control at fault, and the column reported as
 * blocking the preview and the import; the service's own refusal of a step
 * shown beside that step.
 */
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { MappingEditor } from "../../../web/src/import/mapping-editor.js";
import { TransformEditor } from "../../../web/src/import/transform-editor.js";
import { columnsWithProblems, newTransform, transformProblems, type ColumnTransforms, type Transform } from "../../../web/src/import/transforms.js";

afterEach(cleanup);

/** The editor with its own state, as the page holds it. */
function Host({ initial, serviceProblems, report }: { initial: Transform[]; serviceProblems?: Record<number, string>; report(chain: Transform[]): void }) {
  const [chain, setChain] = useState<Transform[]>(initial);
  return (
    <TransformEditor
      column="Status"
      transforms={chain}
      serviceProblems={serviceProblems}
      onChange={(next) => {
        report(next);
        setChain(next);
      }}
    />
  );
}

/** Renders the editor; `last()` is the chain it last reported. */
function renderEditor(initial: Transform[] = [], serviceProblems?: Record<number, string>) {
  let last = initial;
  render(<Host initial={initial} serviceProblems={serviceProblems} report={(chain) => (last = chain)} />);
  return { last: () => last };
}

const add = (kind: string) => {
  fireEvent.change(screen.getByLabelText("Transform to add to Status"), { target: { value: kind } });
  fireEvent.click(screen.getByRole("button", { name: "Add transform to Status" }));
};
const type = (label: string, value: string) => fireEvent.change(screen.getByLabelText(label), { target: { value } });

describe("the transform editor", () => {
  it("adds trim, lowercase and a value map in that order, each map row labelled by its column and step", () => {
    const editor = renderEditor();
    add("trim");
    add("lowercase");
    add("map");
    type("Status, step 3: value 1 in the file", "Deleted");
    type("Status, step 3: value 1 becomes", "suspended");
    fireEvent.click(screen.getByRole("button", { name: "Status, step 3: add a value" }));
    type("Status, step 3: value 2 in the file", "open");
    type("Status, step 3: value 2 becomes", "active");
    fireEvent.click(screen.getByLabelText("Status, step 3: ignore case"));
    expect(editor.last()).toEqual([
      { kind: "trim" },
      { kind: "lowercase" },
      {
        kind: "map",
        rows: [
          { from: "Deleted", to: "suspended" },
          { from: "open", to: "active" },
        ],
        unmapped: "error",
        default: "",
        caseInsensitive: true,
      },
    ]);
    expect(screen.getAllByRole("listitem").map((li) => li.querySelector(".transform-name")?.textContent)).toEqual(["1. trim spaces", "2. lowercase", "3. value map"]);
  });

  it("moves a step up and down and removes it, the first step unable to move up and the last down", () => {
    const editor = renderEditor([{ kind: "trim" }, { kind: "lowercase" }, { kind: "default", value: "active" }]);
    expect((screen.getByRole("button", { name: "Move Status, step 1 (trim spaces) up" }) as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByRole("button", { name: "Move Status, step 3 (default for empty cells) down" }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByRole("button", { name: "Move Status, step 3 (default for empty cells) up" }));
    expect(editor.last().map((t) => t.kind)).toEqual(["trim", "default", "lowercase"]);
    fireEvent.click(screen.getByRole("button", { name: "Move Status, step 1 (trim spaces) down" }));
    expect(editor.last().map((t) => t.kind)).toEqual(["default", "trim", "lowercase"]);
    fireEvent.click(screen.getByRole("button", { name: "Remove Status, step 2 (trim spaces)" }));
    expect(editor.last()).toEqual([{ kind: "default", value: "active" }, { kind: "lowercase" }]);
  });

  it("says next to the date's format that it is required, and next to its zone that it is not a zone, until both are right", () => {
    const editor = renderEditor();
    add("date");
    const format = screen.getByLabelText("Status, step 1: date format");
    expect(format.getAttribute("aria-invalid")).toBe("true");
    expect(format.parentElement?.querySelector(".error")?.textContent).toBe("A date format is required, e.g. DD/MM/YYYY.");
    type("Status, step 1: time zone", "Mars/Olympus_Mons");
    const zone = screen.getByLabelText("Status, step 1: time zone");
    expect(zone.parentElement?.querySelector(".error")?.textContent).toBe('"Mars/Olympus_Mons" is not an IANA time zone, e.g. Europe/Paris.');
    type("Status, step 1: date format", "DD/MM/YYYY");
    type("Status, step 1: time zone", "Europe/Paris");
    expect(screen.queryAllByText(/required|not an IANA/)).toHaveLength(0);
    expect(editor.last()).toEqual([{ kind: "date", format: "DD/MM/YYYY", timeZone: "Europe/Paris" }]);
  });

  it("asks for a default when unlisted values are to take one, and refuses a value mapped twice once case is ignored", () => {
    renderEditor([
      {
        kind: "map",
        rows: [
          { from: "Open", to: "active" },
          { from: "open", to: "suspended" },
        ],
        unmapped: "error",
        default: "",
        caseInsensitive: false,
      },
    ]);
    expect(screen.queryByText(/already mapped/)).toBeNull();
    fireEvent.click(screen.getByLabelText("Status, step 1: ignore case"));
    expect(screen.getByText('"open" is already mapped in row 1 (case ignored).')).toBeTruthy();
    expect(screen.getByLabelText("Status, step 1: value 2 in the file").getAttribute("aria-invalid")).toBe("true");
    fireEvent.change(screen.getByLabelText("Status, step 1: values not in the map"), { target: { value: "default" } });
    const fallback = screen.getByLabelText("Status, step 1: default");
    expect(fallback.parentElement?.querySelector(".error")?.textContent).toBe("Give the value for cells the map does not list.");
  });

  it("shows the service's refusal of a step beside that step", () => {
    renderEditor([{ kind: "trim" }, { kind: "date", format: "DD/QQ/YYYY", timeZone: "" }], { 1: 'unknown token "QQ"' });
    const steps = screen.getAllByRole("listitem");
    expect(steps[1]?.querySelector("[role=alert]")?.textContent).toBe('unknown token "QQ"');
    expect(steps[0]?.querySelector("[role=alert]")).toBeNull();
  });
});

describe("what blocks the preview and the import", () => {
  it("is a mapped column with a step that has a problem; blank map rows are left out, a map with only blank rows is not enough", () => {
    const blankMap = newTransform("map");
    expect(transformProblems(blankMap)).toEqual({ rows: "Map at least one value." });
    expect(transformProblems({ kind: "template", value: "" })).toEqual({ value: "A template is required, e.g. {code}-{year}." });
    expect(transformProblems({ kind: "default", value: "" })).toEqual({});
    expect(transformProblems({ kind: "map", rows: [{ from: "", to: "x" }], unmapped: "keep", default: "", caseInsensitive: false })).toEqual({
      "row.0": "Say which value this row replaces.",
      rows: "Map at least one value.",
    });
    const transforms: ColumnTransforms = { Status: [{ kind: "trim" }, blankMap], Joined: [{ kind: "date", format: "", timeZone: "" }], Email: [{ kind: "lowercase" }] };
    expect(columnsWithProblems(transforms, ["Status", "Email"])).toEqual(["Status"]);
    // A column left out is not read: its transforms do not count.
    expect(columnsWithProblems(transforms, ["Email"])).toEqual([]);
  });
});

describe("the mapping editor's transforms column", () => {
  it("offers transforms for mapped columns only", () => {
    render(
      <MappingEditor
        columns={["E-mail", "Notes"]}
        fields={[{ key: "email", label: "Email address", required: true }]}
        suggestions={[]}
        mapping={{ "E-mail": "email", Notes: "" }}
        onChange={() => {}}
        transforms={{ "E-mail": [{ kind: "trim" }] }}
        onTransformsChange={() => {}}
      />,
    );
    expect(screen.getByRole("group", { name: "Transforms of E-mail" }).textContent).toContain("1. trim spaces");
    expect(screen.queryByRole("group", { name: "Transforms of Notes" })).toBeNull();
  });
});
