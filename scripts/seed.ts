/**
 * `npm run seed`: loads the OULAD demo set into the records service, through
 * its RPC API (gRPC over HTTP/2), in pipelined batches of 1000.
 *
 *   npm run seed -- [--url http://127.0.0.1:50051] [--data ../shared/data/oulad]
 *                   [--batch-size 1000] [--in-flight 4]
 *
 * Environment: RECORDS_URL, DX_SEED_DATA, DX_TOKEN (a bearer token for the
 * records service with role admin, or importer and exporter). Without
 * DX_TOKEN, when the services trust the development key (what `npm start`
 * does unless told otherwise; scripts/lib/dev-stack.ts), the seed mints its
 * own short-lived token with it (subject `seed`, role admin); otherwise it
 * stops before sending anything, saying which variable and roles it needs.
 * Idempotent: a second run leaves every record unchanged and skips the
 * append-only activity log. Exits 1 if any row could not be mapped or any
 * record failed to write; see scripts/seed/MAPPING.md.
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { RecordsService } from "../gen/dataexchange/records/v1/records_pb.js";
import { runSeed } from "./seed/run-seed.js";
import { formatReport, seedFailed } from "./seed/report.js";
import { SEED_TOKEN_HELP, seedToken } from "./seed/seed-token.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    data: { type: "string" },
    "batch-size": { type: "string" },
    "in-flight": { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});

if (values.help) {
  console.log(
    "usage: npm run seed -- [--url URL] [--data DIR] [--batch-size N] [--in-flight N]\nenv: RECORDS_URL, DX_SEED_DATA, DX_TOKEN (a token for the records service with role admin; minted with the development key when the services trust it)",
  );
  process.exit(0);
}

const url = values.url ?? process.env.RECORDS_URL ?? "http://127.0.0.1:50051";
const dataDir = values.data ? resolve(values.data) : process.env.DX_SEED_DATA ? resolve(process.env.DX_SEED_DATA) : resolve(repoRoot, "../shared/data/oulad");
const batchSize = positiveInt(values["batch-size"], 1000, "--batch-size");
const inFlight = positiveInt(values["in-flight"], 4, "--in-flight");

function positiveInt(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`${name} must be a positive integer, got "${value}"`);
    process.exit(2);
  }
  return n;
}

let token: { value: string; source: string };
try {
  token = await seedToken(process.env);
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
const bearer: Interceptor = (next) => async (req) => {
  req.header.set("authorization", `Bearer ${token.value}`);
  return next(req);
};

const transport = createGrpcTransport({ baseUrl: url, interceptors: [bearer] });
const client = createClient(RecordsService, transport);

let lastProgress = 0;
console.log(`seeding ${url} from ${dataDir} (batches of ${batchSize}, ${inFlight} in flight; ${token.source})`);
try {
  const outcome = await runSeed(client, dataDir, {
    batchSize,
    inFlight,
    onEntity: (entity) => {
      lastProgress = 0;
      console.log(`${entity}…`);
    },
    onProgress: (p) => {
      // At most one line every two seconds per entity.
      if (p.ms - lastProgress < 2000) return;
      lastProgress = p.ms;
      console.log(`  ${p.entity}: ${p.inserted + p.updated + p.unchanged + p.skipped + p.failed} of ${p.records} sent answered (${p.failed} failed), ${(p.ms / 1000).toFixed(0)} s`);
    },
  });
  console.log(formatReport(outcome));
  process.exitCode = seedFailed(outcome) ? 1 : 0;
} catch (error) {
  const refused = error instanceof ConnectError && (error.code === Code.Unauthenticated || error.code === Code.PermissionDenied);
  console.error(`seed failed: ${error instanceof Error ? error.message : String(error)}${refused ? `\n${SEED_TOKEN_HELP}` : ""}`);
  process.exitCode = 1;
}
