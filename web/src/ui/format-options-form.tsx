/**
 * A format's options, rendered from the JSON Schema ListFormats gives for
 * each plugin (`Format.options_json_schema`), so a new plugin's options show
 * up in the UI without UI code. The simple property types get their own
 * control — a text field (string), a menu (enum), a checkbox (boolean), a
 * number field (integer, number) — labelled with the property's title or
 * key and described by its description and default. Nothing is dropped
 * silently: a property of any other shape (anyOf, object, array) is a text
 * field that takes raw JSON, with the property's schema shown beside it; a
 * value the schema has no property for is listed as not an option of the
 * format; a value that breaks the schema (too long, not a whole number, out
 * of range, not JSON) is said next to its control.
 *
 * `value` holds only what the person set (unset options take the format's
 * defaults on the service). `onChange(value, problems)` says the new value
 * and what is wrong with the form as a whole, by property: a caller waits
 * until `problems` is empty before sending. Give the form a `key` per format
 * so that a half-typed field of one format does not carry over to another.
 */
import { useId, useState, type ReactNode } from "react";

/** The part of JSON Schema the form reads. */
export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  [other: string]: unknown;
}

export type FormatOptions = Record<string, unknown>;
export type OptionProblems = Record<string, string>;

export interface FormatOptionsFormProps {
  /** The options' JSON Schema, as an object or as ListFormats' text. */
  schema: JsonSchema | string;
  value: FormatOptions;
  onChange(value: FormatOptions, problems: OptionProblems): void;
  legend?: string;
}

type Control = "string" | "enum" | "boolean" | "integer" | "number" | "json";

/** The control a property gets: its own for the simple types, raw JSON for anything else. */
export function controlOf(property: JsonSchema): Control {
  if (Array.isArray(property.enum) && property.enum.length > 0 && property.enum.every((v) => typeof v === "string")) return "enum";
  switch (property.type) {
    case "string":
      return "string";
    case "boolean":
      return "boolean";
    case "integer":
      return "integer";
    case "number":
      return "number";
    default:
      return "json";
  }
}

/** The schema, parsed when it is text; `error` when it is not an object schema. */
export function readSchema(schema: JsonSchema | string): { schema?: JsonSchema; error?: string } {
  let parsed: unknown = schema;
  if (typeof schema === "string") {
    try {
      parsed = JSON.parse(schema);
    } catch (error) {
      return { error: `the options schema is not JSON: ${(error as Error).message}` };
    }
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return { error: "the options schema is not a JSON object" };
  return { schema: parsed as JsonSchema };
}

/** What is wrong with a value the schema's constraints refuse (a set value only; unset takes the default). */
export function valueProblem(property: JsonSchema, value: unknown): string | undefined {
  switch (controlOf(property)) {
    case "string": {
      if (typeof value !== "string") return "must be text";
      const length = [...value].length;
      if (property.minLength !== undefined && length < property.minLength) return `must be at least ${characters(property.minLength)}`;
      if (property.maxLength !== undefined && length > property.maxLength) return `must be at most ${characters(property.maxLength)}`;
      if (property.pattern !== undefined && !new RegExp(property.pattern, "u").test(value)) return `must match ${property.pattern}`;
      return undefined;
    }
    case "enum":
      return property.enum!.includes(value) ? undefined : `must be one of ${property.enum!.join(", ")}`;
    case "boolean":
      return typeof value === "boolean" ? undefined : "must be on or off";
    case "integer":
    case "number": {
      if (typeof value !== "number" || !Number.isFinite(value)) return "must be a number";
      if (controlOf(property) === "integer" && !Number.isInteger(value)) return "must be a whole number";
      if (property.minimum !== undefined && value < property.minimum) return `must be at least ${property.minimum}`;
      if (property.maximum !== undefined && value > property.maximum) return `must be at most ${property.maximum}`;
      return undefined;
    }
    case "json":
      return undefined;
  }
}

function characters(n: number): string {
  return `${n} character${n === 1 ? "" : "s"}`;
}

/** Text typed into a number or JSON field, read as its value: undefined for an empty field (unset), or why it cannot be read. */
function parseDraft(control: Control, text: string): { value?: unknown; error?: string } {
  if (text.trim() === "") return {};
  if (control === "integer" || control === "number") {
    if (!/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text.trim())) return { error: control === "integer" ? "must be a whole number" : "must be a number" };
    return { value: Number(text.trim()) };
  }
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { error: `is not JSON: ${(error as Error).message}` };
  }
}

function shown(value: unknown): string {
  if (value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

export function FormatOptionsForm({ schema, value, onChange, legend = "Format options" }: FormatOptionsFormProps) {
  const id = useId();
  // What was typed into number and JSON fields, which may not be a value yet.
  const [drafts, setDrafts] = useState<Record<string, { text: string; error?: string }>>({});
  const read = readSchema(schema);
  const properties = read.schema?.properties ?? {};
  const required = new Set(read.schema?.required ?? []);

  const problemsOf = (next: FormatOptions, nextDrafts: typeof drafts): OptionProblems => {
    const problems: OptionProblems = {};
    for (const [key, v] of Object.entries(next)) {
      const property = properties[key];
      if (!property) problems[key] = "is not an option of this format";
      else {
        const problem = valueProblem(property, v);
        if (problem) problems[key] = problem;
      }
    }
    for (const [key, draft] of Object.entries(nextDrafts)) if (draft.error) problems[key] = draft.error;
    for (const key of required) if (next[key] === undefined && !problems[key]) problems[key] = "is required";
    return problems;
  };
  const problems = problemsOf(value, drafts);

  const set = (key: string, v: unknown, draft?: { text: string; error?: string }) => {
    const next = { ...value };
    if (v === undefined) delete next[key];
    else next[key] = v;
    const nextDrafts = { ...drafts };
    if (draft) nextDrafts[key] = draft;
    else delete nextDrafts[key];
    setDrafts(nextDrafts);
    onChange(next, problemsOf(next, nextDrafts));
  };

  if (read.error) {
    return (
      <fieldset className="format-options">
        <legend>{legend}</legend>
        <p className="error">{read.error}</p>
      </fieldset>
    );
  }
  const keys = Object.keys(properties);
  const strays = Object.keys(value).filter((k) => !(k in properties));
  return (
    <fieldset className="format-options">
      <legend>{legend}</legend>
      {keys.length === 0 && <p className="muted">This format takes no options.</p>}
      <div className="options-row">
        {keys.map((key) => {
          const property = properties[key]!;
          const control = controlOf(property);
          const label = property.title ?? key;
          const problem = problems[key];
          const hintId = `${id}-${key}-hint`;
          const errorId = `${id}-${key}-error`;
          const hint = [
            property.description,
            property.default !== undefined ? `default: ${shown(property.default)}` : undefined,
            control === "json" ? `JSON matching ${JSON.stringify(stripMeta(property))}` : undefined,
          ]
            .filter(Boolean)
            .join("; ");
          const describedBy = [hint ? hintId : "", problem ? errorId : ""].filter(Boolean).join(" ") || undefined;
          const inputId = `${id}-${key}`;
          const common = { id: inputId, "aria-invalid": Boolean(problem), "aria-describedby": describedBy };
          let input: ReactNode;
          if (control === "boolean") {
            const checked = typeof value[key] === "boolean" ? (value[key] as boolean) : property.default === true;
            input = <input type="checkbox" {...common} checked={checked} onChange={(e) => set(key, e.currentTarget.checked)} />;
          } else if (control === "enum") {
            input = (
              <select {...common} value={typeof value[key] === "string" ? (value[key] as string) : ""} onChange={(e) => set(key, e.currentTarget.value === "" ? undefined : e.currentTarget.value)}>
                <option value="">{property.default !== undefined ? `default (${shown(property.default)})` : "not set"}</option>
                {property.enum!.map((v) => (
                  <option key={String(v)} value={String(v)}>
                    {String(v)}
                  </option>
                ))}
              </select>
            );
          } else if (control === "string") {
            input = (
              <input {...common} value={typeof value[key] === "string" ? (value[key] as string) : ""} onChange={(e) => set(key, e.currentTarget.value === "" ? undefined : e.currentTarget.value)} />
            );
          } else {
            const text = drafts[key]?.text ?? shown(value[key]);
            input = (
              <input
                {...common}
                inputMode={control === "json" ? undefined : "numeric"}
                className={control === "json" ? "json" : undefined}
                value={text}
                onChange={(e) => {
                  const typed = e.currentTarget.value;
                  const parsed = parseDraft(control, typed);
                  set(key, parsed.value, parsed.error ? { text: typed, error: parsed.error } : { text: typed });
                }}
              />
            );
          }
          return (
            <div key={key} className={control === "boolean" ? "option boolean" : "option"}>
              <label htmlFor={inputId}>{label}</label>
              {input}
              {hint && (
                <span id={hintId} className="muted hint">
                  {hint}
                </span>
              )}
              {problem && (
                <span id={errorId} className="error">
                  {problem}
                </span>
              )}
            </div>
          );
        })}
      </div>
      {strays.map((key) => (
        <p key={key} className="error">
          {key}: {problems[key]}{" "}
          <button type="button" className="link" onClick={() => set(key, undefined)}>
            remove {key}
          </button>
        </p>
      ))}
    </fieldset>
  );
}

/** A property's schema without what only describes it, for the hint of a raw JSON field. */
function stripMeta(property: JsonSchema): JsonSchema {
  const { title: _title, description: _description, default: _default, ...rest } = property;
  return rest;
}
