/**
 * A real service logger (createLogger: redaction, correlation fields, the
 * run's log capture) whose lines are also kept in memory, for tests that read
 * back what was logged.
 */
import { createLogger, type CreateLoggerOptions, type Logger } from "../../services/shared/logging/index.js";

export interface MemoryLogger {
  log: Logger;
  /** Everything written so far. */
  text(): string;
  /** Every line written so far, parsed. */
  lines(): Record<string, unknown>[];
}

export function memoryLogger(options: Partial<Omit<CreateLoggerOptions, "destination">> = {}): MemoryLogger {
  const chunks: string[] = [];
  const log = createLogger({ service: "test", ...options, destination: { write: (s: string) => void chunks.push(s) } });
  const text = () => chunks.join("");
  return {
    log,
    text,
    lines: () =>
      text()
        .split("\n")
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
