/**
 * The compiled build (scripts/build-services.mjs), run as `npm start` runs
 * it: the records and transfer services from dist/ with plain node, on a
 * FerretDB of their own. It proves the build is complete and current — a
 * module left out, a path computed from a source location, a shipped plugin
 * that still needs TypeScript would each fail here — and that a TypeScript
 * plugin from `pluginDirs`, which the build does not compile, still loads and
 * runs in its format worker (tsx registered for it alone).
 *
 * The README's commands (test/readme) go through `npm start` as well; this
 * test covers the format workers and plugin folders they do not.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Entity } from "../../gen/dataexchange/records/v1/records_pb.js";
import { ensureServicesBuild } from "../../scripts/build-services.mjs";
import { freePort, startFerretDb, type RunningFerretDb } from "../../scripts/lib/ferretdb.js";
import { AUDIENCES, ensureDevKeys, signDevToken } from "../../services/shared/auth/index.js";
import { coursesCsv, importCourses, transferClient, type TransferClient } from "../faults/support/transfer-calls.js";
import { recordPrivateKey, recordSecret } from "../support/run-secrets.js";
import { repositoryRoot, startServiceProcess, type ServiceProcess } from "../telemetry/service-process.js";
import { exportFile } from "../transfer/rpc/harness.js";

/** A plugin as another team writes it: TypeScript, importing the SDK by its package name. */
const LINES_PLUGIN = `
import { definePlugin, formatCell, type Row, type WriteContext } from "@data-exchange/format-sdk";
import { z } from "zod";

const options = z.object({});
type Options = z.infer<typeof options>;

async function* write(rows: AsyncIterable<Row[]>, ctx: WriteContext<Options>): AsyncGenerator<Uint8Array> {
  yield Buffer.from("lines from a plugin folder\\n");
  for await (const batch of rows) {
    const text: string = batch.map((row) => ctx.columns.map((c) => formatCell(row[c.key]) ?? "").join(" ") + "\\n").join("");
    yield Buffer.from(text);
  }
}

export default definePlugin<Options>({
  name: "lines", title: "Lines", extensions: ["lines"], mimeType: "text/plain",
  shape: "tabular", audience: "machine", options, write,
});
`;

const COURSES = 40;
let dir: string;
let pluginDir: string;
let database: RunningFerretDb | undefined;
const services: ServiceProcess[] = [];
let transfer: ServiceProcess;
let client: TransferClient;

beforeAll(async () => {
  await ensureServicesBuild(repositoryRoot);
  dir = mkdtempSync(join(tmpdir(), "dx-compiled-"));
  // Under the repository, as another team's folder would sit beside its own node_modules: the plugin resolves zod and the SDK from there.
  mkdirSync(join(repositoryRoot, ".cache"), { recursive: true });
  pluginDir = mkdtempSync(join(repositoryRoot, ".cache", "compiled-plugins-"));
  mkdirSync(join(pluginDir, "lines"));
  writeFileSync(join(pluginDir, "lines", "index.ts"), LINES_PLUGIN);
  database = await startFerretDb({ dataDir: join(dir, "db"), port: await freePort() });
  const keys = ensureDevKeys(join(dir, "keys"));
  recordPrivateKey(keys.privateKey);
  const env = { MONGODB_URI: database.uri, DX_AUTH_DEV: "1", DX_DEV_KEYS_DIR: keys.dir, OTEL_EXPORTER_OTLP_ENDPOINT: "", RECORDS_DATABASE: "compiled_records", TRANSFER_DATABASE: "compiled_transfer" };
  const records = await startServiceProcess({ entry: "services/records/server.ts", portVariable: "RECORDS_PORT", env, compiled: true, timeoutMs: 60_000 });
  services.push(records);
  transfer = await startServiceProcess({
    entry: "services/transfer/server.ts",
    portVariable: "TRANSFER_PORT",
    env: { ...env, TRANSFER_RECORDS_URL: records.url, TRANSFER_PLUGIN_DIRS: pluginDir },
    compiled: true,
    timeoutMs: 60_000,
  });
  services.push(transfer);
  const token = recordSecret("token", await signDevToken({ roles: ["admin"], subject: "compiled-build", ttlSeconds: 3600, audience: AUDIENCES.transfer, keys }));
  client = transferClient(transfer.url, token);
}, 180_000);

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  await database?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (pluginDir) rmSync(pluginDir, { recursive: true, force: true });
});

describe("the services compiled into dist/", () => {
  it("run with plain node, without tsx, and list the shipped formats and the plugin folder's, each in its mode", () => {
    for (const service of services) {
      expect(service.child.spawnargs.join(" ")).toMatch(/ \.\/dist\/services\/(records|transfer)\/server\.js$/);
      expect(service.child.spawnargs).not.toContain("tsx");
    }
    const line = transfer
      .output()
      .split("\n")
      .find((l) => l.includes('"lifecycle":"listening"'));
    const listening = JSON.parse(line ?? "{}") as { formats?: string[]; format_modes?: Record<string, string>; added_formats?: Record<string, string> };
    expect(listening.formats).toEqual(["csv", "html", "json", "markdown", "ndjson", "ods", "xlsx", "lines"]);
    expect(listening.format_modes).toMatchObject({ csv: "in-thread", xlsx: "workers", ods: "workers", lines: "workers" });
    expect(Object.keys(listening.added_formats ?? {})).toEqual(["lines"]);
  });

  it("import a CSV and export it again in-thread (CSV), in a compiled format worker (XLSX) and through the TypeScript plugin in its worker", async () => {
    const imported = await importCourses(client, coursesCsv(COURSES, "CB"), "insert");
    expect(imported.error).toBeUndefined();
    expect(imported.summary?.inserted).toBe(BigInt(COURSES));

    const fields = ["code", "title"];
    const csv = await exportFile(client, { entity: Entity.COURSES, format: "csv", fields });
    expect(csv.bytes.toString("utf8").trim().split(/\r?\n/)).toHaveLength(COURSES + 1);
    const xlsx = await exportFile(client, { entity: Entity.COURSES, format: "xlsx", fields });
    expect(xlsx.summary.records).toBe(BigInt(COURSES));
    expect(xlsx.bytes.subarray(0, 2).toString("latin1")).toBe("PK"); // a ZIP, as every workbook is
    const lines = await exportFile(client, { entity: Entity.COURSES, format: "lines", fields });
    const text = lines.bytes.toString("utf8").trim().split("\n");
    expect(text[0]).toBe("lines from a plugin folder");
    expect(text.slice(1)).toHaveLength(COURSES);
    expect(text[1]).toBe("CB000000 Course 0");
  });
});
