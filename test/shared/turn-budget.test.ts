import { once } from "node:events";
import { connect, createServer, type AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { turnSpent, yieldTurn } from "../../services/shared/process/turn-budget.js";

/** Keeps the thread busy for `ms`, as a record's decoding and validation do. */
function work(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** Runs `items` pieces of `msEach` work, yielding when the turn's budget is spent; counts the yields (and notes the items done at the first). */
async function loop(items: number, msEach: number, budgetMs: number, progress: { done: number; firstYield?: number } = { done: 0 }): Promise<number> {
  let yields = 0;
  for (let i = 0; i < items; i++) {
    if (turnSpent(budgetMs)) {
      yields++;
      progress.firstYield ??= progress.done;
      await yieldTurn();
    }
    work(msEach);
    progress.done++;
  }
  return yields;
}

/**
 * Starts a new turn, so that a test's budget does not carry the previous test's: a yield
 * resumes after the turn's end was marked (timers that fire together share one turn).
 */
const nextTurn = () => yieldTurn();

describe("turn budget", () => {
  it("lets a timer that is due run in the middle of a long loop, once the turn's budget is spent", async () => {
    await nextTurn();
    const progress = { done: 0 };
    let timerSawDone: number | undefined;
    setTimeout(() => (timerSawDone = progress.done), 0);
    const yields = await loop(40, 1, 4, progress);
    // 40 ms of work in turns of ~4 ms: the timer runs at an early yield, after a handful of items, not after all 40.
    expect(timerSawDone).toBeGreaterThanOrEqual(1);
    expect(timerSawDone).toBeLessThan(40);
    expect(yields).toBeGreaterThanOrEqual(5);
  });

  it("answers a request that arrives over a socket while a long loop runs, before the loop ends", async () => {
    const progress = { done: 0 };
    let answeredAt: number | undefined;
    const server = createServer((socket) => socket.once("data", () => ((answeredAt = progress.done), socket.end("ok"))));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const client = connect((server.address() as AddressInfo).port, "127.0.0.1");
      await once(client, "connect");
      client.write("health?");
      // The request is on its way: the loop starts, as a batch would while a probe waits.
      await loop(60, 1, 4, progress);
      expect(answeredAt).toBeDefined();
      expect(answeredAt!).toBeLessThan(60);
      client.destroy();
    } finally {
      server.close();
    }
  });

  it("does not yield in a loop that finishes within its budget", async () => {
    await nextTurn();
    const progress = { done: 0 };
    let timerSawDone: number | undefined;
    setTimeout(() => (timerSawDone = progress.done), 0);
    // ~1 ms of work against a 500 ms budget (wide, so that a busy machine's pauses do not spend it).
    expect(await loop(10, 0.1, 500, progress)).toBe(0);
    await new Promise((r) => setTimeout(r, 5));
    // With no yield, the timer waited for the whole loop.
    expect(timerSawDone).toBe(10);
  });

  it("starts a new budget after each yield, so a loop yields about once per budget of work", async () => {
    await nextTurn();
    const yields = await loop(30, 1, 10);
    // ~30 ms of work with a 10 ms budget: two or three yields (a few more on a busy machine), never one per item.
    expect(yields).toBeGreaterThanOrEqual(2);
    expect(yields).toBeLessThan(25);
  });

  it("shares one budget between loops that run in the same turn, one after the other", async () => {
    await nextTurn();
    // The first piece of work checks the budget, then uses 6 ms of an 8 ms budget without yielding…
    expect(turnSpent(8)).toBe(false);
    work(6);
    // …so a loop chained after it in the same turn yields after ~2 ms of its own instead of running 8 ms more
    // (sooner still if the machine pauses this thread, never later).
    const progress: { done: number; firstYield?: number } = { done: 0 };
    await loop(10, 1, 8, progress);
    expect(progress.firstYield).toBeDefined();
    expect(progress.firstYield).toBeLessThanOrEqual(4);
  });
});
