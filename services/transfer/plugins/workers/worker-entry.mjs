/**
 * The first module a format worker runs. It is plain JavaScript so that Node
 * can start it without any loader: it registers tsx's loader when the worker's
 * code is TypeScript sources, or when a compiled service runs plugins from
 * pluginDirs (plugins/typescript-loader.ts) — under `node --import tsx`
 * the flag is inherited and registering again is harmless, while vitest's
 * module runner does not reach into worker threads at all — and then imports
 * the real worker module named in `workerData`.
 */
import { workerData } from "node:worker_threads";

if (workerData.registerTypeScript) {
  const { register } = await import("tsx/esm/api");
  register();
}
await import(workerData.main);
