/**
 * The bearer token `npm run seed` sends to the records service: `DX_TOKEN`
 * when set; else, when the services trust the development key (the default
 * of `npm start`, scripts/lib/dev-stack.ts), a token the seed mints with it
 * (subject `seed`, role admin, two hours); else nothing is sent and the seed
 * stops, saying which variable it needs and with which roles — a new user
 * following the README never meets a bare "missing bearer token".
 */
import { AUDIENCES, devKeysDir, ensureDevKeys, signDevToken } from "../../services/shared/auth/index.js";
import { stackAuth } from "../lib/dev-stack.js";

/** What to do when the seed has no token, or the records service refuses it. */
export const SEED_TOKEN_HELP =
  "npm run seed needs a token for the records service (audience dataexchange-records) with role admin (or importer and exporter): set DX_TOKEN to one.\n" +
  "With `npm start`'s defaults the seed mints one itself with the development key; when the services do not trust that key (DX_AUTH_TRUST_DEV_KEY=0, or another identity provider), " +
  "sign in as an admin for the records service: DX_TOKEN=$(npm run -s sign-in -- --aud records) npm run seed";

/** Subject of the tokens the seed mints. */
export const SEED_SUBJECT = "seed";

export async function seedToken(env: NodeJS.ProcessEnv): Promise<{ value: string; source: string }> {
  const given = env.DX_TOKEN?.trim();
  if (given) return { value: given, source: "token from DX_TOKEN" };
  if (!stackAuth(env).devKeyTrusted) throw new Error(`DX_TOKEN is not set.\n${SEED_TOKEN_HELP}`);
  const audience = env.DX_AUTH_AUDIENCE_RECORDS?.trim() || AUDIENCES.records;
  const value = await signDevToken({ roles: ["admin"], subject: SEED_SUBJECT, audience, ttlSeconds: 7200, keys: ensureDevKeys(devKeysDir(env)) });
  return { value, source: `as ${SEED_SUBJECT} (role admin) with the development key` };
}
