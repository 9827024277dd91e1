/**
 * Loaded into a service process by the bench (`node --import` of this file,
 * section `mixed-load`): measures how long the service's event loop was kept
 * from turning — `monitorEventLoopDelay` (p50 / p99 / max of the delay, in
 * ms) and `eventLoopUtilization` (the share of the time the loop was busy) —
 * and prints them as one JSON line on stderr when the process exits, for
 * the bench to read from the service's output. A slow Health.Check is either
 * this (a long synchronous stretch of the service's own work) or a process
 * that got no core (the machine's load), and only this tells them apart.
 *
 * It tells them apart with the kernel's own account of the main thread
 * (Linux's `/proc/self/task/<pid>/schedstat`: nanoseconds run on a core and
 * nanoseconds runnable but waiting for one): a timer every {@link TICK_MS} ms
 * notes each interval in which it fired at least {@link STALL_MS} ms late (a
 * stall), and how much of that interval the main thread spent running (the
 * service's own work, or the garbage collector on the main thread) and how
 * much waiting for a core (what the rest of the machine took). Whatever is
 * left the thread slept (on a lock, say). Where the file cannot be read, those
 * figures are left out. Reading it 200 times a second costs the service about
 * 0.4 % of a core (~20 µs a read, measured on a busy machine).
 *
 * The figures are one flat object, which the bench finds by a pattern.
 * Plain JavaScript, so that it loads in the compiled services as in tsx.
 */
import { readFileSync } from "node:fs";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";

const TICK_MS = 5;
const STALL_MS = 20;

const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
const start = performance.eventLoopUtilization();

const schedstat = `/proc/self/task/${process.pid}/schedstat`;
/** The main thread's [ns on a core, ns waiting for one], or undefined where the kernel does not say. */
function threadTimes() {
  try {
    const [running, waiting] = readFileSync(schedstat, "utf8").split(" ").map(Number);
    return Number.isFinite(running) && Number.isFinite(waiting) ? [running, waiting] : undefined;
  } catch {
    return undefined;
  }
}

const stalls = { stalls: 0, stalledMs: 0, stalledRunningMs: 0, stalledWaitingMs: 0 };
let lastTick = performance.now();
let lastTimes = threadTimes();
if (lastTimes)
  setInterval(() => {
    const now = performance.now();
    const times = threadTimes();
    const late = now - lastTick - TICK_MS;
    if (times && late >= STALL_MS) {
      stalls.stalls++;
      // The whole interval since the last tick, which the thread's two times also cover.
      stalls.stalledMs += now - lastTick;
      stalls.stalledRunningMs += (times[0] - lastTimes[0]) / 1e6;
      stalls.stalledWaitingMs += (times[1] - lastTimes[1]) / 1e6;
    }
    lastTick = now;
    if (times) lastTimes = times;
  }, TICK_MS).unref();

process.on("exit", () => {
  delay.disable();
  const ms = (ns) => Math.round(ns / 1e4) / 100;
  const busy = performance.eventLoopUtilization(start);
  const eventLoop = { p50Ms: ms(delay.percentile(50)), p99Ms: ms(delay.percentile(99)), maxMs: ms(delay.max), utilization: Math.round(busy.utilization * 1000) / 1000 };
  if (lastTimes)
    Object.assign(eventLoop, {
      stalls: stalls.stalls,
      stalledMs: Math.round(stalls.stalledMs),
      stalledRunningMs: Math.round(stalls.stalledRunningMs),
      stalledWaitingMs: Math.round(stalls.stalledWaitingMs),
    });
  process.stderr.write(`\n${JSON.stringify({ benchEventLoop: eventLoop })}\n`);
});
