/**
 * The development provider's accounts: one per role, and one without the
 * `pii` permission, with fixed passwords listed in the README — this provider
 * exists so that a person can sign in on a development machine, and listens
 * on the loopback interface only (identity-config.ts).
 *
 * The subject (`sub`) of each account is its username, so that job records
 * and the audit trail name the person who signed in readably.
 *
 * Passwords are compared as SHA-256 digests with `timingSafeEqual`, and an
 * unknown username is compared against a dummy digest, so that the time a
 * sign-in takes says nothing about which usernames exist.
 */
import { createHash, timingSafeEqual } from "node:crypto";

export interface DevAccount {
  username: string;
  password: string;
  /** Data Exchange roles, `pii` included where granted: the `roles` claim of its access tokens. */
  roles: readonly string[];
  name: string;
  email: string;
}

/** The development accounts (README: Sign-in). */
export const DEV_ACCOUNTS: readonly DevAccount[] = [
  { username: "admin", password: "dx-admin-dev", roles: ["admin", "pii"], name: "Ada Admin", email: "admin@dataexchange.test" },
  { username: "importer", password: "dx-importer-dev", roles: ["importer", "pii"], name: "Ian Importer", email: "importer@dataexchange.test" },
  { username: "exporter", password: "dx-exporter-dev", roles: ["exporter", "pii"], name: "Eve Exporter", email: "exporter@dataexchange.test" },
  { username: "auditor", password: "dx-auditor-dev", roles: ["auditor", "pii"], name: "Aude Auditor", email: "auditor@dataexchange.test" },
  { username: "analyst", password: "dx-analyst-dev", roles: ["exporter"], name: "Ann Analyst (no personal data)", email: "analyst@dataexchange.test" },
];

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();
const byUsername = new Map(DEV_ACCOUNTS.map((a) => [a.username, { account: a, digest: digest(a.password) }]));
const dummy = digest("no such account");

/** The account, if `username` exists. */
export function findDevAccount(username: string): DevAccount | undefined {
  return byUsername.get(username)?.account;
}

/** The account when the username and password match, else undefined (in the same time either way). */
export function authenticateDevAccount(username: string, password: string): DevAccount | undefined {
  const entry = byUsername.get(username);
  const matches = timingSafeEqual(digest(password), entry?.digest ?? dummy);
  return entry && matches ? entry.account : undefined;
}
