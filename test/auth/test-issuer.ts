/**
 * A stand-in for a production identity provider (Keycloak, Entra ID, Auth0)
 * as the services see one: a real HTTP server publishing an OpenID Connect
 * discovery document and a JWKS, and tokens signed with its key in that
 * provider's shape. The services find its keys by the same discovery and
 * JWKS fetches as in production; only the provider's own sign-in is not here.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, SignJWT, type JWTPayload } from "jose";
import { recordSecret } from "../support/run-secrets.js";
import { rsaKeys, type TestKeys } from "./support.js";

export interface TestIssuer {
  /** The issuer URL (http on 127.0.0.1; the services allow plain http for loopback issuers only). */
  issuer: string;
  keys: TestKeys;
  kid: string;
  /** Requests served, by path (discovery and JWKS fetches). */
  hits: Map<string, number>;
  /** A token in this provider's shape: the claims as given, plus iss, iat, exp (10 min) and kid. */
  sign(claims: JWTPayload): Promise<string>;
  close(): Promise<void>;
}

/** `advertise` replaces the issuer the discovery document names (a misconfigured or impostor provider). */
export async function startTestIssuer(path = "", advertise?: (issuer: string) => string): Promise<TestIssuer> {
  const keys = rsaKeys();
  const kid = "test-issuer-key-1";
  const jwk = { ...(await exportJWK(keys.publicKey)), kid, alg: "RS256", use: "sig" };
  const hits = new Map<string, number>();
  let issuer = "";
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", issuer);
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
    const json = (body: unknown) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === `${path}/.well-known/openid-configuration`)
      return json({
        issuer: advertise ? advertise(issuer) : issuer,
        jwks_uri: `${issuer}/keys`,
        token_endpoint: `${issuer}/token`,
        response_types_supported: ["code"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
      });
    if (url.pathname === `${path}/keys`) return json({ keys: [jwk] });
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  return {
    issuer,
    keys,
    kid,
    hits,
    async sign(claims) {
      const now = Math.floor(Date.now() / 1000);
      return recordSecret("token", await new SignJWT({ iat: now, exp: now + 600, iss: issuer, ...claims }).setProtectedHeader({ alg: "RS256", typ: "JWT", kid }).sign(keys.privateKey));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
