/**
 * `npm run bench -- --alloc-prof`: preloaded into each service process
 * (`--require`), samples what the process allocates — including what the
 * garbage collector has already freed, which `--heap-prof` leaves out — and
 * writes it when the process stops, as bench/results/profiles/<service>-<pid>.heapprofile
 * (Chrome DevTools' format; `tsx bench/allocation-summary.ts <file> --rows N`
 * prints bytes a row by function). Why: the young generation's collections
 * are a large share of both services' CPU on an import, and they scale with
 * what is allocated a row, a figure that holds still from run to run where
 * the CPU a row moves by ±10 % on these shared machines.
 */
const fs = require("node:fs");
const path = require("node:path");
const inspector = require("node:inspector");

const dir = path.join(__dirname, "..", "results", "profiles");
const session = new inspector.Session();
session.connect();
session.post("HeapProfiler.enable");
// One sample per 16 KiB allocated on average; objects the minor and major collections free are kept in the profile.
session.post("HeapProfiler.startSampling", { samplingInterval: 16384, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });

let written = false;
function write() {
  if (written) return;
  written = true;
  const script = process.argv.slice(1).join(" ");
  const service = script.includes("transfer") ? "transfer" : script.includes("records") ? "records" : "service";
  // An in-thread session answers synchronously, so this runs before the process goes.
  session.post("HeapProfiler.stopSampling", (error, result) => {
    if (error) return;
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${service}-${process.pid}.heapprofile`), JSON.stringify(result.profile));
  });
}
process.on("exit", write);
for (const signal of ["SIGTERM", "SIGINT"]) process.prependListener(signal, write);
