/**
 * checkJsonText: what JSON.parse does not say about a JSON text — a key given
 * twice (JSON.parse keeps the last) and top-level numbers whose String() is
 * not the text written (JSON.parse turns 1.50 into 1.5).
 */
import { describe, expect, it } from "vitest";
import { checkJsonText, duplicateKeyReason, inexactIntegerReason } from "../../formats/_sdk/index.js";

const check = (text: string, options: { numberText?: boolean } = {}) => checkJsonText(text, JSON.parse(text), options);
const duplicate = (text: string) => check(text)?.duplicateKey;

describe("checkJsonText on keys", () => {
  it("says nothing about objects whose keys are all different, however nested", () => {
    expect(check('{"a":1,"b":{"a":2,"c":[{"a":3},{"a":4,"b":"x:y"}]},"c":"{\\"a\\":1,\\"a\\":2}"}')).toBeUndefined();
    expect(check("[]")).toBeUndefined();
    expect(check('"a:b"')).toBeUndefined();
  });

  it("finds a top-level key given twice, the natural key included, and names it as the row's column", () => {
    expect(duplicate('{"code":"A","title":"x","code":"B"}')).toEqual({ path: "code", member: "code" });
  });

  it("finds a key given twice in a nested object and gives its path", () => {
    expect(duplicate('{"userId":"u1","details":{"score":1,"device":"pc","score":2}}')).toEqual({ path: "details.score", member: "details" });
    expect(duplicate('{"a":{"b":{"c":1,"c":1}}}')).toEqual({ path: "a.b.c", member: "a" });
  });

  it("finds a key given twice in an object inside a list, with the list position in the path", () => {
    expect(duplicate('{"activities":[{"id":1},{"id":2,"x":0,"id":3}]}')).toEqual({ path: "activities[1].id", member: "activities" });
    expect(duplicate('[{"a":1},{"b":1,"b":2}]')).toEqual({ path: "[1].b", member: "1" });
  });

  it("compares keys after JSON unescaping", () => {
    expect(duplicate('{"a":1,"\\u0061":2}')).toEqual({ path: "a", member: "a" });
    expect(duplicate('{"caf\\u00e9":1,"café":2}')).toEqual({ path: "café", member: "café" });
    expect(duplicate('{"a\\"b":1,"a\\u0022b":2}')).toMatchObject({ member: 'a"b' });
  });

  it("tells the same key in two sibling objects from a key given twice", () => {
    expect(check('{"x":{"k":1},"y":{"k":2},"z":[{"k":1},{"k":2}]}')).toBeUndefined();
    expect(duplicate('{"x":{"k":1},"y":{"k":2},"y":3}')).toEqual({ path: "y", member: "y" });
  });

  it("is not fooled by colons, braces, quotes and backslashes inside strings", () => {
    expect(check('{"a":"}:{\\\\","b":"\\\\\\":","c":"\\\\"}')).toBeUndefined();
    expect(duplicate('{"a":"}:{\\\\","a":"x"}')).toEqual({ path: "a", member: "a" });
  });

  it("quotes a key that would read as path syntax", () => {
    expect(duplicate('{"d":{"a.b":1,"a.b":2}}')?.path).toBe('d["a.b"]');
  });

  it("takes any depth of nesting without running out of stack", () => {
    const depth = 200_000;
    const text = `${"[".repeat(depth)}{"a":1,"a":2}${"]".repeat(depth)}`;
    expect(duplicate(text)?.path).toBe(`${"[0]".repeat(depth)}.a`);
  });

  it("words the row error with the key and what to do, never a value", () => {
    expect(duplicateKeyReason("details.score")).toBe('duplicate key "details.score": the object gives it twice, and a key can hold one value; remove one of them');
  });
});

describe("checkJsonText on numbers", () => {
  it("notes the top-level numbers whose String() is not the text written, as written", () => {
    const text = '{"big":12345678901234567890,"exp":1e21,"upper":1E3,"negZero":-0,"one":1.0,"half":1.50,"tiny":0.0000001,"small":1e-7,"plain":42,"frac":3.25,"nested":{"n":1.50}}';
    expect(check(text, { numberText: true })?.numberText).toEqual({ big: "12345678901234567890", exp: "1e21", upper: "1E3", negZero: "-0", one: "1.0", half: "1.50", tiny: "0.0000001" });
  });

  it("notes numbers only when asked, and only for an object", () => {
    expect(check('{"n":1.50}')).toBeUndefined();
    expect(check("[1.50]", { numberText: true })).toBeUndefined();
  });

  it("keys a noted number by its unescaped member name, whitespace around the colon or not", () => {
    expect(check('{ "\\u0061" :\n 1.0 , "__proto__": -0 }', { numberText: true })?.numberText).toEqual(Object.assign(Object.create(null), { a: "1.0", ["__proto__"]: "-0" }));
  });

  it("agrees with String(Number(token)) on every kind of number token", () => {
    const tokens = [
      "0",
      "-0",
      "7",
      "-7",
      "10",
      "100",
      "0.5",
      "-0.5",
      "0.50",
      "1.0",
      "0.000001",
      "-0.000001",
      "0.0000001",
      "0.0000010",
      "123456789012345",
      "1234567890123456",
      "9007199254740993",
      "999999999999999.9",
      "99999999999999.9",
      "0.1",
      "0.3",
      "1e5",
      "1E+5",
      "1e-5",
      "2.5e0",
      "1e21",
      "1e20",
      "-1e300",
      "1e400",
      "0.1234567890123456",
      "0.123456789012345",
      "12.0000000000001",
      "5e-324",
    ];
    // and many random ones: integers, fractions and exponents of every length
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const digits = (n: number, first = "123456789") => first[random(first.length)] + Array.from({ length: n - 1 }, () => String(random(10))).join("");
    for (let i = 0; i < 20_000; i++) {
      let t = (random(4) === 0 ? "-" : "") + (random(3) === 0 ? "0" : digits(1 + random(22)));
      if (random(2) === 0) t += `.${random(3) === 0 ? "0".repeat(random(8)) : ""}${Array.from({ length: 1 + random(18) }, () => String(random(10))).join("")}`;
      if (random(4) === 0) t += `${random(2) ? "e" : "E"}${["", "+", "-"][random(3)]}${random(30)}`;
      tokens.push(t);
    }
    for (const token of tokens) {
      const noted = check(`{"n":${token}}`, { numberText: true })?.numberText?.n;
      expect(noted, token).toBe(String(Number(token)) === token ? undefined : token);
    }
  });
});

describe("checkJsonText on integers a number cannot hold exactly", () => {
  const inexact = (text: string, inexactIntegers: "nested" | "all") => checkJsonText(text, JSON.parse(text), { inexactIntegers })?.inexactInteger;

  it("finds a nested integer beyond 2^53 that JSON.parse rounds, with its path, and says what it would become", () => {
    const found = inexact('{"userId":"u1","details":{"score":1,"postId":12345678901234567890}}', "nested");
    expect(found).toEqual({ path: "details.postId", member: "details", token: "12345678901234567890" });
    expect(inexactIntegerReason(found!)).toBe(
      'the integer 12345678901234567890 at "details.postId" has more digits than a number keeps exactly: it would be stored as 12345678901234567000; write it as a JSON string ("12345678901234567890") to keep every digit',
    );
    expect(inexact('{"details":{"ids":[1,2,-9007199254740993]}}', "nested")).toEqual({ path: "details.ids[2]", member: "details", token: "-9007199254740993" });
  });

  it("leaves top-level members to the core with 'nested' (a text field keeps the number as written), and reports them with 'all'", () => {
    expect(inexact('{"code":12345678901234567890}', "nested")).toBeUndefined();
    expect(inexact('{"code":12345678901234567890}', "all")).toEqual({ path: "code", member: "code", token: "12345678901234567890" });
    expect(inexact("12345678901234567890", "all")).toEqual({ path: "", member: "", token: "12345678901234567890" });
  });

  it("says nothing of integers a double holds, of fractions and exponents, or of digits in strings", () => {
    expect(inexact('{"d":{"a":9007199254740991,"b":-9007199254740991,"c":123456789012345}}', "all")).toBeUndefined();
    // Beyond the safe range, integers whose double prints back as written (as an export writes a stored double) are fine.
    expect(inexact('{"d":{"a":9007199254740992,"b":-9007199254740992,"c":12345678901234567000}}', "all")).toBeUndefined();
    expect(inexact('{"d":{"a":1.2345678901234567890,"b":1e30,"c":12345678901234567890e0}}', "all")).toBeUndefined();
    expect(inexact('{"d":{"a":"12345678901234567890","12345678901234567890":1}}', "all")).toBeUndefined();
  });
});
