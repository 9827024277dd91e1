/**
 * What `JSON.parse` does not say about a JSON text, found in one pass over it.
 *
 * `JSON.parse` keeps the last of a key given twice (`{"code":"A","code":"B"}`
 * is `{code: "B"}`) and turns every number into a double, so `1.50`, `1e21`,
 * `-0` and `12345678901234567890` come back as values whose `String()` is not
 * what the file wrote. Both are silent changes of data for an import: the
 * first drops a value, the second changes the text of a number that lands in
 * a text column. Node 20's `JSON.parse` cannot show the source text (that
 * needs a flag), so readers keep `JSON.parse` (fast, and the one definition of
 * valid JSON) and run {@link checkJsonText} over the same text afterwards.
 *
 * Why numbers are noted rather than refused or turned into text here: after
 * `JSON.parse`, `1.50` and `1.5` are the same double, so `coerceCell` cannot
 * tell them apart (and must not refuse doubles anyway: an XLSX or ODS number
 * cell is a double in the file itself). A reader does not know which columns
 * are text, and turning every `1.50` into the string "1.50" would change what
 * a number, boolean or free-form object field receives. So the reader notes
 * the written text beside the value (`ReadRow.numberText`), and the core,
 * which knows the field, uses it only for a text field: exact where it
 * matters, unchanged everywhere else, one extra property on the rare row.
 */

/** What {@link checkJsonText} found; it returns `undefined` when there is nothing to say (almost always). */
export interface JsonTextFindings {
  /**
   * A key some object has twice, after JSON unescaping (`"a"` and `"\u0061"`
   * are one key): the path to it, keys joined by `.` and list positions in
   * brackets (`code`, `details.score`, `activities[2].id`), and the top-level
   * member it is in (what a reader names as the row error's column).
   */
  duplicateKey?: { path: string; member: string };
  /**
   * The top-level members whose value is a number written in a form
   * `String(value)` does not give back — `1.50`, `1.0`, `1e21`, `1E3`, `-0`,
   * an integer beyond 2^53 — keyed by member, as the file wrote them. Only
   * with `{ numberText: true }`, and only when the text is an object.
   */
  numberText?: Record<string, string>;
  /**
   * The first integer written with more digits than a double keeps exactly
   * (some integers beyond ±9007199254740991, `Number.MAX_SAFE_INTEGER`), inside a nested
   * object or list: `JSON.parse` rounds it (12345678901234567890 becomes
   * 12345678901234567000) and a nested value has no text column to keep it
   * in. Only with `{ inexactIntegers: … }`. `path` and `member` as for
   * {@link duplicateKey}; `token` as written.
   */
  inexactInteger?: { path: string; member: string; token: string };
}

/**
 * Which integers {@link checkJsonText} reports when a double cannot hold them:
 * `"nested"` those inside a top-level member's object or list (a row of a
 * JSON or NDJSON file, whose top-level numbers the core types by their field);
 * `"all"` every one (the JSON text of one cell, an object or list value whole).
 */
export type InexactIntegers = "nested" | "all";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
const DOT = 0x2e;
const PLUS = 0x2b;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

/**
 * Checks a JSON text that `JSON.parse` has just parsed into `value` (give it
 * only such a pair: the pass trusts the syntax) for a key given twice in any
 * object, nested ones included; with `{ numberText: true }`, notes the
 * top-level numbers whose `String()` would not be the text written; with
 * `{ inexactIntegers }`, finds the first integer a double cannot hold exactly.
 *
 * How it stays cheap: one char-code pass counts the member separators (`:`
 * outside strings) and compares them with the keys the parsed value has; only
 * when they differ (some key collapsed) does a second, slower pass find which
 * key repeats and where. Numbers are noted in the same first pass: one of at
 * most 15 significant digits, with no exponent and no trailing zero after a
 * point, is known by its digits to print back as written; anything else (an
 * exponent, a longer number, `-0`, `1.50`) is compared with
 * `String(Number(token))`.
 *
 * Cost, measured over 100,000 NDJSON session rows (10 members, 270
 * characters, a fractional score; Node 20, CPU time by `process.cpuUsage`,
 * median of 7 rounds, 7 runs on 2 shared cores): `JSON.parse` alone 1.3–1.8 µs
 * a row; this check adds 0.5–0.8 µs (about 0.7), numbers noted or not. That is
 * under 1% of an import's ~100 µs a row (~10k rows/s end to end, bench/README.md).
 * Looking for nested integers a double cannot hold (`inexactIntegers`) did not
 * move it measurably: 0.7–1.0 µs a row before and after, over 100,000 session
 * rows with a nested `details` object, five alternated rounds.
 */
export function checkJsonText(text: string, value: unknown, options: { numberText?: boolean; inexactIntegers?: InexactIntegers } = {}): JsonTextFindings | undefined {
  const noteNumbers = options.numberText === true && typeof value === "object" && value !== null && !Array.isArray(value);
  /** The depth from which an integer a double cannot hold is reported (the row object is depth 1). */
  const inexactFrom = options.inexactIntegers === "all" ? 0 : options.inexactIntegers === "nested" ? 2 : Number.POSITIVE_INFINITY;
  const n = text.length;
  let members = 0;
  let depth = 0;
  let keyStart = 0;
  let keyEnd = 0;
  let numberText: Record<string, string> | undefined;
  let inexactAt = -1;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if ((c >= ZERO && c <= NINE) || c === MINUS) {
      // A number outside a member's own value (in a list, or nested): digits outside strings are only ever numbers.
      const start = i;
      while (i + 1 < n && isNumberChar(text.charCodeAt(i + 1))) i++;
      if (inexactAt < 0 && depth >= inexactFrom && beyondExactIntegers(text, start, i + 1)) inexactAt = start;
    } else if (c === QUOTE) {
      const start = i + 1;
      i = stringEnd(text, start);
      if (depth === 1) {
        keyStart = start;
        keyEnd = i;
      }
    } else if (c === COLON) {
      members++;
      if (depth !== 1 || !noteNumbers) continue;
      // The member's value: a number token right after the colon (and any whitespace)?
      let j = i + 1;
      let d = text.charCodeAt(j);
      while (d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) d = text.charCodeAt(++j);
      if (d !== MINUS && (d < ZERO || d > NINE)) continue;
      const start = j;
      while (j < n && isNumberChar(text.charCodeAt(j))) j++;
      i = j - 1;
      if (inexactAt < 0 && depth >= inexactFrom && beyondExactIntegers(text, start, j)) inexactAt = start;
      if (writtenAsPrinted(text, start, j)) continue;
      const token = text.slice(start, j);
      const raw = text.slice(keyStart, keyEnd);
      const key = raw.includes("\\") ? (JSON.parse(text.slice(keyStart - 1, keyEnd + 1)) as string) : raw;
      (numberText ??= Object.create(null) as Record<string, string>)[key] = token; // no prototype: a "__proto__" key is a key
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  const duplicateKey = members !== countKeys(value) ? findDuplicateKey(text) : undefined;
  const inexactInteger = inexactAt < 0 ? undefined : { ...pathAt(text, inexactAt), token: numberTokenAt(text, inexactAt) };
  if (duplicateKey === undefined && numberText === undefined && inexactInteger === undefined) return undefined;
  return { ...(duplicateKey && { duplicateKey }), ...(numberText && { numberText }), ...(inexactInteger && { inexactInteger }) };
}

/**
 * What makes a JSON row a row error, from its findings: a key given twice, or
 * a nested integer a double cannot hold (in that order) — the column (the
 * top-level member it is in) and the reason; undefined when the row is fine.
 * One place, so every JSON-based reader reports them alike.
 */
export function jsonRowProblem(found: JsonTextFindings | undefined): { column: string; reason: string } | undefined {
  if (found?.duplicateKey !== undefined) return { column: found.duplicateKey.member, reason: duplicateKeyReason(found.duplicateKey.path) };
  if (found?.inexactInteger !== undefined) return { column: found.inexactInteger.member, reason: inexactIntegerReason(found.inexactInteger) };
  return undefined;
}

/**
 * The row error's reason for an integer a double cannot hold: names where it
 * is, what it would become, and how to keep it (as text).
 */
export function inexactIntegerReason(found: { path: string; token: string }): string {
  const where = found.path === "" ? "" : ` at ${JSON.stringify(found.path)}`;
  return `the integer ${found.token}${where} has more digits than a number keeps exactly: it would be stored as ${String(Number(found.token))}; write it as a JSON string ("${found.token}") to keep every digit`;
}

/**
 * True for an integer token (no fraction, no exponent) whose double prints
 * back as other digits: 9007199254740993 (→ …992), 12345678901234567890
 * (→ 12345678901234567000). Beyond `Number.MAX_SAFE_INTEGER` many tokens do
 * print back as written (−2^53; 12345678901234567000, which is how an export
 * writes a stored double), and those round-trip unchanged, so the test is the
 * printed digits rather than the safe range.
 */
function beyondExactIntegers(text: string, start: number, end: number): boolean {
  const digits = end - start - (text.charCodeAt(start) === MINUS ? 1 : 0);
  if (digits < 16) return false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === DOT || c === LOWER_E || c === UPPER_E) return false;
  }
  const token = text.slice(start, end);
  return String(Number(token)) !== token;
}

function numberTokenAt(text: string, start: number): string {
  let end = start + 1;
  while (end < text.length && isNumberChar(text.charCodeAt(end))) end++;
  return text.slice(start, end);
}

/**
 * The row error's reason for a key given twice: names it (with its path) and
 * says what to do, never its values (they may be a password).
 */
export function duplicateKeyReason(path: string): string {
  return `duplicate key ${JSON.stringify(path)}: the object gives it twice, and a key can hold one value; remove one of them`;
}

/**
 * True when `String(Number(token))` is sure to be the token, the text between
 * `start` and `end` being a valid JSON number: judged from its digits where
 * that is certain (no exponent; at most 15 significant digits, which a double
 * keeps and prints back exactly; no trailing zero after a point; not so small
 * that it prints with an exponent; not -0), else by printing it.
 */
function writtenAsPrinted(text: string, start: number, end: number): boolean {
  let i = start;
  if (text.charCodeAt(i) === MINUS) i++;
  let leadingZeros = 0;
  let significant = 0;
  let dot = false;
  let last = 0;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === DOT) dot = true;
    else if (c >= ZERO && c <= NINE) {
      if (significant === 0 && c === ZERO) leadingZeros++;
      else significant++;
      last = c;
    } else break; // an exponent
  }
  if (i === end && significant > 0 && significant <= 15 && leadingZeros <= 6 && !(dot && last === ZERO)) return true;
  if (i === end && significant === 0 && !dot && text.charCodeAt(start) !== MINUS) return true; // 0
  const token = text.slice(start, end);
  return String(Number(token)) === token;
}

function isNumberChar(c: number): boolean {
  return (c >= ZERO && c <= NINE) || c === DOT || c === MINUS || c === PLUS || c === LOWER_E || c === UPPER_E;
}

/** Index of the quote that closes the string whose text starts at `i`. */
function stringEnd(text: string, i: number): number {
  for (;;) {
    const q = text.indexOf('"', i);
    if (q < 0) return text.length;
    // A quote is escaped when an odd number of backslashes precede it.
    let b = q - 1;
    while (b >= i && text.charCodeAt(b) === BACKSLASH) b--;
    if ((q - 1 - b) % 2 === 0) return q;
    i = q + 1;
  }
}

/** How many keys a parsed value's objects have, at every depth (without recursion: JSON.parse takes any depth). */
function countKeys(value: unknown): number {
  if (typeof value !== "object" || value === null) return 0;
  let n = 0;
  let node = value as object;
  let pending: object[] | undefined; // only once a nested object or list turns up
  for (;;) {
    if (Array.isArray(node)) {
      for (const item of node) if (typeof item === "object" && item !== null) (pending ??= []).push(item);
    } else {
      const object = node as Record<string, unknown>;
      for (const key in object) {
        n++;
        const item = object[key];
        if (typeof item === "object" && item !== null) (pending ??= []).push(item);
      }
    }
    const next = pending?.pop();
    if (next === undefined) return n;
    node = next;
  }
}

interface Frame {
  /** Keys seen so far; absent for a list. */
  keys?: Set<string>;
  /** The current member's key, or the current item's position in a list. */
  at: string | number;
  expectKey: boolean;
}

/**
 * The slow passes' walk over a (valid) text: keeps the path of open objects
 * and lists, each object's keys, and calls `stop` with each key as it is read
 * and at `until`; returns the path where `stop` said so.
 */
function walk(text: string, stop: (stack: Frame[], key: string | undefined) => boolean, until = text.length): { path: string; member: string } | undefined {
  const stack: Frame[] = [];
  const found = () => {
    const path = stack.map((f) => f.at);
    return { path: formatPath(path), member: path.length === 0 ? "" : String(path[0]) };
  };
  for (let i = 0; i < until; i++) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (c === QUOTE) {
      const end = stringEnd(text, i + 1);
      if (top?.keys !== undefined && top.expectKey) {
        const raw = text.slice(i + 1, end);
        const key = raw.includes("\\") ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
        top.at = key;
        top.expectKey = false;
        if (stop(stack, key)) return found();
        top.keys.add(key);
      }
      i = end;
    } else if (c === OPEN_BRACE) stack.push({ keys: new Set(), at: "", expectKey: true });
    else if (c === OPEN_BRACKET) stack.push({ at: 0, expectKey: false });
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) stack.pop();
    else if (c === COMMA && top !== undefined) {
      if (top.keys !== undefined) top.expectKey = true;
      else top.at = (top.at as number) + 1;
    }
  }
  return until < text.length && stop(stack, undefined) ? found() : undefined;
}

/** The slow pass for a key given twice: stops at the first key its object has already. */
function findDuplicateKey(text: string): { path: string; member: string } | undefined {
  return walk(text, (stack, key) => key !== undefined && stack[stack.length - 1]!.keys!.has(key));
}

/** The path to the value that starts at `offset`. */
function pathAt(text: string, offset: number): { path: string; member: string } {
  return walk(text, (_, key) => key === undefined, offset) ?? { path: "", member: "" };
}

/** `details.score`, `activities[2].id`; a key that would read as path syntax is quoted (`["a.b"]`). */
function formatPath(path: (string | number)[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else if (part === "" || /[.[\]"]/.test(part)) out += `[${JSON.stringify(part)}]`;
    else out += out === "" ? part : `.${part}`;
  }
  return out;
}
