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
 * Plain JavaScript, so that it loads in the compiled services as in tsx.
 */
import { monitorEventLoopDelay, performance } from "node:perf_hooks";

const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
const start = performance.eventLoopUtilization();

process.on("exit", () => {
  delay.disable();
  const ms = (ns) => Math.round(ns / 1e4) / 100;
  const busy = performance.eventLoopUtilization(start);
  const eventLoop = { p50Ms: ms(delay.percentile(50)), p99Ms: ms(delay.percentile(99)), maxMs: ms(delay.max), utilization: Math.round(busy.utilization * 1000) / 1000 };
  process.stderr.write(`\n${JSON.stringify({ benchEventLoop: eventLoop })}\n`);
});
