/**
 * Health.Check and (on the transfer service) ListFormats, called back to
 * back with a pause between calls, from a process of its own: what a load
 * balancer's or a dashboard's probe sees of a service. It probes idle first
 * and says so on stdout (`{"idle":"done"}`), then probes while its parent
 * says (`start` and `stop` lines on stdin), and ends with one JSON line of
 * every call's duration.
 *
 * Its own process, not the exporting client's: a probe on the client's event
 * loop waited for that loop too, which is busy taking in the export (up to
 * a core at 50k records/s), and measured the bench's client as much as the
 * service.
 */
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { TransferService } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";

/** Durations of each kind of call, ms. */
export interface LatencyProbes {
  health: number[];
  listFormats: number[];
}

export interface UnaryProberArgs {
  url: string;
  token?: string;
  probeEveryMs: number;
  idleProbes: number;
  /** The service Health.Check asks about; default the transfer service. */
  healthService?: string;
  /** Call ListFormats after each Health.Check (the transfer service only); default true. */
  listFormats?: boolean;
}

const { url, token, probeEveryMs, idleProbes, healthService = "dataexchange.transfer.v1.TransferService", listFormats = true } = JSON.parse(process.env.BENCH_ARGS ?? "{}") as UnaryProberArgs;
const headers = token ? { authorization: `Bearer ${token}` } : undefined;
const transport = createGrpcTransport({ baseUrl: url });
const health = createClient(Health, transport);
const transfer = createClient(TransferService, transport);

async function probeOnce(into: LatencyProbes): Promise<void> {
  let t0 = performance.now();
  await health.check({ service: healthService });
  into.health.push(performance.now() - t0);
  if (!listFormats) return;
  t0 = performance.now();
  await transfer.listFormats({}, { headers });
  into.listFormats.push(performance.now() - t0);
}

const idle: LatencyProbes = { health: [], listFormats: [] };
const busy: LatencyProbes = { health: [], listFormats: [] };
type Phase = "waiting" | "probing" | "stopped";
let phase = "waiting" as Phase;
/** Read through a call: the stdin listener changes it between awaits, which narrowing cannot see. */
const current = (): Phase => phase;
let started: () => void = () => undefined;
const start = new Promise<void>((resolve) => (started = resolve));
createInterface({ input: process.stdin }).on("line", (line) => {
  if (line === "start" && phase === "waiting") {
    phase = "probing";
    started();
  } else if (line === "stop") {
    phase = "stopped";
    started();
  }
});

try {
  for (let i = 0; i < idleProbes; i++) {
    await probeOnce(idle);
    await sleep(probeEveryMs);
  }
  process.stdout.write(`${JSON.stringify({ idle: "done" })}\n`);
  await start;
  while (current() === "probing") {
    await probeOnce(busy);
    await sleep(probeEveryMs);
  }
  process.stdout.write(`${JSON.stringify({ idle, busy })}\n`, () => process.exit(0));
} catch (error) {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}
