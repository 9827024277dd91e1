/**
 * The secrets a test run used, for the check at its end that none of them
 * reached a log line (log-check.ts).
 *
 * Two sources, because secrets come into a run two ways:
 * - minted while it runs (tokens, key pairs, the transfer service's
 *   credential): the helpers that make them call {@link recordSecret} or
 *   {@link recordPrivateKey}, which append to `secrets.jsonl` in the run's
 *   capture folder — from whichever worker process minted them;
 * - written into the tests (fixture passwords, constant tokens): read from
 *   the test sources by {@link fixtureSecrets}, so a new test's password is
 *   looked for without anyone remembering to list it.
 */
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import type { KeyObject } from "node:crypto";
import { join } from "node:path";
import { SECRETS_FILE, testLogDir } from "./log-capture.js";

/** What kind of secret, as the check's report names it. */
export type SecretKind = "token" | "service credential" | "private key" | "password" | "fixture secret";

export interface RecordedSecret {
  kind: SecretKind;
  value: string;
  /** Where it came from, for the report (a source file for fixture secrets). */
  origin?: string;
}

/** Values already written by this process, so a token re-used by a loop is recorded once. */
const written = new Set<string>();

/**
 * Records a secret the run uses and returns it, so minting helpers can
 * `return recordSecret(…)`. A no-op outside a captured run.
 */
export function recordSecret<T extends string>(kind: SecretKind, value: T, dir: string | undefined = testLogDir()): T {
  if (!dir || value.length < 8) return value;
  const key = `${dir}\u0000${kind}\u0000${value}`;
  if (written.has(key)) return value;
  written.add(key);
  appendFileSync(join(dir, SECRETS_FILE), `${JSON.stringify({ kind, value })}\n`, { mode: 0o600 });
  return value;
}

/**
 * Records a private key in the forms it would leak in: each line of its PEM
 * body (a PEM printed into a JSON line keeps its lines, joined by `\n`
 * escapes) and its private JWK members.
 */
export function recordPrivateKey(key: KeyObject): KeyObject {
  if (!testLogDir()) return key;
  const pem = key.export({ type: "pkcs8", format: "pem" }).toString();
  for (const line of pem.split("\n")) if (!line.startsWith("-----") && line.length >= 16) recordSecret("private key", line);
  const jwk = key.export({ format: "jwk" }) as Record<string, unknown>;
  for (const member of ["d", "p", "q", "dp", "dq", "qi"]) if (typeof jwk[member] === "string") recordSecret("private key", jwk[member]);
  return key;
}

/** Every secret recorded in `dir` by any process of the run. */
export function readRecordedSecrets(dir: string): RecordedSecret[] {
  const file = join(dir, SECRETS_FILE);
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as RecordedSecret);
}

/** Secret-named fields and constants: `password: "…"`, `const SECRET = "…"`, `const opaqueToken = "…"`. */
const passwordField = /\bpassword["']?\s*[:=]\s*(["'`])((?:\\.|(?!\1)[^\\\n])*)\1/gi;
const secretConstant = /\b(?:const|let|var)\s+(\w*(?:password|secret|token)\w*)\s*=\s*(["'`])((?:\\.|(?!\2)[^\\\n])*)\2/gi;
/** A string literal (file contents in a test: CSV, NDJSON). */
const stringLiteral = /(["'`])((?:\\.|(?!\1)[^\\\n])*)\1/g;

/** Passwords the domain accepts have at least 8 characters; shorter values ("short", "***") are the rejected ones. */
const MIN_SECRET_LENGTH = 8;

/**
 * The secrets written into the test sources under `root`: values of
 * `password` fields and of constants named like a password, secret or token,
 * and the password column of CSV text in string literals. A template value
 * (`Sesame-${n}-open`) contributes its literal parts of 7+ characters.
 * `support/` is skipped: it is this harness, whose names (`SECRETS_FILE`)
 * are not secrets.
 */
export function fixtureSecrets(root: string): RecordedSecret[] {
  const found = new Map<string, RecordedSecret>();
  const add = (kind: SecretKind, raw: string, origin: string) => {
    for (const value of literalParts(raw)) if (!found.has(value)) found.set(value, { kind, value, origin });
  };
  for (const file of sourceFiles(root).filter((path) => !path.startsWith(join(root, "support")))) {
    const text = readFileSync(file, "utf8");
    const origin = file.slice(root.length + 1);
    for (const m of text.matchAll(passwordField)) add("password", m[2]!, origin);
    for (const m of text.matchAll(secretConstant)) add(/password/i.test(m[1]!) ? "password" : "fixture secret", m[3]!, origin);
    for (const m of text.matchAll(stringLiteral)) for (const value of csvPasswords(m[2]!)) add("password", value, origin);
  }
  return [...found.values()];
}

/** The parts of a literal worth looking for: itself, or for a template its fixed pieces. */
function literalParts(raw: string): string[] {
  const unescaped = raw.replace(/\\(["'`\\])/g, "$1");
  if (!unescaped.includes("${")) return unescaped.length >= MIN_SECRET_LENGTH && !/\\[nrt]/.test(unescaped) ? [unescaped] : [];
  return unescaped.split(/\$\{[^}]*\}/).filter((part) => part.trim().length >= 7 && !/\\[nrt]/.test(part));
}

/** The `password` column's values of CSV text written as a literal with `\n` escapes. */
function csvPasswords(literal: string): string[] {
  if (!/password/i.test(literal) || !literal.includes("\\n")) return [];
  const [header, ...rows] = literal.split("\\n");
  const column = header!.split(",").findIndex((cell) => cell.trim().toLowerCase() === "password");
  if (column === -1) return [];
  return rows.map((row) => row.split(",")[column]?.trim() ?? "").filter((value) => value !== "");
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith(".ts")) out.push(path);
  }
  return out;
}
