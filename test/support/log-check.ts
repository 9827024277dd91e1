/**
 * The end-of-run check that no secret reached a log: every file in the run's
 * capture folder (log-capture.ts) is scanned for every secret the run used
 * (run-secrets.ts) and for anything shaped like a JWT, a bearer credential or
 * a PEM block (scanForSecrets).
 *
 * A scan of nothing proves nothing, so for a full run the check also fails
 * when the capture is missing, short, or lacks either service: it wants
 * request lines from the records and the transfer service (servers built
 * in-process by the tests) and `listening` lines from both (services the
 * tests spawn), so both ways a line reaches the capture are known to work.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { scanForSecrets, type KnownSecret, type SecretFinding } from "../logging/scan-for-secrets.js";
import { SECRETS_FILE, SERVICES_LOG } from "./log-capture.js";
import type { RecordedSecret } from "./run-secrets.js";

export interface LogCheckOptions {
  /** The run's capture folder. */
  dir: string;
  /** Every secret the run used. */
  secrets: readonly RecordedSecret[];
  /**
   * Whether the capture must prove itself (a full run): at least `minLines`
   * lines in services.log, request and `listening` lines of each service.
   * A run of a few files checks for leaks only.
   */
  requireCoverage: boolean;
  /** Default {@link MIN_CAPTURED_LINES}. */
  minLines?: number;
  /** Default records and transfer. */
  services?: readonly string[];
}

/** Fewer lines than this in a full run means the capture is broken, not that the services were quiet. */
export const MIN_CAPTURED_LINES = 200;

export interface LeakFinding extends SecretFinding {
  file: string;
  /** For services.log: which service and process wrote the line. */
  service?: string;
  pid?: number;
}

export interface LogCheckResult {
  /** Empty when the run passes. */
  problems: string[];
  leaks: LeakFinding[];
  /** Files scanned, by name. */
  files: string[];
  /** Lines in services.log, and per service. */
  lines: number;
  byService: Record<string, number>;
  /** Processes that wrote to services.log. */
  processes: number;
  secretsByKind: Record<string, number>;
}

/** Runs the check over `options.dir`. */
export function checkRunLogs(options: LogCheckOptions): LogCheckResult {
  const services = options.services ?? ["records", "transfer"];
  const minLines = options.minLines ?? MIN_CAPTURED_LINES;
  const problems: string[] = [];
  const leaks: LeakFinding[] = [];
  // One value may be recorded as several kinds (the service credential is a token too): the report names them all.
  const kindsByValue = new Map<string, Set<string>>();
  for (const s of options.secrets) kindsByValue.set(s.value, (kindsByValue.get(s.value) ?? new Set()).add(s.kind));
  const known: KnownSecret[] = [...kindsByValue].map(([value, kinds]) => ({ kind: [...kinds].join(" or "), value }));
  const secretsByKind: Record<string, number> = {};
  for (const kinds of kindsByValue.values()) for (const kind of kinds) secretsByKind[kind] = (secretsByKind[kind] ?? 0) + 1;

  const files = existsSync(options.dir)
    ? readdirSync(options.dir)
        .filter((name) => name !== SECRETS_FILE)
        .sort()
    : [];
  const servicesLog = join(options.dir, SERVICES_LOG);
  const stats = existsSync(servicesLog) ? servicesLogStats(readFileSync(servicesLog, "utf8")) : undefined;
  for (const name of files) {
    const text = readFileSync(join(options.dir, name), "utf8");
    const origins = name === SERVICES_LOG ? stats?.origins : undefined;
    for (const finding of scanForSecrets(text, known)) leaks.push({ ...finding, file: name, ...origins?.[finding.line - 1] });
  }
  for (const leak of leaks) {
    const what = leak.kind === "known" ? `a ${leak.secret ?? "known secret"} the run used` : { jwt: "a JWT", bearer: "a bearer credential", pem: "a PEM block (key or certificate)" }[leak.kind];
    const who = leak.service ? ` (service ${leak.service}, pid ${leak.pid})` : "";
    problems.push(`${what} leaked into ${leak.file} line ${leak.line}${who}: ${leak.excerpt}`);
  }
  for (const line of stats?.unparsable ?? []) problems.push(`${SERVICES_LOG} line ${line} is not a JSON object: a log line was written in pieces or by something other than the logger`);

  if (options.requireCoverage) {
    if (!stats) problems.push(`${SERVICES_LOG} is missing: no logger wrote to the capture (is DX_LOG_FILE reaching the services?)`);
    else {
      if (stats.lines < minLines) problems.push(`${SERVICES_LOG} holds ${stats.lines} lines, fewer than the ${minLines} a full run writes: the capture is not seeing the services`);
      for (const service of services) {
        if (!stats.requests.has(service))
          problems.push(`${SERVICES_LOG} has no request line (rpc or http) from the ${service} service: servers built in-process by the tests are not logging to the capture`);
        if (!stats.listening.has(service)) problems.push(`${SERVICES_LOG} has no "listening" line from the ${service} service: services spawned by the tests are not logging to the capture`);
      }
    }
  }
  return { problems, leaks, files, lines: stats?.lines ?? 0, byService: stats?.byService ?? {}, processes: stats?.pids.size ?? 0, secretsByKind };
}

interface ServicesLogStats {
  lines: number;
  byService: Record<string, number>;
  pids: Set<number>;
  requests: Set<string>;
  listening: Set<string>;
  unparsable: number[];
  /** Per line (0-based): who wrote it. */
  origins: ({ service?: string; pid?: number } | undefined)[];
}

function servicesLogStats(text: string): ServicesLogStats {
  const stats: ServicesLogStats = { lines: 0, byService: {}, pids: new Set(), requests: new Set(), listening: new Set(), unparsable: [], origins: [] };
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  lines.forEach((line, index) => {
    stats.lines++;
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line) as Record<string, unknown>;
    } catch {
      stats.unparsable.push(index + 1);
      stats.origins.push(undefined);
      return;
    }
    const service = typeof parsed.service === "string" ? parsed.service : "(none)";
    const pid = typeof parsed.pid === "number" ? parsed.pid : undefined;
    stats.origins.push({ service, ...(pid !== undefined ? { pid } : {}) });
    stats.byService[service] = (stats.byService[service] ?? 0) + 1;
    if (pid !== undefined) stats.pids.add(pid);
    if (typeof parsed.rpc === "string" || typeof parsed.http === "string") stats.requests.add(service);
    if (parsed.lifecycle === "listening") stats.listening.add(service);
  });
  return stats;
}

/** A leak repeated on every request would otherwise print thousands of lines; the folder is kept for the rest. */
const MAX_REPORTED_PROBLEMS = 40;

/** The one-paragraph report printed at the end of a run. */
export function formatLogCheck(result: LogCheckResult, dir: string): string {
  const services = Object.entries(result.byService)
    .sort(([, a], [, b]) => b - a)
    .map(([service, n]) => `${service} ${n}`)
    .join(", ");
  const secrets = Object.entries(result.secretsByKind)
    .map(([kind, n]) => `${n} ${kind}`)
    .join(", ");
  const scanned = `${result.lines} log lines (${services || "none"}) from ${result.processes} processes, ${result.files.length} files in all; looked for ${secrets || "no recorded secrets"}, and JWT, bearer and PEM shapes`;
  if (result.problems.length === 0) return `log secrets check passed: ${scanned}.`;
  const shown = result.problems.slice(0, MAX_REPORTED_PROBLEMS).map((p) => `  - ${p}`);
  const hidden = result.problems.length - shown.length;
  return [`log secrets check FAILED (${result.problems.length} problem(s)): ${scanned}.`, ...shown, ...(hidden > 0 ? [`  … and ${hidden} more`] : []), `The captured logs are kept in ${dir}`].join(
    "\n",
  );
}
