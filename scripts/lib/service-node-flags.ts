/**
 * Node flags every service process runs with (`npm start`, the bench).
 *
 * Why a heap limit: with V8's default old-space limit (a quarter of the
 * machine's memory, GBs here) the heap grows long before a full collection
 * runs, so a service's peak RSS rose with the size of the transfer although
 * what it holds does not (the bench: 170 → 250–300 MB between 10k and 100k
 * records). With a limit V8 collects sooner, and the same runs stayed at
 * 140–160 MB, within 1.1× between N/10 and N. The services stream, holding a
 * few batches per job, so 256 MB leaves room for many concurrent jobs; raise
 * it with DX_SERVICE_HEAP_MB for unusual loads (the service fails with "heap
 * out of memory" when it is too small, rather than slowing the host).
 */
export function serviceNodeFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  // Empty is unset, as for the services' own variables; Number() would read " " as 0 and "0x100" as 256.
  const text = env.DX_SERVICE_HEAP_MB === undefined || env.DX_SERVICE_HEAP_MB === "" ? "256" : env.DX_SERVICE_HEAP_MB.trim();
  const heapMb = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(heapMb) || heapMb < 64) throw new Error(`DX_SERVICE_HEAP_MB must be a whole number of MB ≥ 64, not ${JSON.stringify(env.DX_SERVICE_HEAP_MB)}`);
  return [`--max-old-space-size=${heapMb}`];
}
