// @vitest-environment happy-dom
/**
 * The export's field picker: readable fields only, with their labels; without
 * `pii` the personal ones are not offered and a note names them; the picked
 * fields are the file's columns in the order picked, moved up and down with
 * buttons that stay focusable at either end.
 */
import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { FieldPicker } from "../../../web/src/export/field-picker.js";
import { fieldChoice } from "../../../web/src/export/field-choice.js";
import { moveField, pickAll, toggleField } from "../../../web/src/export/field-order.js";

const USER_FIELDS = [
  { key: "email", label: "Email address", personal: true, writeOnly: false },
  { key: "username", label: "Username", personal: false, writeOnly: false },
  { key: "firstName", label: "First name", personal: true, writeOnly: false },
  { key: "status", label: "Status", personal: false, writeOnly: false },
  { key: "password", label: "Password", personal: false, writeOnly: true },
];

afterEach(cleanup);

/** The picker with its selection kept in state, as the export page keeps it. */
function Controlled() {
  const [selected, setSelected] = useState(["username", "status", "email"]);
  return <FieldPicker fields={USER_FIELDS} pii selected={selected} onChange={setSelected} />;
}

const boxes = () => screen.getAllByRole("checkbox").map((b) => (b as HTMLInputElement).value);

describe("the field picker", () => {
  it("offers every readable field by its label, never the write-only password", () => {
    render(<FieldPicker fields={USER_FIELDS} pii selected={["username"]} onChange={() => {}} />);
    expect(boxes()).toEqual(["email", "username", "firstName", "status"]);
    expect(screen.getByRole("checkbox", { name: /Email address/ })).toBeTruthy();
    expect((screen.getByRole("checkbox", { name: /Username/ }) as HTMLInputElement).checked).toBe(true);
    expect(screen.queryByRole("note")).toBeNull();
  });

  it("leaves personal fields out without pii, and says which and why", () => {
    render(<FieldPicker fields={USER_FIELDS} pii={false} selected={[]} onChange={() => {}} />);
    expect(boxes()).toEqual(["username", "status"]);
    expect(screen.getByRole("note").textContent).toBe("Personal fields are left out: your roles do not include pii (Email address, First name).");
  });

  it("adds a ticked field as the last column, takes an unticked one out, and selects all (picked ones first, in their order) or none", () => {
    const onChange = vi.fn();
    render(<FieldPicker fields={USER_FIELDS} pii selected={["status"]} onChange={onChange} />);
    fireEvent.click(screen.getByRole("checkbox", { name: /Username/ }));
    expect(onChange).toHaveBeenLastCalledWith(["status", "username"]);
    fireEvent.click(screen.getByRole("checkbox", { name: /Status/ }));
    expect(onChange).toHaveBeenLastCalledWith([]);
    fireEvent.click(screen.getByRole("button", { name: "All" }));
    expect(onChange).toHaveBeenLastCalledWith(["status", "email", "username", "firstName"]);
    fireEvent.click(screen.getByRole("button", { name: "None" }));
    expect(onChange).toHaveBeenLastCalledWith([]);
  });

  it("lists the picked fields by label in column order, and has no order list when nothing is picked", () => {
    const { rerender } = render(<FieldPicker fields={USER_FIELDS} pii selected={["status", "email"]} onChange={() => {}} />);
    const order = screen.getByRole("list", { name: "Column order" });
    expect(
      within(order)
        .getAllByRole("listitem")
        .map((li) => li.getAttribute("data-field")),
    ).toEqual(["status", "email"]);
    expect(within(order).getAllByRole("listitem")[1]!.textContent).toContain("Email address");
    rerender(<FieldPicker fields={USER_FIELDS} pii selected={[]} onChange={() => {}} />);
    expect(screen.queryByRole("list", { name: "Column order" })).toBeNull();
  });

  it("moves a field up or down one column, and not past either end", () => {
    const onChange = vi.fn();
    render(<FieldPicker fields={USER_FIELDS} pii selected={["username", "status", "email"]} onChange={onChange} />);
    fireEvent.click(screen.getByRole("button", { name: "Move Email address up" }));
    expect(onChange).toHaveBeenLastCalledWith(["username", "email", "status"]);
    fireEvent.click(screen.getByRole("button", { name: "Move Username down" }));
    expect(onChange).toHaveBeenLastCalledWith(["status", "username", "email"]);
    onChange.mockClear();
    fireEvent.click(screen.getByRole("button", { name: "Move Username up" }));
    fireEvent.click(screen.getByRole("button", { name: "Move Email address down" }));
    expect(onChange).not.toHaveBeenCalled();
    expect(screen.getByRole("button", { name: "Move Username up" }).getAttribute("aria-disabled")).toBe("true");
    expect(screen.getByRole("button", { name: "Move Status up" }).getAttribute("aria-disabled")).toBe("false");
  });

  it("announces a moved field's new column, and at either end its button stays focusable: aria-disabled, never disabled", () => {
    render(<Controlled />);
    fireEvent.click(screen.getByRole("button", { name: "Move Username down" }));
    fireEvent.click(screen.getByRole("button", { name: "Move Username down" }));
    const order = screen.getByRole("list", { name: "Column order" });
    expect(
      within(order)
        .getAllByRole("listitem")
        .map((li) => li.getAttribute("data-field")),
    ).toEqual(["status", "email", "username"]);
    const atEnd = screen.getByRole("button", { name: "Move Username down" });
    expect(atEnd.getAttribute("aria-disabled")).toBe("true");
    expect(atEnd.hasAttribute("disabled")).toBe(false);
    expect(screen.getByText("Username moved to column 3 of 3.")).toBeTruthy();
    // That the focus stays on the moved field's button is seen in a real browser
    // (test/web/export-and-jobs.test.ts); happy-dom keeps the focus of a moved node anyway.
  });
});

describe("the field picker's problem", () => {
  it("is the field group's description, so that it is read with the group it is about", () => {
    render(
      <>
        <FieldPicker fields={USER_FIELDS} pii selected={[]} onChange={() => {}} problemId="fields-problem" />
        <p id="fields-problem">Pick at least one field.</p>
      </>,
    );
    const group = screen.getByRole("group", { name: "Fields" });
    expect(group.getAttribute("aria-describedby")).toBe("fields-problem");
    expect(group.getAttribute("aria-invalid")).toBe("true");
  });
});

describe("the column order's rules", () => {
  it("adds at the end, removes wherever, and moves by swapping neighbours", () => {
    expect(toggleField(["a", "b"], "c", true)).toEqual(["a", "b", "c"]);
    expect(toggleField(["a", "b", "c"], "b", false)).toEqual(["a", "c"]);
    expect(toggleField(["a", "b"], "a", true)).toEqual(["b", "a"]);
    expect(moveField(["a", "b", "c"], "c", -1)).toEqual(["a", "c", "b"]);
    expect(moveField(["a", "b", "c"], "a", 1)).toEqual(["b", "a", "c"]);
    expect(moveField(["a", "b", "c"], "a", -1)).toEqual(["a", "b", "c"]);
    expect(moveField(["a", "b", "c"], "c", 1)).toEqual(["a", "b", "c"]);
    expect(moveField(["a", "b"], "z", 1)).toEqual(["a", "b"]);
    expect(pickAll(["c", "gone"], ["a", "b", "c"])).toEqual(["c", "a", "b"]);
  });
});

describe("what an export picks to begin with", () => {
  const SESSION_FIELDS = [
    { key: "sessionId", label: "Session id", personal: false, writeOnly: false },
    { key: "userName", label: "User name", personal: true, writeOnly: false, joined: true },
    { key: "courseTitle", label: "Course title", personal: false, writeOnly: false, joined: true },
  ];

  it("is every offered field the records hold themselves: a joined field is offered, unpicked", () => {
    expect(fieldChoice(SESSION_FIELDS, true)).toMatchObject({ offered: SESSION_FIELDS, preselected: [SESSION_FIELDS[0]] });
    expect(fieldChoice(SESSION_FIELDS, false)).toMatchObject({ offered: [SESSION_FIELDS[0], SESSION_FIELDS[2]], withheld: [SESSION_FIELDS[1]], preselected: [SESSION_FIELDS[0]] });
  });
});
