/**
 * Any OpenID Connect provider by configuration alone: the issuer URL (keys by
 * discovery), the audience, where roles come from (a claim path) and how the
 * provider's role or group names map to ours — with tokens shaped as
 * Keycloak, Entra ID and Auth0 issue them, from a provider stand-in that
 * publishes discovery and JWKS over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUDIENCES, DEV_ISSUER, claimAt, createVerifierFromConfig, loadAuthConfig, parseRoleMap, parseRolesClaim, rolesOf, signDevToken } from "../../services/shared/auth/index.js";
import { RECORDS_ACCESS_POLICY } from "../../services/records/access-policy.js";
import { TRANSFER_ACCESS_POLICY } from "../../services/transfer/access-policy.js";
import { DATAEXCHANGE_ROLES } from "../../services/shared/auth/role-mapping.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordSecret } from "../support/run-secrets.js";
import { startTestIssuer, type TestIssuer } from "./test-issuer.js";

const RECORDS = { variable: "DX_AUTH_AUDIENCE_RECORDS", fallback: AUDIENCES.records };

describe("where roles come from", () => {
  it("reads nested paths, namespaced claim names with dots, several claims at once, lists and space-separated strings", () => {
    const payload = { realm_access: { roles: ["a", "b"] }, "https://dx.example.org/roles": ["c"], scp: "d e", groups: ["b"] };
    expect(claimAt(payload, "realm_access.roles")).toEqual(["a", "b"]);
    expect(claimAt(payload, "https://dx.example.org/roles")).toEqual(["c"]);
    expect(claimAt(payload, "realm_access.missing")).toBeUndefined();
    expect(rolesOf(payload, { claims: parseRolesClaim("realm_access.roles, https://dx.example.org/roles,scp,groups") })).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("maps the provider's names to ours, and an unmapped name grants nothing, even one spelled like a role of ours", () => {
    const map = parseRoleMap("dx-admins=admin+pii, /dx/exporters=exporter,dx-admins=auditor");
    expect([...map]).toEqual([
      ["dx-admins", ["admin", "pii", "auditor"]],
      ["/dx/exporters", ["exporter"]],
    ]);
    expect(rolesOf({ groups: ["/dx/exporters", "admin", "staff"] }, { claims: ["groups"], map })).toEqual(["exporter"]);
    expect([...parseRoleMap('{"Data=Exchange, Admins": ["admin", "pii"], "1f0c3c5e-8d3e-4b8a-9f43-9a1c7a1b2c3d": "exporter"}')]).toEqual([
      ["Data=Exchange, Admins", ["admin", "pii"]],
      ["1f0c3c5e-8d3e-4b8a-9f43-9a1c7a1b2c3d", ["exporter"]],
    ]);
  });

  it("refuses a map naming a role we do not have, and entries it cannot read, saying which", () => {
    expect(() => parseRoleMap("dx-admins=superuser")).toThrow(/"dx-admins" maps to "superuser", which is not a role here \(roles: admin, importer, exporter, auditor, service, pii\)/);
    expect(() => parseRoleMap("dx-admins")).toThrow(/"dx-admins" is not name=role/);
    expect(() => parseRoleMap('{"a": []}')).toThrow(/"a" must map to a role or a non-empty list/);
    expect(() => parseRoleMap("{nope")).toThrow(/not valid JSON/);
    expect(() => parseRolesClaim("realm_access..roles")).toThrow(/not a claim path/);
    expect(() => loadAuthConfig({ DX_AUTH_ISSUER: "https://id.example", DX_AUTH_ROLE_MAP: "x=root" }, RECORDS)).toThrow(
      /invalid authentication configuration:\n {2}DX_AUTH_ROLE_MAP: "x" maps to "root"/,
    );
  });

  it("knows every role both services' access policies grant by", () => {
    for (const role of [...Object.keys(RECORDS_ACCESS_POLICY.roles), ...Object.keys(TRANSFER_ACCESS_POLICY.roles)]) expect(DATAEXCHANGE_ROLES).toContain(role);
  });
});

describe("a production provider by configuration alone", () => {
  let keycloak: TestIssuer;
  let entra: TestIssuer;
  let auth0: TestIssuer;
  beforeAll(async () => {
    [keycloak, entra, auth0] = await Promise.all([startTestIssuer("/realms/lms"), startTestIssuer("/tenant-id/v2.0"), startTestIssuer()]);
  });
  afterAll(async () => Promise.all([keycloak, entra, auth0].map((i) => i?.close())));

  it("Keycloak: realm and client roles, mapped; keys found by discovery from the issuer URL", async () => {
    const config = loadAuthConfig(
      {
        DX_AUTH_ISSUER: keycloak.issuer,
        DX_AUTH_ROLES_CLAIM: "realm_access.roles,resource_access.dataexchange.roles",
        DX_AUTH_ROLE_MAP: "dx-exporter=exporter,dx-pii=pii,dx-admin=admin",
      },
      RECORDS,
    );
    expect(config.keySource).toEqual({ kind: "discovery", issuer: keycloak.issuer });
    const verifier = createVerifierFromConfig(config);
    const token = await keycloak.sign({
      sub: "f3b1c2d4-0a1b-4c5d-8e9f-0123456789ab",
      typ: "Bearer",
      azp: "dataexchange-cli",
      aud: ["dataexchange-records", "account"],
      preferred_username: "jane",
      realm_access: { roles: ["offline_access", "uma_authorization", "dx-exporter", "default-roles-lms"] },
      resource_access: { dataexchange: { roles: ["dx-pii"] }, account: { roles: ["manage-account", "admin"] } },
    });
    expect(await verifier.verify(token)).toMatchObject({ subject: "f3b1c2d4-0a1b-4c5d-8e9f-0123456789ab", roles: ["exporter", "pii"], issuer: keycloak.issuer });
    expect(keycloak.hits.get("/realms/lms/.well-known/openid-configuration")).toBe(1);
    expect(keycloak.hits.get("/realms/lms/keys")).toBe(1);
  });

  it("Entra ID: app roles and group object ids, mapped with the JSON form, audience api://…", async () => {
    const group = "0b7cf1d2-3e4f-4a5b-8c6d-7e8f9a0b1c2d";
    const verifier = createVerifierFromConfig(
      loadAuthConfig(
        {
          DX_AUTH_ISSUER: entra.issuer,
          DX_AUTH_AUDIENCE_RECORDS: "api://dataexchange-records",
          DX_AUTH_ROLES_CLAIM: "roles,groups",
          DX_AUTH_ROLE_MAP: JSON.stringify({ "DataExchange.Importer": "importer", "DataExchange.Auditor": "auditor", [group]: ["pii"] }),
        },
        RECORDS,
      ),
    );
    const token = await entra.sign({
      sub: "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
      oid: "00000000-0000-0000-66f3-3332eca7ea81",
      tid: "tenant-id",
      ver: "2.0",
      azp: "cli-app-id",
      aud: "api://dataexchange-records",
      roles: ["DataExchange.Importer"],
      groups: [group, "11111111-2222-3333-4444-555555555555"],
    });
    expect((await verifier.verify(token)).roles).toEqual(["importer", "pii"]);
    // The same token for another API is refused.
    const other = await entra.sign({ sub: "x", aud: "api://something-else", roles: ["DataExchange.Importer"] });
    await expect(verifier.verify(other)).rejects.toThrow(/audience does not include "api:\/\/dataexchange-records"/);
  });

  it("Auth0: a namespaced claim whose name has dots", async () => {
    const verifier = createVerifierFromConfig(loadAuthConfig({ DX_AUTH_ISSUER: auth0.issuer, DX_AUTH_ROLES_CLAIM: "https://dataexchange.example.org/roles" }, RECORDS));
    const token = await auth0.sign({ sub: "auth0|5f7c8ec7c33c6c004bbafe82", aud: ["dataexchange-records", `${auth0.issuer}/userinfo`], "https://dataexchange.example.org/roles": ["auditor"] });
    expect((await verifier.verify(token)).roles).toEqual(["auditor"]);
  });

  it("answers 'keys unavailable' while the provider cannot be discovered, and recovers once it can", async () => {
    const down = await startTestIssuer("/realms/down");
    const issuer = down.issuer;
    const token = await down.sign({ sub: "x", aud: "dataexchange-records", roles: ["admin"] });
    await down.close();
    const verifier = createVerifierFromConfig(loadAuthConfig({ DX_AUTH_ISSUER: issuer }, RECORDS));
    await expect(verifier.verify(token)).rejects.toMatchObject({ reason: "key_unavailable", message: expect.stringContaining("could not be fetched") });
  });

  it("refuses a discovery document that names another issuer", async () => {
    const impostor = await startTestIssuer("/realms/lms", (issuer) => issuer.replace("/lms", "/other"));
    try {
      const verifier = createVerifierFromConfig(loadAuthConfig({ DX_AUTH_ISSUER: impostor.issuer }, RECORDS));
      const token = await impostor.sign({ sub: "x", aud: "dataexchange-records", roles: ["admin"] });
      await expect(verifier.verify(token)).rejects.toMatchObject({ reason: "key_unavailable", message: expect.stringContaining('"issuer" property does not match the expected value') });
      expect(impostor.hits.get("/realms/lms/keys")).toBeUndefined();
    } finally {
      await impostor.close();
    }
  });
});

describe("the development key beside a provider", () => {
  it("is trusted too with DX_AUTH_TRUST_DEV_KEY=1 in dev mode, for its own issuer only, and never outside dev mode", async () => {
    const issuer = await startTestIssuer();
    try {
      const dir = mkdtempSync(join(tmpdir(), "dx-devkey-"));
      const env = { DX_AUTH_DEV: "1", DX_AUTH_ISSUER: issuer.issuer, DX_AUTH_JWKS_URL: `${issuer.issuer}/keys`, DX_DEV_KEYS_DIR: dir };
      const both = createVerifierFromConfig(loadAuthConfig({ ...env, DX_AUTH_TRUST_DEV_KEY: "1" }, RECORDS));
      const dev = recordSecret("token", await signDevToken({ roles: ["admin"], subject: "script" }));
      const devFromOwnKeys = recordSecret("token", await signDevToken({ roles: ["admin"], subject: "script", keys: (await import("../../services/shared/auth/index.js")).ensureDevKeys(dir) }));
      expect((await both.verify(devFromOwnKeys)).roles).toEqual(["admin"]);
      await expect(both.verify(dev)).rejects.toMatchObject({ reason: "signature" }); // another machine's development key
      expect((await both.verify(await issuer.sign({ sub: "p", aud: "dataexchange-records", roles: ["exporter"] }))).roles).toEqual(["exporter"]);
      // A development-key token claiming the provider's issuer is checked against the provider's keys.
      const forged = recordSecret("token", await signDevToken({ roles: ["admin"], issuer: issuer.issuer, keys: (await import("../../services/shared/auth/index.js")).ensureDevKeys(dir) }));
      await expect(both.verify(forged)).rejects.toMatchObject({ reason: "unknown_key" });

      const providerOnly = createVerifierFromConfig(loadAuthConfig(env, RECORDS));
      await expect(providerOnly.verify(devFromOwnKeys)).rejects.toThrow(`token issuer is not "${issuer.issuer}"`);
      expect(() => loadAuthConfig({ ...env, DX_AUTH_DEV: undefined, DX_AUTH_TRUST_DEV_KEY: "1" }, RECORDS)).toThrow(/DX_AUTH_TRUST_DEV_KEY=1 is allowed in dev mode only/);
      expect(() => loadAuthConfig({ ...env, DX_AUTH_ISSUER: `${issuer.issuer},${DEV_ISSUER}`, DX_AUTH_TRUST_DEV_KEY: "1" }, RECORDS)).toThrow(/must not name "dataexchange-dev"/);
      expect(() => loadAuthConfig({ DX_AUTH_DEV: "1", DX_AUTH_TRUST_DEV_KEY: "0" }, RECORDS)).toThrow(/leaves no trusted key/);
    } finally {
      await issuer.close();
    }
  });
});
