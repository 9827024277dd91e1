/**
 * prepareAhead: the next request's preparation overlaps the current one's
 * finish (a database write), where the caller allows it. What matters: outputs
 * in order, finishes one after another, an overlap only where allowed, errors
 * at their request's turn, and nothing prepared ahead left behind when the
 * stream ends early.
 */
import { describe, expect, it } from "vitest";
import { prepareAhead, type PrepareAheadSteps } from "../../services/shared/streams/prepare-ahead.js";

/** A source of requests 0..count-1 that records whether it was closed. */
function source(count: number, options: { failAt?: number } = {}) {
  const state = { closed: false };
  const requests = (async function* () {
    try {
      for (let i = 0; i < count; i++) {
        await Promise.resolve();
        if (options.failAt === i) throw new Error(`the caller's stream broke at ${i}`);
        yield i;
      }
    } finally {
      state.closed = true;
    }
  })();
  return { requests, state };
}

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

/** Steps that log what they do; each finish takes a few milliseconds, so a request read meanwhile can be prepared. */
function loggingSteps(overrides: Partial<PrepareAheadSteps<number, number, string, string>> = {}) {
  const log: string[] = [];
  const steps: PrepareAheadSteps<number, number, string, string> = {
    decode: (n) => n,
    mayOverlap: () => true,
    prepare: async (n) => {
      log.push(`prepare ${n}`);
      await tick(1);
      return `p${n}`;
    },
    finish: async (p) => {
      log.push(`finish ${p} starts`);
      await tick();
      log.push(`finish ${p} ends`);
      return `out ${p}`;
    },
    discard: async (p) => {
      log.push(`discard ${p}`);
    },
    ...overrides,
  };
  return { steps, log };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<{ outputs: T[]; error?: unknown }> {
  const outputs: T[] = [];
  try {
    for await (const o of iterable) outputs.push(o);
    return { outputs };
  } catch (error) {
    return { outputs, error };
  }
}

describe("prepareAhead", () => {
  it("yields every request's output in order, each finish starting after the one before it ended", async () => {
    const { requests, state } = source(50);
    const { steps, log } = loggingSteps();
    const { outputs } = await collect(prepareAhead(requests, steps));
    expect(outputs).toEqual(Array.from({ length: 50 }, (_, i) => `out p${i}`));
    const finishes = log.filter((l) => l.startsWith("finish"));
    for (let i = 0; i < 50; i++) expect(finishes.slice(2 * i, 2 * i + 2)).toEqual([`finish p${i} starts`, `finish p${i} ends`]);
    expect(state.closed).toBe(true);
  });

  it("prepares the next request while the current one finishes, where they may overlap", async () => {
    const { requests } = source(3);
    const { steps, log } = loggingSteps();
    await collect(prepareAhead(requests, steps));
    expect(log.indexOf("prepare 1")).toBeLessThan(log.indexOf("finish p0 ends"));
    expect(log.indexOf("prepare 2")).toBeLessThan(log.indexOf("finish p1 ends"));
  });

  it("prepares the next request only after the current one finished where they may not overlap", async () => {
    const { requests } = source(3);
    const { steps, log } = loggingSteps({ mayOverlap: (current, next) => !(current === 0 && next === 1) });
    await collect(prepareAhead(requests, steps));
    expect(log.indexOf("prepare 1")).toBeGreaterThan(log.indexOf("finish p0 ends"));
    expect(log.indexOf("prepare 2")).toBeLessThan(log.indexOf("finish p1 ends"));
  });

  it("reports a failed finish after the outputs before it, and discards the request prepared meanwhile", async () => {
    const { requests, state } = source(5);
    const { steps, log } = loggingSteps({
      finish: async (p) => {
        await tick();
        if (p === "p1") throw new Error("the database went away");
        return `out ${p}`;
      },
    });
    const { outputs, error } = await collect(prepareAhead(requests, steps));
    expect(outputs).toEqual(["out p0"]);
    expect((error as Error).message).toBe("the database went away");
    expect(log).toContain("discard p2");
    expect(log).not.toContain("prepare 3");
    expect(state.closed).toBe(true);
  });

  it("reports a failed preparation at its request's turn, after the output of the request before it", async () => {
    const { requests } = source(5);
    const { steps } = loggingSteps({
      prepare: async (n) => {
        if (n === 2) throw new Error("batch 2 names an unknown entity");
        return `p${n}`;
      },
    });
    const { outputs, error } = await collect(prepareAhead(requests, steps));
    expect(outputs).toEqual(["out p0", "out p1"]);
    expect((error as Error).message).toBe("batch 2 names an unknown entity");
  });

  it("reports a request that cannot be decoded at its turn", async () => {
    const { requests } = source(5);
    const { steps, log } = loggingSteps({
      decode: (n) => {
        if (n === 1) throw new Error("batch 1 is malformed");
        return n;
      },
    });
    const { outputs, error } = await collect(prepareAhead(requests, steps));
    expect(outputs).toEqual(["out p0"]);
    expect((error as Error).message).toBe("batch 1 is malformed");
    expect(log).not.toContain("prepare 2");
  });

  it("reports the caller's broken stream after the outputs of the requests that came before it", async () => {
    const { requests } = source(5, { failAt: 3 });
    const { steps } = loggingSteps();
    const { outputs, error } = await collect(prepareAhead(requests, steps));
    expect(outputs).toEqual(["out p0", "out p1", "out p2"]);
    expect((error as Error).message).toBe("the caller's stream broke at 3");
  });

  it("discards the request prepared ahead and closes the source when the consumer stops", async () => {
    const { requests, state } = source(10);
    const { steps, log } = loggingSteps();
    for await (const output of prepareAhead(requests, steps)) {
      if (output === "out p0") break;
    }
    expect(log).toContain("discard p1");
    expect(log).not.toContain("finish p1 starts");
    expect(state.closed).toBe(true);
  });

  it("ends quietly when the caller goes away, discarding what it prepared and did not finish", async () => {
    const { requests } = source(10);
    let gone = false;
    const { steps, log } = loggingSteps({
      finish: async (p) => {
        await tick();
        if (p === "p1") gone = true;
        return `out ${p}`;
      },
      stopped: () => gone,
    });
    const { outputs, error } = await collect(prepareAhead(requests, steps));
    expect(error).toBeUndefined();
    expect(outputs).toEqual(["out p0", "out p1"]);
    expect(log).toContain("discard p2");
    expect(log).not.toContain("finish p2 starts");
  });

  it("does not wait for a request that never comes when the consumer stops", async () => {
    let closed = false;
    const requests = (async function* () {
      try {
        yield 0;
        await new Promise(() => undefined); // the caller sends nothing more and keeps the call open
      } finally {
        closed = true;
      }
    })();
    const { steps } = loggingSteps();
    const iterator = prepareAhead(requests, steps);
    expect((await iterator.next()).value).toBe("out p0");
    await expect(iterator.return(undefined)).resolves.toEqual({ done: true, value: undefined });
    expect(closed).toBe(false); // its next() is still pending; the generator closes when that settles
  });
});
