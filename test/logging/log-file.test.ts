/**
 * The logger's second copy of every line in a file (DX_LOG_FILE), for
 * operators and for the run's secrets check: every line, whatever the normal
 * destination, appended whole, and only the lines the level lets through.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger, LOG_FILE_VARIABLE } from "../../services/shared/logging/index.js";

const dir = mkdtempSync(join(tmpdir(), "dx-log-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function memory(): { write: (s: string) => void; text: () => string } {
  const chunks: string[] = [];
  return { write: (s) => void chunks.push(s), text: () => chunks.join("") };
}

const parse = (text: string) =>
  text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("the log file", () => {
  it("receives every line the logger writes to its own destination, unchanged", () => {
    const file = join(dir, "same.log");
    const destination = memory();
    const log = createLogger({ service: "records", destination, env: { [LOG_FILE_VARIABLE]: file } });
    log.info({ entity: "users" }, "first");
    log.warn({ authorization: "Bearer abcdefghijklmnop" }, "second");
    expect(readFileSync(file, "utf8")).toBe(destination.text());
    expect(parse(readFileSync(file, "utf8")).map((l) => [l.service, l.msg])).toEqual([
      ["records", "first"],
      ["records", "second"],
    ]);
    expect(readFileSync(file, "utf8")).not.toContain("abcdefghijklmnop");
  });

  it("collects the lines of several loggers in one file, each line whole", () => {
    const file = join(dir, "shared.log");
    const env = { [LOG_FILE_VARIABLE]: file };
    const records = createLogger({ service: "records", destination: memory(), env });
    const transfer = createLogger({ service: "transfer", destination: memory(), env });
    for (let i = 0; i < 50; i++) {
      records.info({ i, padding: "r".repeat(i * 40) }, "records line");
      transfer.info({ i, padding: "t".repeat(i * 40) }, "transfer line");
    }
    const lines = parse(readFileSync(file, "utf8"));
    expect(lines).toHaveLength(100);
    expect(lines.filter((l) => l.service === "records")).toHaveLength(50);
    expect(lines.filter((l) => l.service === "transfer")).toHaveLength(50);
  });

  it("keeps to the logger's level", () => {
    const file = join(dir, "level.log");
    const log = createLogger({ service: "records", destination: memory(), env: { [LOG_FILE_VARIABLE]: file, LOG_LEVEL: "warn" } });
    log.info("hidden");
    log.error("shown");
    expect(parse(readFileSync(file, "utf8")).map((l) => l.msg)).toEqual(["shown"]);
  });

  it("is not written without the variable", () => {
    const destination = memory();
    createLogger({ service: "records", destination, env: {} }).info("only here");
    expect(parse(destination.text()).map((l) => l.msg)).toEqual(["only here"]);
  });

  it("refuses to build a logger whose file cannot be opened, naming the file and the variable, rather than log nothing there", () => {
    const file = join(dir, "missing", "x.log");
    expect(() => createLogger({ service: "records", destination: memory(), env: { [LOG_FILE_VARIABLE]: file } })).toThrow(`cannot open the log file ${file} named by DX_LOG_FILE: ENOENT`);
  });
});
