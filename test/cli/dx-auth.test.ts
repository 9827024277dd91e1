/**
 * `dx` against services with sign-in on (tokens of a test key the services
 * trust): who it is comes from --token, DX_TOKEN or the file `dx login`
 * keeps (mode 0600); no token, an expired one and a refused one are exit 3
 * with one line saying so; a role that may not is exit 2.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAuthServices, transferToken, type AuthServices } from "../transfer/auth/auth-harness.js";
import { bundleDx, dx, type DxBundle } from "./dx-harness.js";

let s: AuthServices;
let bundle: DxBundle;
let server: string[];

beforeAll(async () => {
  [s, bundle] = await Promise.all([startAuthServices(), bundleDx()]);
  server = ["--server", s.transfer.url];
});
afterAll(async () => {
  await s?.close();
  bundle?.remove();
});

describe("who dx is", () => {
  it("is exit 3 without a token, naming dx login", async () => {
    const r = await dx(bundle, ["formats", ...server]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^dx: http:\/\/127\.0\.0\.1:\d+ did not accept who you are: .* — sign in with "dx login" or pass --token\n$/);
  });

  it("is exit 3 with an expired token, saying how long ago it expired, before calling", async () => {
    const expired = await transferToken(["admin"], "alice", { expIn: -300 });
    const r = await dx(bundle, ["formats", ...server], { env: { DX_TOKEN: expired } });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe("dx: the token expired 5 minutes ago (from DX_TOKEN); get a new one\n");
  });

  it("is exit 3 with a token the server does not trust", async () => {
    const r = await dx(bundle, ["formats", "--token", "not.a.jwt", ...server]);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("is exit 2 when the token's roles may not do it", async () => {
    const r = await dx(bundle, ["audit", ...server], { env: { DX_TOKEN: await transferToken(["importer"], "ivan") } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^dx: refused: .*auditor/);
  });

  it("keeps a pasted token in a file only its owner can read, and lists that user's jobs with --mine", async () => {
    const bob = await transferToken(["exporter", "pii"], "bob");
    const login = await dx(bundle, ["login", "--with-token"], { input: `${bob}\n` });
    expect(login.code).toBe(0);
    expect(login.stdout).toMatch(/^stored the token of bob in .*token\.json; it expires in \d+ minutes/);
    expect(statSync(join(bundle.dir, "token.json")).mode & 0o777).toBe(0o600);

    expect((await dx(bundle, ["export", "courses", "-f", "csv", "-o", "courses.csv", ...server])).code).toBe(0);
    const carol = await transferToken(["exporter"], "carol");
    expect((await dx(bundle, ["export", "courses", "-f", "json", "-o", "-", "--token", carol, ...server])).code).toBe(0);

    const mine = await dx(bundle, ["jobs", "--mine", "--json", ...server], { env: { DX_TOKEN: await transferToken(["auditor"], "bob") } });
    const subjects = mine.stdout
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { subject: string }).subject);
    expect(subjects.length).toBeGreaterThan(0);
    expect(new Set(subjects)).toEqual(new Set(["bob"]));

    const audit = await dx(bundle, ["audit", "--action", "export", "--subject", "carol", ...server], { env: { DX_TOKEN: await transferToken(["auditor"], "dora") } });
    expect(audit.code).toBe(0);
    expect(audit.stdout).toMatch(/^\S+\s+export\s+succeeded\s+carol\s+courses\s+json/m);

    const logout = await dx(bundle, ["logout"]);
    expect(logout.stdout).toMatch(/^signed out: removed /);
    expect((await dx(bundle, ["formats", ...server])).code).toBe(3);
  });

  it("refuses an expired pasted token and a --ca for a plain-http server", async () => {
    const expired = await transferToken(["admin"], "alice", { expIn: -7200 });
    const r = await dx(bundle, ["login", "--with-token"], { input: expired });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe("dx: the token expired 2 hours ago; not stored\n");
    const ca = await dx(bundle, ["formats", "--ca", "ca.pem", ...server]);
    expect(ca.code).toBe(2);
    expect(ca.stderr).toMatch(/--ca applies to https:\/\/ servers only/);
  });
});
