/**
 * The transfer service's own credential for the records service: a token file
 * re-read when it changes, development tokens renewed before they expire, the
 * environment's choice between them, and the client interceptor that sends
 * the token and forwards the user (and never the user's own token).
 */
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { decodeJwt } from "jose";
import { DescribeEntityResponseSchema, Entity, RecordsService } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { AUDIENCES, createTokenVerifier, ensureDevKeys, loadKeyFile, type Principal } from "../../../services/shared/auth/index.js";
import type { Caller } from "../../../services/transfer/caller.js";
import { recordsFor } from "../../../services/transfer/records/records-for-caller.js";
import { devServiceCredential, serviceCredentialFromEnv, serviceCredentialInterceptor, staticCredential, tokenFileCredential } from "../../../services/transfer/records/service-credential.js";
import { recordSecret } from "../../support/run-secrets.js";

const dir = mkdtempSync(join(tmpdir(), "dx-cred-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const jwt = (n: number) => `eyJhbGciOiJFZERTQSJ9.eyJuIjo${n}fQ.c2ln`;

describe("a token file", () => {
  it("is read on first use and re-read when it changes", async () => {
    const file = join(dir, "token");
    writeFileSync(file, `${jwt(1)}\n`);
    const credential = tokenFileCredential(file, { checkEveryMs: 0 });
    expect(await credential.token()).toBe(jwt(1));
    writeFileSync(file, `${jwt(22)}\n`);
    expect(await credential.token()).toBe(jwt(22));
    expect(credential.description).toBe(`token file ${file}`);
  });

  it("says so when the file is missing or holds no JWT (never echoing its content)", async () => {
    await expect(tokenFileCredential(join(dir, "missing")).token()).rejects.toThrow(/cannot be read: ENOENT/);
    const junk = join(dir, "junk");
    writeFileSync(junk, "not a token at all");
    await expect(tokenFileCredential(junk).token()).rejects.toThrow(/does not hold a JWT$/);
  });
});

describe("development tokens", () => {
  const keysDir = join(dir, "keys");

  it("are signed by the development key for the records audience with role service, and the records verifier accepts them", async () => {
    const token = recordSecret("service credential", await devServiceCredential({ keysDir }).token());
    const verifier = createTokenVerifier({ key: loadKeyFile(ensureDevKeys(keysDir).publicKeyFile), issuer: "dataexchange-dev", audience: AUDIENCES.records, algorithms: ["EdDSA"] });
    expect(await verifier.verify(token)).toMatchObject({ subject: "transfer-service", roles: ["service"] });
  });

  it("are reused while fresh and renewed before they expire", async () => {
    vi.useFakeTimers({ now: Date.now(), toFake: ["Date"] });
    try {
      const credential = devServiceCredential({ keysDir, ttlSeconds: 300 });
      const first = recordSecret("service credential", await credential.token());
      vi.advanceTimersByTime(200_000);
      expect(await credential.token()).toBe(first);
      vi.advanceTimersByTime(50_000); // 50 s left: less than a fifth of the lifetime
      const renewed = recordSecret("service credential", await credential.token());
      expect(renewed).not.toBe(first);
      expect(decodeJwt(renewed).exp).toBeGreaterThan(decodeJwt(first).exp!);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("the environment", () => {
  it("prefers DX_TRANSFER_SERVICE_TOKEN_FILE, uses development tokens in dev mode, and refuses to start otherwise", () => {
    expect(serviceCredentialFromEnv({ DX_TRANSFER_SERVICE_TOKEN_FILE: "/run/secrets/token", DX_AUTH_DEV: "1" }).description).toBe("token file /run/secrets/token");
    expect(serviceCredentialFromEnv({ DX_AUTH_DEV: "1", DX_DEV_KEYS_DIR: join(dir, "keys") }).description).toMatch(/^development token/);
    expect(() => serviceCredentialFromEnv({})).toThrow(
      /needs a credential for the records service outside dev mode: DX_TRANSFER_CLIENT_ID and DX_TRANSFER_CLIENT_SECRET .*, or DX_TRANSFER_SERVICE_TOKEN_FILE/,
    );
  });

  it("uses client credentials at the identity provider when given a client id, and checks what goes with it", () => {
    const provider = { DX_AUTH_ISSUER: "https://id.example/realms/lms", DX_TRANSFER_CLIENT_ID: "transfer-service" };
    expect(serviceCredentialFromEnv({ ...provider, DX_TRANSFER_CLIENT_SECRET: "s3cret-value", DX_TRANSFER_TOKEN_SCOPE: "api://records/.default" }).description).toBe(
      "client credentials of transfer-service at https://id.example/realms/lms (scope api://records/.default)",
    );
    expect(
      serviceCredentialFromEnv({
        ...provider,
        DX_TRANSFER_CLIENT_SECRET_FILE: "/run/secrets/client",
        DX_TRANSFER_TOKEN_ISSUER: "http://127.0.0.1:9000",
        DX_TRANSFER_TOKEN_RESOURCE: "urn:dataexchange:records",
      }).description,
    ).toBe("client credentials of transfer-service at http://127.0.0.1:9000 (resource urn:dataexchange:records)");
    expect(() => serviceCredentialFromEnv(provider)).toThrow(/exactly one of DX_TRANSFER_CLIENT_SECRET and DX_TRANSFER_CLIENT_SECRET_FILE/);
    expect(() => serviceCredentialFromEnv({ DX_TRANSFER_CLIENT_ID: "t", DX_TRANSFER_CLIENT_SECRET: "s3cret-value" })).toThrow(/needs the identity provider's URL/);
    expect(() => serviceCredentialFromEnv({ ...provider, DX_TRANSFER_CLIENT_SECRET: "s3cret-value", DX_TRANSFER_SERVICE_TOKEN_FILE: "/t" })).toThrow(/not both/);
    expect(() => serviceCredentialFromEnv({ ...provider, DX_TRANSFER_CLIENT_SECRET: "s3cret-value", DX_TRANSFER_TOKEN_ISSUER: "http://id.example" })).toThrow(/must be https/);
  });

  it("mints development tokens beside an identity provider only when the development key is trusted too", () => {
    const provider = { DX_AUTH_DEV: "1", DX_AUTH_ISSUER: "http://127.0.0.1:9000", DX_AUTH_JWKS_URL: "http://127.0.0.1:9000/jwks", DX_DEV_KEYS_DIR: join(dir, "keys") };
    expect(() => serviceCredentialFromEnv(provider)).toThrow(/trusts an identity provider, not the development key: give the transfer service DX_TRANSFER_CLIENT_ID/);
    expect(serviceCredentialFromEnv({ ...provider, DX_AUTH_TRUST_DEV_KEY: "1" }).description).toMatch(/^development token/);
  });
});

describe("the records client interceptor", () => {
  const alice: Principal = { subject: "alice", roles: ["exporter", "pii"], issuer: "i", expiresAt: new Date(), permissions: new Set() };
  const caller: Caller = { subject: "alice", principal: alice, audit: { subject: "alice", roles: [] } };

  /** A records service that answers with the headers it received. */
  function echoing(fail?: Code) {
    return createRouterTransport(
      ({ service }) =>
        service(RecordsService, {
          describeEntity(_request, context) {
            if (fail !== undefined) throw new ConnectError("token expired at …", fail);
            const h = context.requestHeader;
            return create(DescribeEntityResponseSchema, { name: h.get("authorization") ?? "", label: `${h.get("x-dx-on-behalf-of")}|${h.get("x-dx-on-behalf-roles")}|${h.get("x-dx-job-id")}` });
          },
        }),
      { transport: { interceptors: [serviceCredentialInterceptor(staticCredential(jwt(7)))] } },
    );
  }

  it("sends the service's token and forwards the user and the job, for calls bound to a caller", async () => {
    const records = recordsFor(createClient(RecordsService, echoing()), caller, "job-1");
    const answer = await records.describeEntity({ entity: Entity.USERS }, { headers: { authorization: "Bearer the-users-own-token" } });
    expect(answer.name).toBe(`Bearer ${jwt(7)}`);
    expect(answer.label).toBe("alice|exporter,pii|job-1");
  });

  it("turns the records service refusing the service's token into UNAVAILABLE, not the user's UNAUTHENTICATED", async () => {
    const records = recordsFor(createClient(RecordsService, echoing(Code.Unauthenticated)), caller);
    const error = await records.describeEntity({ entity: Entity.USERS }).then(
      () => new ConnectError("accepted"),
      (e: unknown) => ConnectError.from(e),
    );
    expect(error).toMatchObject({ code: Code.Unavailable });
    expect(error.rawMessage).toMatch(/^the records service refused the transfer service's credential/);
  });
});
