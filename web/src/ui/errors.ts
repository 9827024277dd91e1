/** A message for a person from whatever a call threw: Connect's message without its "[code]" prefix. */
import { ConnectError } from "@connectrpc/connect";

export function messageOf(error: unknown): string {
  if (error instanceof ConnectError) return error.rawMessage;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** True when the error is the caller's own cancellation. */
export function isAbort(error: unknown, signal?: AbortSignal): boolean {
  return Boolean(signal?.aborted) || (error instanceof Error && error.name === "AbortError") || (error instanceof ConnectError && error.code === 1);
}
