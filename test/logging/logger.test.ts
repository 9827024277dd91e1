/**
 * The JSON logger: one JSON object per line, trace and job correlation, and
 * redaction of tokens, passwords and raw contents wherever they appear.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { withJobContext } from "../../services/shared/logging/index.js";
import { startTelemetry, withSpan, type Telemetry } from "../../services/shared/telemetry/index.js";
import { assertNoSecrets, scanForSecrets } from "./scan-for-secrets.js";
import { memoryLogger } from "../support/memory-logger.js";

// A syntactically real JWT (HS256 over {"sub":"ada","role":"admin"}); the signature is made up.
const jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZGEiLCJyb2xlIjoiYWRtaW4ifQ.Zm9vYmFyYmF6cXV4c2lnbmF0dXJlMTIzNDU2";
const opaqueToken = "s3cr3t-opaque-access-token-0123456789";
const password = "correct horse battery staple";
const nestedPassword = "hunter2-nested-password";
const hash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";

let telemetry: Telemetry;
const exporter = new InMemorySpanExporter();
beforeAll(() => {
  telemetry = startTelemetry({ serviceName: "logging-test", exporter });
});
afterAll(async () => telemetry?.shutdown());

describe("createLogger", () => {
  it("writes every line as one JSON object with level name, time, service and msg", () => {
    const { log, text, lines } = memoryLogger();
    log.info("started");
    log.warn({ entity: "users", count: 3 }, "slow batch %d", 7);
    log.error(new Error("boom"));
    for (const line of text().trim().split("\n")) expect(() => JSON.parse(line)).not.toThrow();
    const [a, b, c] = lines();
    expect(a).toMatchObject({ level: "info", service: "test", msg: "started" });
    expect(typeof a!.time).toBe("string");
    expect(b).toMatchObject({ level: "warn", entity: "users", count: 3, msg: "slow batch 7" });
    expect(c).toMatchObject({ level: "error", msg: "boom", err: { type: "Error", message: "boom" } });
  });

  it("takes its level from LOG_LEVEL, defaults to info, and ignores an unknown name", () => {
    expect(memoryLogger({ env: { LOG_LEVEL: "debug" } }).log.level).toBe("debug");
    expect(memoryLogger({ env: {} }).log.level).toBe("info");
    expect(memoryLogger({ env: { LOG_LEVEL: "loud" } }).log.level).toBe("info");
    expect(memoryLogger({ level: "warn", env: { LOG_LEVEL: "debug" } }).log.level).toBe("warn");
    const { log, lines } = memoryLogger({ env: { LOG_LEVEL: "warn" } });
    log.info("hidden");
    log.warn("shown");
    expect(lines().map((l) => l.msg)).toEqual(["shown"]);
  });

  it("adds trace_id and span_id inside a span, and none outside", async () => {
    const { log, lines } = memoryLogger();
    log.info("outside");
    let ids: { traceId: string; spanId: string } | undefined;
    await withSpan("job", {}, async (span) => {
      ids = span.spanContext();
      log.info("before await");
      await new Promise((r) => setTimeout(r, 5));
      log.info("after await");
    });
    const [outside, before, after] = lines();
    expect(outside!.trace_id).toBeUndefined();
    for (const line of [before!, after!]) {
      expect(line.trace_id).toBe(ids!.traceId);
      expect(line.span_id).toBe(ids!.spanId);
      expect(line.trace_id).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  it("adds job_id inside withJobContext, across awaits, innermost first", async () => {
    const { log, lines } = memoryLogger();
    await withJobContext("job-1", async () => {
      log.info("a");
      await new Promise((r) => setImmediate(r));
      withJobContext("job-2", () => log.info("b"));
      log.info("c");
    });
    log.info("d");
    expect(lines().map((l) => [l.msg, l.job_id])).toEqual([
      ["a", "job-1"],
      ["b", "job-2"],
      ["c", "job-1"],
      ["d", undefined],
    ]);
  });
});

describe("redaction", () => {
  it("never writes a token, a password, a nested password or an Authorization header", () => {
    const { log, text } = memoryLogger();
    log.info({ token: opaqueToken }, "token field");
    log.info(`verifying ${jwt} for ada`);
    log.info({ user: { email: "ada@example.org", password } }, "user in");
    log.info({ import: { rows: [{ profile: { credentials: { password: nestedPassword } } }] } }, "deep");
    log.info({ headers: { authorization: `Bearer ${opaqueToken}`, "content-type": "application/grpc" } }, "request");
    log.info({ req: { headers: { Authorization: `Bearer ${jwt}` } } }, "request 2");
    log.info({ user: { passwordHash: hash } }, "hash");
    log.info({ note: `callback said Bearer ${opaqueToken}` }, "free text");
    log.info({ mongo: "mongodb://admin:topsecretpw@127.0.0.1:27017/db" }, "uri");
    log.warn("header was %s", `Bearer ${opaqueToken}`);
    log.info({ headers: new Headers({ authorization: `Bearer ${jwt}` }) }, "fetch headers");
    const out = text();
    expect(scanForSecrets(out, [jwt, opaqueToken, password, nestedPassword, hash, "topsecretpw"])).toEqual([]);
    expect(out).toContain("[Redacted]");
    expect(out).toContain("ada@example.org");
  });

  it("scrubs an error's message, stack and cause, and a child logger's bindings", () => {
    const { log, text } = memoryLogger();
    const error = new Error(`token ${jwt} rejected`, { cause: new Error(`upstream said Bearer ${opaqueToken}`) });
    log.error(error);
    log.error({ err: error }, "while verifying");
    log.error(error, "again");
    log.child({ authorization: `Bearer ${opaqueToken}`, token: jwt }).info("child");
    assertNoSecrets(text(), [jwt, opaqueToken], "log");
    expect(text()).toContain("rejected");
  });

  it("logs the size of raw contents, never the contents", () => {
    const { log, lines, text } = memoryLogger();
    const fileText = "email,password\nada@example.org,plaintext-in-a-file\n";
    log.info({ content: fileText, chunk: Buffer.from(fileText), upload: { bytes: new Uint8Array(10) } }, "received");
    log.info({ data: Buffer.from(fileText) }, "buffer anywhere");
    expect(text()).not.toContain("plaintext-in-a-file");
    const [first, second] = lines();
    expect(first).toMatchObject({ content: `[${fileText.length} chars]`, chunk: `[${Buffer.byteLength(fileText)} bytes]`, upload: { bytes: "[10 bytes]" } });
    expect(second!.data).toBe(`[${Buffer.byteLength(fileText)} bytes]`);
  });

  it("survives cycles and very deep objects", () => {
    const { log, lines } = memoryLogger();
    const a: Record<string, unknown> = { name: "a" };
    a.self = a;
    let deep: Record<string, unknown> = { password };
    for (let i = 0; i < 20; i++) deep = { next: deep };
    log.info({ a, deep }, "odd shapes");
    const [line] = lines();
    expect((line!.a as Record<string, unknown>).self).toBe("[Circular]");
    expect(JSON.stringify(line)).not.toContain(password);
  });
});

describe("scanForSecrets", () => {
  it("finds known secrets, a JWT's signature alone, and JWT or bearer shapes", () => {
    const signature = jwt.split(".")[2]!;
    const text = `ok\nsig=${signature}\nauth: Bearer abcdefghijkl\nstray ${jwt}\npw=${password}`;
    const kinds = scanForSecrets(text, [jwt, password]).map((f) => `${f.kind}@${f.line}`);
    expect(kinds).toEqual(expect.arrayContaining(["known@2", "known@4", "known@5", "jwt@4", "bearer@3"]));
    expect(scanForSecrets("level=info msg=[Redacted] Bearer [Redacted]", [jwt, password])).toEqual([]);
  });

  it("does not print the secrets it found", () => {
    expect(() => assertNoSecrets(`x ${opaqueToken}`, [opaqueToken])).toThrow(/known s3cr…/);
    try {
      assertNoSecrets(`x ${opaqueToken}`, [opaqueToken]);
    } catch (error) {
      expect(String(error)).not.toContain(opaqueToken);
    }
  });
});
