/**
 * Finds secrets in captured output (logs, error bodies, exported files), for
 * tests here and for a later full-suite check that scans every service's
 * output.
 *
 * Two kinds of finding: a known secret (a token, a password the test used)
 * appearing anywhere — whole, or for a JWT its signature alone, which is
 * enough to replay it once the header and payload are guessed — and anything
 * shaped like a JWT or a bearer credential even if the test did not know it.
 */

export interface SecretFinding {
  kind: "known" | "jwt" | "bearer";
  /** 1-based line of the finding in `text`. */
  line: number;
  /** The finding, shortened so a report does not re-leak it. */
  excerpt: string;
}

const jwtShape = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g;
const bearerShape = /\bBearer\s+(?!\[Redacted\])[A-Za-z0-9._~+/=-]{8,}/g;

function shorten(secret: string): string {
  return secret.length <= 8 ? "*".repeat(secret.length) : `${secret.slice(0, 4)}…(${secret.length} chars)`;
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < index; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

/**
 * Every place where one of `secrets`, or a JWT/bearer-shaped string, occurs in
 * `text`. An empty array means clean. Secrets shorter than 4 characters are
 * ignored (they would match by chance).
 */
export function scanForSecrets(text: string, secrets: readonly string[] = []): SecretFinding[] {
  const findings: SecretFinding[] = [];
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    needles.add(secret);
    const parts = secret.split(".");
    if (parts.length === 3 && secret.startsWith("eyJ") && (parts[2]?.length ?? 0) >= 16) needles.add(parts[2]!);
  }
  for (const needle of needles) {
    for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + needle.length)) {
      findings.push({ kind: "known", line: lineOf(text, i), excerpt: shorten(needle) });
    }
  }
  for (const match of text.matchAll(jwtShape)) findings.push({ kind: "jwt", line: lineOf(text, match.index), excerpt: shorten(match[0]) });
  for (const match of text.matchAll(bearerShape)) findings.push({ kind: "bearer", line: lineOf(text, match.index), excerpt: shorten(match[0]) });
  return findings;
}

/** Throws with a readable list when `text` holds any secret. */
export function assertNoSecrets(text: string, secrets: readonly string[] = [], what = "output"): void {
  const findings = scanForSecrets(text, secrets);
  if (findings.length > 0) {
    throw new Error(`${what} leaks ${findings.length} secret(s):\n${findings.map((f) => `  line ${f.line}: ${f.kind} ${f.excerpt}`).join("\n")}`);
  }
}
