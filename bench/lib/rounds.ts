/**
 * Interleaved rounds: every variant runs once per round, in the same order
 * (A B C A B C …), so slow drift of a noisy machine hits every variant alike;
 * results are medians over rounds. A variant that fails is reported with its
 * error and dropped from later rounds; the others go on.
 */
import { median } from "./report.js";

export interface Sample {
  records: number;
  bytes: number;
  ms: number;
  /** Peak RSS of each process that took part, in MB. */
  rss: Record<string, number | undefined>;
  /** CPU milliseconds each process of ours used for the run (services: after start-up), where measured. */
  cpu?: Record<string, number | undefined>;
  extra?: Record<string, unknown>;
}

export interface Variant {
  id: string;
  /** Runs before each sample, untimed (e.g. emptying the target collection). */
  prepare?: () => Promise<void>;
  run: () => Promise<Sample>;
}

export interface Summary {
  id: string;
  samples: Sample[];
  error?: string;
  /** Median records per second. */
  rps: number;
  /** Median MB per second of file. */
  mbps: number;
  /** Highest peak RSS of each process over the rounds. */
  rssMax: Record<string, number>;
  /** Median CPU microseconds per record of each process, where measured. */
  cpuUsPerRecord: Record<string, number>;
}

export async function interleave(variants: Variant[], rounds: number, log: (m: string) => void): Promise<Map<string, Summary>> {
  const samples = new Map<string, Sample[]>(variants.map((v) => [v.id, []]));
  const errors = new Map<string, string>();
  for (let round = 1; round <= rounds; round++) {
    for (const variant of variants) {
      if (errors.has(variant.id)) continue;
      try {
        await variant.prepare?.();
        const sample = await variant.run();
        samples.get(variant.id)!.push(sample);
        const rss = Object.entries(sample.rss)
          .map(([k, v]) => `${k} ${v?.toFixed(0) ?? "?"} MB`)
          .join(", ");
        const cpu = Object.entries(sample.cpu ?? {})
          .map(([k, v]) => `${k} ${v === undefined ? "?" : ((v * 1000) / Math.max(1, sample.records)).toFixed(0)}`)
          .join(", ");
        log(
          `  round ${round}/${rounds} ${variant.id}: ${sample.records} in ${(sample.ms / 1000).toFixed(1)} s = ${((sample.records / sample.ms) * 1000).toFixed(0)}/s; ${rss}${cpu ? `; CPU µs/record ${cpu}` : ""}`,
        );
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        errors.set(variant.id, message);
        log(`  round ${round}/${rounds} ${variant.id}: FAILED ${message.slice(0, 2000)}`);
      }
    }
  }
  return new Map(variants.map((v) => [v.id, summarize(v.id, samples.get(v.id)!, errors.get(v.id))]));
}

export function summarize(id: string, samples: Sample[], error?: string): Summary {
  const rssMax: Record<string, number> = {};
  for (const s of samples) for (const [k, v] of Object.entries(s.rss)) if (v !== undefined) rssMax[k] = Math.max(rssMax[k] ?? 0, v);
  const cpuUsPerRecord: Record<string, number> = {};
  for (const proc of new Set(samples.flatMap((s) => Object.keys(s.cpu ?? {})))) {
    const perRecord = median(samples.map((s) => ((s.cpu?.[proc] ?? NaN) * 1000) / s.records));
    if (Number.isFinite(perRecord)) cpuUsPerRecord[proc] = perRecord;
  }
  return {
    id,
    samples,
    error,
    rps: median(samples.map((s) => (s.records / s.ms) * 1000)),
    mbps: median(samples.map((s) => s.bytes / 1e6 / (s.ms / 1000))),
    rssMax,
    cpuUsPerRecord,
  };
}
