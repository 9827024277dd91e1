/**
 * `dx`'s option values as the RPCs receive them. Dates are the ones that can
 * go wrong without a word: the CLI runs in a person's time zone, the server
 * reads zone-less text as UTC, and `new Date()` rolls impossible days over;
 * and a mapping file, where `JSON.parse` keeps the last of a key given twice.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dateOption } from "../../cli/arguments.js";
import { CliError } from "../../cli/exit-codes.js";
import { readMappingFile } from "../../cli/mapping.js";

describe("a --since/--until/--changed-since value", () => {
  let zone: string | undefined;
  beforeEach(() => {
    zone = process.env.TZ;
    process.env.TZ = "Asia/Kolkata"; // 5:30 ahead of UTC: a value read in the local zone would move
  });
  afterEach(() => {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  });

  it("is a date at midnight UTC, or the instant a time with its zone names", () => {
    expect(dateOption("2024-05-01", "--since").toISOString()).toBe("2024-05-01T00:00:00.000Z");
    expect(dateOption("2024-05-01T12:00:00Z", "--since").toISOString()).toBe("2024-05-01T12:00:00.000Z");
    expect(dateOption(" 2024-05-01T14:00:00.250+02:00 ", "--since").toISOString()).toBe("2024-05-01T12:00:00.250Z");
    expect(dateOption("2024-05-01 12:00-0130", "--until").toISOString()).toBe("2024-05-01T13:30:00.000Z");
  });

  it("is refused, naming the option, when a time has no zone, a day or hour does not exist, or digits pass the millisecond", () => {
    const refusal = (text: string) => {
      try {
        dateOption(text, "--since");
      } catch (error) {
        expect(error).toBeInstanceOf(CliError);
        return (error as Error).message;
      }
      throw new Error(`${text} was accepted`);
    };
    expect(refusal("2024-05-01T12:00:00")).toBe('--since "2024-05-01T12:00:00" has a time but no zone: end it with Z or an offset (2024-05-01, 2024-05-01T12:00:00Z, 2024-05-01T14:00:00+02:00)');
    expect(refusal("2024-02-30")).toBe('--since: invalid day in timestamp "2024-02-30"');
    expect(refusal("2024-05-01T24:00:00Z")).toBe('--since: invalid hour in timestamp "2024-05-01T24:00:00Z"');
    expect(refusal("2024-05-01T12:00:00.1234Z")).toMatch(/^--since: "2024-05-01T12:00:00.1234Z" is more precise than milliseconds/);
    expect(refusal("May 1")).toBe('--since takes an ISO 8601 date or a time with its zone (2024-05-01, 2024-05-01T12:00:00Z, 2024-05-01T14:00:00+02:00), not "May 1"');
  });
});

describe("a --mapping file", () => {
  it("is refused when an entry gives a key twice, rather than mapping the column to the last field named", () => {
    const dir = mkdtempSync(join(tmpdir(), "dx-mapping-"));
    try {
      const file = join(dir, "mapping.json");
      writeFileSync(file, '[{"source": "Login", "field": "username"}, {"source": "Mail", "field": "email", "field": "username"}]');
      expect(() => readMappingFile(file)).toThrow(new CliError(`--mapping ${file}: duplicate key "[1].field": the object gives it twice, and a key can hold one value; remove one of them`, 2));
      writeFileSync(file, '[{"source": "Login", "field": "username"}, {"source": "Mail", "field": "email"}]');
      expect(readMappingFile(file).map((m) => [m.source, m.field])).toEqual([
        ["Login", "username"],
        ["Mail", "email"],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
