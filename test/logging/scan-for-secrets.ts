/**
 * Finds secrets in captured output (logs, error bodies, exported files), for
 * tests here and for the full-run check that scans every service's output
 * (test/support/log-check.ts).
 *
 * Two kinds of finding: a known secret (a token, a password the test used)
 * appearing anywhere — whole, or for a JWT its signature alone, which is
 * enough to replay it once the header and payload are guessed — and anything
 * shaped like a JWT, a bearer credential or a PEM block even if the test did
 * not know it.
 */

export interface SecretFinding {
  kind: "known" | "jwt" | "bearer" | "pem";
  /** For a known secret: what kind it was recorded as (token, password, …). */
  secret?: string;
  /** 1-based line of the finding in `text`. */
  line: number;
  /** The finding, shortened so a report does not re-leak it. */
  excerpt: string;
}

/** A secret to look for: the value alone, or with the kind a report names. */
export type KnownSecret = string | { kind: string; value: string };

/**
 * A JWT: `header.payload.` with both parts JSON (`eyJ`), the signature
 * optional (an unsecured token has none), or three long base64url parts.
 */
const jwtShape = /eyJ[A-Za-z0-9_-]{8,}\.(?:eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*|[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})/g;
const bearerShape = /\bBearer\s+(?!\[Redacted\])[A-Za-z0-9._~+/=-]{8,}/g;
const pemShape = /-----BEGIN [A-Z0-9 ]*-----/g;

function shorten(secret: string): string {
  return secret.length <= 8 ? "*".repeat(secret.length) : `${secret.slice(0, 4)}…(${secret.length} chars)`;
}

/** Start offsets of the lines of `text`, for turning an index into a line number. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

function lineAt(starts: number[], index: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (starts[mid]! <= index) low = mid;
    else high = mid - 1;
  }
  return low + 1;
}

/**
 * The strings to search for one secret: a JWT with a real signature by its
 * signature alone (whatever else is around it, that part is the credential),
 * anything else whole; each also as it appears inside a JSON string (quotes,
 * backslashes and newlines escaped), since log lines are JSON.
 */
function needlesOf(value: string): string[] {
  const parts = value.split(".");
  const signed = parts.length === 3 && value.startsWith("eyJ") && (parts[2]?.length ?? 0) >= 16;
  const needle = signed ? parts[2]! : value;
  const escaped = JSON.stringify(needle).slice(1, -1);
  return escaped === needle ? [needle] : [needle, escaped];
}

/**
 * Every place where one of `secrets`, or a JWT/bearer/PEM-shaped string,
 * occurs in `text`. An empty array means clean. Secrets shorter than 4
 * characters are ignored (they would match by chance).
 */
export function scanForSecrets(text: string, secrets: readonly KnownSecret[] = []): SecretFinding[] {
  const findings: SecretFinding[] = [];
  let starts: number[] | undefined;
  const lineOf = (index: number) => lineAt((starts ??= lineStarts(text)), index);
  const needles = new Map<string, string | undefined>();
  for (const secret of secrets) {
    const { kind, value } = typeof secret === "string" ? { kind: undefined, value: secret } : secret;
    if (value.length < 4) continue;
    for (const needle of needlesOf(value)) if (!needles.has(needle)) needles.set(needle, kind);
  }
  for (const [needle, kind] of needles) {
    for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + needle.length)) {
      findings.push({ kind: "known", ...(kind ? { secret: kind } : {}), line: lineOf(i), excerpt: shorten(needle) });
    }
  }
  for (const match of text.matchAll(jwtShape)) findings.push({ kind: "jwt", line: lineOf(match.index), excerpt: shorten(match[0]) });
  for (const match of text.matchAll(bearerShape)) findings.push({ kind: "bearer", line: lineOf(match.index), excerpt: shorten(match[0]) });
  for (const match of text.matchAll(pemShape)) findings.push({ kind: "pem", line: lineOf(match.index), excerpt: match[0] });
  return findings;
}

/** Throws with a readable list when `text` holds any secret. */
export function assertNoSecrets(text: string, secrets: readonly KnownSecret[] = [], what = "output"): void {
  const findings = scanForSecrets(text, secrets);
  if (findings.length > 0) {
    throw new Error(`${what} leaks ${findings.length} secret(s):\n${findings.map((f) => `  line ${f.line}: ${f.kind}${f.secret ? ` ${f.secret}` : ""} ${f.excerpt}`).join("\n")}`);
  }
}
