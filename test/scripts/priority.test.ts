/**
 * The mixed load's `--colocated-nice` (bench/lib/priority.ts) must reach every
 * thread of the database's process, including threads it starts afterwards,
 * and give them their priority back when the section ends: otherwise the
 * figures would describe a database only partly yielding, or later sections a
 * slowed one.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { lowerPriority } from "../../bench/lib/priority.js";

/** Each thread's nice value, from /proc/<pid>/task/<tid>/stat (field 19). */
function niceOfThreads(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => Number(readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8").split(") ")[1]!.split(" ")[16]));
}

let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill("SIGKILL");
  child = undefined;
});

/** A Node process (several threads of its own) that starts a worker thread when it reads a line. */
async function threaded(): Promise<ChildProcess> {
  const script = `
    const { Worker } = await import("node:worker_threads");
    process.stdin.once("data", () => { new Worker("setInterval(() => {}, 1000)", { eval: true }); setTimeout(() => console.log("started"), 200); });
    console.log("ready");
    setInterval(() => {}, 1000);`;
  const started = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["pipe", "pipe", "inherit"] });
  await new Promise<void>((resolve) => started.stdout!.once("data", () => resolve()));
  return started;
}

const isRoot = process.getuid?.() === 0;

describe.skipIf(process.platform !== "linux")("lowering a process's priority for the mixed load", () => {
  it("sets every thread of the process, and the threads it starts afterwards, to the nice value", async () => {
    child = await threaded();
    const before = niceOfThreads(child.pid!).length;
    expect(before).toBeGreaterThan(1);
    lowerPriority(child.pid!, 7);
    expect(niceOfThreads(child.pid!)).toEqual(Array(before).fill(7));
    child.stdin!.write("go\n");
    await new Promise<void>((resolve) => child!.stdout!.once("data", () => resolve()));
    const after = niceOfThreads(child.pid!);
    expect(after.length).toBeGreaterThan(before);
    expect(new Set(after)).toEqual(new Set([7]));
  });

  it.skipIf(!isRoot)("gives every thread its priority back", async () => {
    child = await threaded();
    const restore = lowerPriority(child.pid!, 12);
    expect(new Set(niceOfThreads(child.pid!))).toEqual(new Set([12]));
    expect(restore()).toBeUndefined();
    expect(new Set(niceOfThreads(child.pid!))).toEqual(new Set([0]));
  });

  it("does not count threads that have ended as refused when giving priorities back", async () => {
    child = await threaded();
    const restore = lowerPriority(child.pid!, 12);
    const exited = new Promise<void>((resolve) => child!.once("exit", () => resolve()));
    child.kill("SIGKILL");
    await exited;
    expect(restore()).toBeUndefined();
  });

  it.skipIf(isRoot)("says, rather than throws, when it may not raise the priority again", async () => {
    child = await threaded();
    const restore = lowerPriority(child.pid!, 12);
    expect(restore()).toMatch(/could not give \d+ thread\(s\) of process \d+ their priority back .* stays at nice 12/);
  });
});
