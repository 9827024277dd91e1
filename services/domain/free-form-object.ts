/**
 * The rule for free-form objects (an activity entry's details). They come from
 * files and other systems, so they are checked for what MongoDB-compatible
 * stores refuse or mangle: keys with `.` or a leading `$`, NUL characters,
 * non-finite numbers, lists inside lists, and unbounded depth or size.
 */
import { z } from "zod";
import { LONE_SURROGATE } from "./field-spec.js";

export const FREE_FORM_LIMITS = { maxDepth: 8, maxKeys: 200, maxBytes: 16 * 1024 } as const;

interface Problem {
  path: (string | number)[];
  message: string;
}

function check(value: unknown, path: (string | number)[], depth: number, inList: boolean, problems: Problem[]): void {
  if (problems.length > 20) return;
  if (value === null || typeof value === "boolean") return;
  if (typeof value === "string") {
    if (value.includes("\u0000")) problems.push({ path, message: "must not contain NUL characters" });
    else if (LONE_SURROGATE.test(value)) problems.push({ path, message: "must be valid Unicode text: it has a lone surrogate, which would be stored as U+FFFD" });
    return;
  }
  if (typeof value === "number") {
    if (!Number.isFinite(value)) problems.push({ path, message: `must be a finite number, got ${value}` });
    return;
  }
  if (depth >= FREE_FORM_LIMITS.maxDepth) {
    problems.push({ path, message: `nests deeper than ${FREE_FORM_LIMITS.maxDepth} levels` });
    return;
  }
  if (Array.isArray(value)) {
    if (inList) {
      problems.push({ path, message: "lists inside lists are not supported" });
      return;
    }
    value.forEach((item, index) => check(item, [...path, index], depth + 1, true, problems));
    return;
  }
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const keys = Object.keys(value);
    if (keys.length > FREE_FORM_LIMITS.maxKeys) problems.push({ path, message: `has more than ${FREE_FORM_LIMITS.maxKeys} keys` });
    for (const key of keys) {
      if (key === "") problems.push({ path, message: "has an empty key" });
      else if (key.includes(".")) problems.push({ path, message: `key "${key}" must not contain "."` });
      else if (key.startsWith("$")) problems.push({ path, message: `key "${key}" must not start with "$"` });
      else if (key.includes("\u0000")) problems.push({ path, message: "a key must not contain NUL characters" });
      else if (key === "__proto__") problems.push({ path, message: 'key "__proto__" is not allowed (it would be dropped on the way to the database)' });
      else if (LONE_SURROGATE.test(key)) problems.push({ path, message: "a key must be valid Unicode text (it has a lone surrogate)" });
      else check((value as Record<string, unknown>)[key], [...path, key], depth + 1, false, problems);
    }
    return;
  }
  problems.push({ path, message: `unsupported value type ${typeof value}` });
}

export const freeFormObject = z.unknown().superRefine((value, ctx) => {
  if (value === null || typeof value !== "object" || Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype) {
    ctx.addIssue({ code: "custom", message: "expected an object" });
    return;
  }
  const problems: Problem[] = [];
  check(value, [], 0, false, problems);
  for (const problem of problems) ctx.addIssue({ code: "custom", message: problem.message, path: problem.path });
  if (problems.length === 0) {
    const size = Buffer.byteLength(JSON.stringify(value));
    if (size > FREE_FORM_LIMITS.maxBytes) ctx.addIssue({ code: "custom", message: `is ${size} bytes; the limit is ${FREE_FORM_LIMITS.maxBytes}` });
  }
});
