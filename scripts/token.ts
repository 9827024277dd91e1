/**
 * `npm run token -- --roles admin,pii [--sub alice] [--ttl 3600] [--aud records|transfer|<audience>]`
 *
 * Mints a development bearer token signed with the development key in
 * `.cache/dev-keys/` (created on first use), for scripts and tests. `npm start`
 * trusts it beside the development identity provider unless
 * `DX_AUTH_TRUST_DEV_KEY=0`; services started otherwise trust it in dev mode
 * without another key, with `DX_AUTH_TRUST_DEV_KEY=1`, or when given its public
 * key (`DX_AUTH_PUBLIC_KEY_FILE=.cache/dev-keys/public.pem`). When the same
 * environment says the services would not trust it, the script refuses
 * (exit 2) instead of printing a token they would refuse, and says how to
 * sign in instead. People sign in through the identity provider
 * (`npm run sign-in`).
 *
 * The token alone goes to stdout, so it can be captured:
 *   TOKEN=$(npm run -s token -- --roles exporter)
 *   buf curl --http2-prior-knowledge -H "authorization: Bearer $TOKEN" …
 */
import { parseArgs } from "node:util";
import { AUDIENCES, DEV_ISSUER, ensureDevKeys, signDevToken } from "../services/shared/auth/dev-keys.js";
import { stackAuth } from "./lib/dev-stack.js";

const usage = `usage: npm run token -- --roles <role,role…> [--sub <subject>] [--ttl <seconds>] [--aud records|transfer|<audience>] [--iss <issuer>]
roles: admin, importer, exporter, auditor, service, and the permission pii`;

function main(): void {
  const { values } = parseArgs({
    options: {
      roles: { type: "string" },
      sub: { type: "string", default: "dev-user" },
      ttl: { type: "string", default: "3600" },
      aud: { type: "string", default: "records" },
      iss: { type: "string", default: DEV_ISSUER },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  if (!stackAuth(process.env).devKeyTrusted) {
    throw new Error(
      "npm run token: the services do not trust the development key in this environment (DX_AUTH_TRUST_DEV_KEY=0, or DX_AUTH_* name another identity provider), so they would refuse its tokens.\n" +
        "Sign in through the identity provider instead: TOKEN=$(npm run -s sign-in) for a person, or client credentials for a backend (README.md, section Sign-in).",
    );
  }
  const roles = (values.roles ?? "")
    .split(",")
    .map((r) => r.trim())
    .filter((r) => r !== "");
  if (roles.length === 0) throw new Error(`--roles is required\n${usage}`);
  const ttl = Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl <= 0) throw new Error("--ttl must be a positive number of seconds");
  const audience = values.aud in AUDIENCES ? AUDIENCES[values.aud as keyof typeof AUDIENCES] : values.aud;
  const keys = ensureDevKeys();
  void signDevToken({ roles, subject: values.sub, ttlSeconds: ttl, audience, issuer: values.iss, keys }).then((token) => {
    process.stderr.write(`token for ${values.sub} (roles ${roles.join(", ")}; audience ${audience}; expires in ${ttl} s; key ${keys.publicKeyFile})\n`);
    process.stdout.write(`${token}\n`);
  });
}

try {
  main();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}
