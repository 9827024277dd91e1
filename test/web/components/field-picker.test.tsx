// @vitest-environment happy-dom
/**
 * The export's field picker: readable fields only, with their labels; without
 * `pii` the personal ones are not offered and a note names them; ticking
 * keeps the entity's order.
 */
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { FieldPicker } from "../../../web/src/export/field-picker.js";

const USER_FIELDS = [
  { key: "email", label: "Email address", personal: true, writeOnly: false },
  { key: "username", label: "Username", personal: false, writeOnly: false },
  { key: "firstName", label: "First name", personal: true, writeOnly: false },
  { key: "status", label: "Status", personal: false, writeOnly: false },
  { key: "password", label: "Password", personal: false, writeOnly: true },
];

afterEach(cleanup);

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

  it("keeps the entity's order whatever order fields are ticked in, and selects all or none", () => {
    const onChange = vi.fn();
    render(<FieldPicker fields={USER_FIELDS} pii selected={["status"]} onChange={onChange} />);
    fireEvent.click(screen.getByRole("checkbox", { name: /Username/ }));
    expect(onChange).toHaveBeenLastCalledWith(["username", "status"]);
    fireEvent.click(screen.getByRole("checkbox", { name: /Status/ }));
    expect(onChange).toHaveBeenLastCalledWith([]);
    fireEvent.click(screen.getByRole("button", { name: "All" }));
    expect(onChange).toHaveBeenLastCalledWith(["email", "username", "firstName", "status"]);
    fireEvent.click(screen.getByRole("button", { name: "None" }));
    expect(onChange).toHaveBeenLastCalledWith([]);
  });
});
