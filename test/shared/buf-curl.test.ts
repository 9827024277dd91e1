/**
 * `buf curl` is a real, independent gRPC client (Go, grpc-go's reflection
 * client): if it can list and call methods with no schema, reflection serves
 * complete, linkable descriptors.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RECORDS, startFixture, type Fixture } from "./rpc-fixture.js";

// Async on purpose: a synchronous child process would block the event loop the server runs on.
const run = promisify(execFile);
const buf = join(import.meta.dirname, "..", "..", "node_modules", ".bin", "buf");

async function bufCurl(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(buf, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", ...args], { timeout: 30_000 });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? "", stderr: e.stderr ?? "", code: e.code ?? -1 };
  }
}

describe("buf curl against the server, with reflection and no schema", () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await startFixture();
  });
  afterAll(async () => fx?.server.close());

  it("lists every method of every served service", async () => {
    const { stdout, stderr, code } = await bufCurl("--list-methods", fx.server.url);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const methods = stdout.trim().split("\n");
    expect(methods).toEqual(
      expect.arrayContaining([
        "grpc.health.v1.Health/Check",
        "grpc.health.v1.Health/Watch",
        `${RECORDS}/StreamRecords`,
        `${RECORDS}/WriteRecords`,
        "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
      ]),
    );
  });

  it("calls grpc.health.v1.Health/Check with JSON it encodes from the reflected schema", async () => {
    const { stdout, code } = await bufCurl("--data", JSON.stringify({ service: RECORDS }), `${fx.server.url}/grpc.health.v1.Health/Check`);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ status: "SERVING" });
  });

  it("encodes a records request whose messages import well-known types, and shows the server's status", async () => {
    const { stderr, code } = await bufCurl("--data", "{}", `${fx.server.url}/${RECORDS}/CountRecords`);
    // Unimplemented in this fixture: reaching the server at all proves the schema resolved.
    expect(code).not.toBe(0);
    expect(stderr).toContain("unimplemented");
  });

  it("works with the older v1alpha reflection protocol too", async () => {
    const { stdout, code } = await bufCurl("--reflect-protocol", "grpc-v1alpha", "--list-services", fx.server.url);
    expect(code).toBe(0);
    expect(stdout).toContain("grpc.health.v1.Health");
  });
});
