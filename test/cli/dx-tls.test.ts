/**
 * `dx` over TLS (an https:// server URL): a server whose certificate an
 * authority of our own signed is refused in one line naming `--ca`, and
 * trusted with `--ca` — export and import both work through it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Entity } from "../../gen/dataexchange/records/v1/records_pb.js";
import { seed, startServices, user, type Services } from "../transfer/rpc/harness.js";
import { bundleDx, dx, type DxBundle } from "./dx-harness.js";
import { startTlsFront, type TlsFront } from "./tls-front.js";

let s: Services;
let bundle: DxBundle;
let front: TlsFront;

beforeAll(async () => {
  [s, bundle] = await Promise.all([startServices(), bundleDx()]);
  front = await startTlsFront(s.transfer.url);
  await seed(
    s.recordsClient,
    Entity.USERS,
    Array.from({ length: 5 }, (_, i) => user(i)),
  );
});
afterAll(async () => {
  await front?.close();
  await s?.close();
  bundle?.remove();
});

describe("an https:// server", () => {
  it("is refused without --ca, saying to pass it (exit 3)", async () => {
    const r = await dx(bundle, ["formats", "--server", front.url]);
    expect(r.stderr).toBe(`dx: cannot reach ${front.url}: its certificate cannot be verified (pass --ca with the authority's certificate)\n`);
    expect(r.code).toBe(3);
  });

  it("says when an https:// URL names a server without TLS", async () => {
    const r = await dx(bundle, ["formats", "--server", s.transfer.url.replace("http:", "https:")]);
    expect(r.stderr).toMatch(/^dx: cannot reach https:\/\/127\.0\.0\.1:\d+: /);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.code).toBe(3);
  });

  it("is trusted with --ca: an export and its import go through TLS", async () => {
    const out = await dx(bundle, ["export", "users", "-f", "ndjson", "-o", "-", "--server", front.url, "--ca", front.caFile]);
    expect(out.stderr).toMatch(/^exported 5 users records to stdout/);
    expect(out.code).toBe(0);
    const back = await dx(bundle, ["import", "-", "-f", "ndjson", "--entity", "users", "--mode", "upsert", "--server", front.url, "--ca", front.caFile], { input: out.stdoutBytes });
    expect(back.code).toBe(0);
    expect(back.stdout).toMatch(/5 read, .* 5 unchanged/);
  });

  it("says when the --ca file is missing", async () => {
    const r = await dx(bundle, ["formats", "--server", front.url, "--ca", "no-such.pem"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("dx: cannot read --ca no-such.pem: no such file\n");
  });
});
