// @vitest-environment happy-dom
/**
 * A format's options rendered from its JSON Schema (ListFormats'
 * `options_json_schema`): a labelled control per simple property (text,
 * menu, checkbox, number) described by its description and default; only
 * what the person sets is in the value; a value the schema refuses is said
 * next to its control and reported as a problem; nothing is dropped
 * silently — a property of another shape is a raw JSON field, a value the
 * schema has no property for is listed, and a schema that cannot be read
 * says so.
 */
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { FormatOptionsForm, type FormatOptions, type JsonSchema, type OptionProblems } from "../../../web/src/ui/format-options-form.js";

afterEach(cleanup);

/** The CSV plugin's schema as ListFormats gives it, with a description added, and the spreadsheet's sheet (a string or a number). */
const SCHEMA: JsonSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  properties: {
    delimiter: { type: "string", minLength: 1, maxLength: 1, description: "Field separator; sniffed when absent" },
    header: { default: true, type: "boolean" },
    recordDelimiter: { default: "crlf", type: "string", enum: ["lf", "crlf"] },
    indent: { default: 2, type: "integer", minimum: 1, maximum: 10 },
    sheet: {
      anyOf: [
        { type: "string", minLength: 1 },
        { type: "integer", minimum: 1 },
      ],
    },
  },
};

function Host({ schema, initial, report }: { schema: JsonSchema | string; initial: FormatOptions; report(value: FormatOptions, problems: OptionProblems): void }) {
  const [value, setValue] = useState(initial);
  return (
    <FormatOptionsForm
      schema={schema}
      value={value}
      onChange={(next, problems) => {
        report(next, problems);
        setValue(next);
      }}
    />
  );
}

function renderForm(schema: JsonSchema | string = SCHEMA, initial: FormatOptions = {}) {
  const last: { value: FormatOptions; problems: OptionProblems } = { value: initial, problems: {} };
  render(<Host schema={schema} initial={initial} report={(value, problems) => Object.assign(last, { value, problems })} />);
  return last;
}

const errorBeside = (label: string) => {
  const control = screen.getByLabelText(label);
  const ids = (control.getAttribute("aria-describedby") ?? "").split(" ");
  return ids.map((id) => document.getElementById(id)).find((el) => el?.classList.contains("error"))?.textContent;
};

describe("the format options form", () => {
  it("renders each simple property as a labelled control with its description and default, and sends only what is set", () => {
    const last = renderForm();
    expect(screen.getByText("Field separator; sniffed when absent")).toBeTruthy();
    expect((screen.getByLabelText("header") as HTMLInputElement).checked).toBe(true);
    expect([...(screen.getByLabelText("recordDelimiter") as HTMLSelectElement).options].map((o) => o.textContent)).toEqual(["default (crlf)", "lf", "crlf"]);
    expect(screen.getByText("default: 2")).toBeTruthy();

    fireEvent.change(screen.getByLabelText("delimiter"), { target: { value: ";" } });
    fireEvent.click(screen.getByLabelText("header"));
    fireEvent.change(screen.getByLabelText("recordDelimiter"), { target: { value: "lf" } });
    fireEvent.change(screen.getByLabelText("indent"), { target: { value: "4" } });
    expect(last).toEqual({ value: { delimiter: ";", header: false, recordDelimiter: "lf", indent: 4 }, problems: {} });

    // Back to the default: the option leaves the value.
    fireEvent.change(screen.getByLabelText("recordDelimiter"), { target: { value: "" } });
    fireEvent.change(screen.getByLabelText("delimiter"), { target: { value: "" } });
    expect(last.value).toEqual({ header: false, indent: 4 });
  });

  it("says next to the control what the schema refuses, and reports it as a problem", () => {
    const last = renderForm();
    fireEvent.change(screen.getByLabelText("delimiter"), { target: { value: ";;" } });
    expect(errorBeside("delimiter")).toBe("must be at most 1 character");
    fireEvent.change(screen.getByLabelText("indent"), { target: { value: "2.5" } });
    expect(errorBeside("indent")).toBe("must be a whole number");
    expect(last.problems).toEqual({ delimiter: "must be at most 1 character", indent: "must be a whole number" });
    fireEvent.change(screen.getByLabelText("indent"), { target: { value: "11" } });
    expect(errorBeside("indent")).toBe("must be at most 10");
    fireEvent.change(screen.getByLabelText("indent"), { target: { value: "3" } });
    fireEvent.change(screen.getByLabelText("delimiter"), { target: { value: "|" } });
    expect(last).toEqual({ value: { delimiter: "|", indent: 3 }, problems: {} });
  });

  it("shows a property of another shape as a raw JSON field with its schema, refusing text that is not JSON", () => {
    const last = renderForm();
    const sheet = screen.getByLabelText("sheet");
    expect(document.getElementById((sheet.getAttribute("aria-describedby") ?? "").split(" ")[0]!)?.textContent).toBe(
      'JSON matching {"anyOf":[{"type":"string","minLength":1},{"type":"integer","minimum":1}]}',
    );
    fireEvent.change(sheet, { target: { value: "Users" } });
    expect(errorBeside("sheet")).toMatch(/^is not JSON: /);
    expect(last.problems.sheet).toMatch(/^is not JSON: /);
    fireEvent.change(sheet, { target: { value: '"Users"' } });
    expect(last).toEqual({ value: { sheet: "Users" }, problems: {} });
    fireEvent.change(sheet, { target: { value: "2" } });
    expect(last.value).toEqual({ sheet: 2 });
  });

  it("lists a value the schema has no property for as not an option, and removes it on request", () => {
    const last = renderForm(SCHEMA, { delimter: ";" });
    expect(screen.getByText("delimter: is not an option of this format", { exact: false })).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "remove delimter" }));
    expect(last).toEqual({ value: {}, problems: {} });
  });

  it("says so when the schema is not JSON, when it has no options, and when a required option is missing", () => {
    renderForm("{not json");
    expect(screen.getByText(/^the options schema is not JSON: /)).toBeTruthy();
    cleanup();
    renderForm({ type: "object", properties: {} });
    expect(screen.getByText("This format takes no options.")).toBeTruthy();
    cleanup();
    const last = renderForm({ type: "object", properties: { sheet: { type: "string" }, title: { type: "string" } }, required: ["sheet"] });
    fireEvent.change(screen.getByLabelText("title"), { target: { value: "People" } });
    expect(last.problems).toEqual({ sheet: "is required" });
    expect(errorBeside("sheet")).toBe("is required");
  });
});
