/**
 * Which plugins run in format workers: the light shipped formats in-thread
 * by default (measured: a worker costs them throughput), the spreadsheets and
 * any other plugin in a worker, and configuration over both; in-thread everywhere means no pool
 * and the plugins themselves, untouched.
 */
import { describe, expect, it } from "vitest";
import { formatWorkersSchema } from "../../../services/transfer/config/transfer-config.js";
import { defaultFormatsDir, discoverPlugins } from "../../../services/transfer/plugins/index.js";
import { BUILT_IN_FORMAT_MODES, formatModeOf, runsInWorkers, startFormatWorkers } from "../../../services/transfer/plugins/workers/index.js";
import { writeTestPlugins } from "./test-plugins.js";

const settings = (input: object) => formatWorkersSchema.parse(input);

describe("the mode of a format", () => {
  it("is in-thread for the light shipped formats, workers for the spreadsheets and for any other plugin, unless configured", () => {
    expect(BUILT_IN_FORMAT_MODES).toEqual({ csv: "in-thread", json: "in-thread", ndjson: "in-thread", html: "in-thread", markdown: "in-thread", xlsx: "workers", ods: "workers" });
    expect(formatModeOf("csv", settings({}))).toBe("in-thread");
    expect(formatModeOf("xlsx", settings({}))).toBe("workers");
    expect(formatModeOf("ods", settings({}))).toBe("workers");
    expect(formatModeOf("xlsx-from-a-vendor", settings({}))).toBe("workers");
  });

  it("follows formats[name] over mode, and mode over the defaults", () => {
    const config = settings({ mode: "workers", formats: { json: "in-thread", vendor: "in-thread" } });
    expect(formatModeOf("csv", config)).toBe("workers");
    expect(formatModeOf("json", config)).toBe("in-thread");
    expect(formatModeOf("vendor", config)).toBe("in-thread");
    expect(formatModeOf("other", settings({ mode: "in-thread" }))).toBe("in-thread");
  });
});

describe("starting the format workers", () => {
  it("starts no pool when every plugin runs in-thread, and hands out the plugins themselves", async () => {
    const discovered = await discoverPlugins([defaultFormatsDir()]);
    const workers = await startFormatWorkers(discovered, settings({ mode: "in-thread" }));
    expect(workers.pool).toBeUndefined();
    expect(workers.plugins).toBe(discovered);
    expect(new Set(workers.modes.values())).toEqual(new Set(["in-thread"]));
    await workers.close();
  });

  it("wraps only the plugins that run in workers, and starts threads only when a job needs one", async () => {
    const folder = writeTestPlugins(["watched"]);
    try {
      const discovered = await discoverPlugins([defaultFormatsDir(), folder.dir]);
      const workers = await startFormatWorkers(discovered, settings({ poolSize: 2 }));
      try {
        expect(Object.fromEntries(workers.modes)).toEqual({
          csv: "in-thread",
          html: "in-thread",
          json: "in-thread",
          markdown: "in-thread",
          ndjson: "in-thread",
          ods: "workers",
          watched: "workers",
          xlsx: "workers",
        });
        expect(workers.plugins.plugins.get("csv")).toBe(discovered.plugins.get("csv"));
        expect(runsInWorkers(workers.plugins.plugins.get("watched")!)).toBe(true);
        // The thread that checked the plugin loads has ended; none starts ahead of demand.
        expect(workers.pool!.stats()).toMatchObject({ workers: 0, idle: 0, started: 1, ended: { stopped: 1 } });
      } finally {
        await workers.close();
      }
    } finally {
      folder.remove();
    }
  });
});
