/**
 * A value that follows `value` once it has stopped changing for `delayMs`:
 * filters typed letter by letter ask the service once, not once a letter.
 */
import { useEffect, useState } from "react";

export function useDebounced<T>(value: T, delayMs: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return settled;
}
