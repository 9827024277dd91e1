/**
 * `npm run identity:rotate-keys`: rotates the development provider's signing
 * keys (services/identity/signing-keys.ts): the key published in advance
 * starts signing, the one signing now retires and stays published until the
 * tokens it signed have expired, and a new key is published in advance. A
 * running provider picks the change up within a second; tokens already out
 * keep working. Rotate at most every 10 minutes: a service refreshes its
 * cached key set that often, and must have seen the key published in advance
 * before it signs.
 */
import { KEY_RETENTION_MARGIN_SECONDS } from "../services/identity/identity-server.js";
import { loadIdentityConfig } from "../services/identity/identity-config.js";
import { describeSigningKeys, rotateSigningKeys } from "../services/identity/signing-keys.js";

try {
  const config = loadIdentityConfig();
  const keys = rotateSigningKeys(config.keysFile, { retainSeconds: config.accessTokenTtlSeconds + KEY_RETENTION_MARGIN_SECONDS });
  process.stdout.write(`rotated the signing keys in ${config.keysFile}: ${describeSigningKeys(keys)}; now signing with ${keys.activeKid}\n`);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
