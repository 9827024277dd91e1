/**
 * Forwarding the caller's identity: every records call a job or handler makes
 * for a user carries that user (and the job), which the service-credential
 * interceptor (service-credential.ts) sends as on-behalf-of headers beside
 * the service's own token.
 */
import type { Caller } from "../caller.js";
import type { RecordsClient } from "./records-client.js";
import { callerValues } from "./service-credential.js";

/**
 * The records client, with every call made for `caller` (and job `jobId`):
 * the service-credential interceptor reads both from the call's context
 * values and forwards them.
 */
export function recordsFor(records: RecordsClient, caller: Caller, jobId?: string): RecordsClient {
  if (!caller.principal && !jobId) return records;
  return new Proxy(records, {
    get(target, property, receiver) {
      const method: unknown = Reflect.get(target, property, receiver);
      if (typeof method !== "function") return method;
      return (input: unknown, options?: Record<string, unknown>) =>
        (method as (i: unknown, o: unknown) => unknown).call(target, input, { ...options, contextValues: callerValues(caller.principal, jobId) });
    },
  });
}
