/**
 * The UI's copy of the role table (web/src/auth/capabilities.ts, which hides
 * what a person cannot do) agrees with the transfer service's, which decides.
 */
import { describe, expect, it } from "vitest";
import { PERMISSIONS, TRANSFER_ACCESS_POLICY, permission } from "../../services/transfer/access-policy.js";
import { capabilitiesOf, ROLE_CAPABILITIES } from "../../web/src/auth/capabilities.js";

/** What the service's table grants a role, in the UI's terms. */
function fromPolicy(role: string) {
  const perms = TRANSFER_ACCESS_POLICY.roles[role] ?? [];
  return {
    export: perms.includes(permission("export", "users")),
    import: perms.includes(permission("import", "users")),
    describe: perms.includes(permission("describe", "users")),
    jobs: perms.includes(PERMISSIONS.readAllJobs) ? "all" : perms.includes(PERMISSIONS.readOwnJobs) ? "own" : "none",
    cancelJobs: perms.includes(PERMISSIONS.cancelOwnJobs) || perms.includes(PERMISSIONS.cancelAllJobs),
    revertImports: perms.includes(PERMISSIONS.revertOwnImports) || perms.includes(PERMISSIONS.revertAllImports),
    audit: perms.includes(PERMISSIONS.readAudit),
    pii: perms.includes(PERMISSIONS.pii),
  };
}

describe("the UI's role table", () => {
  it("names the same roles as the transfer service's, the service role aside", () => {
    expect(Object.keys(ROLE_CAPABILITIES).sort()).toEqual(Object.keys(TRANSFER_ACCESS_POLICY.roles).sort());
  });

  it("grants each role what the transfer service grants it", () => {
    for (const role of Object.keys(TRANSFER_ACCESS_POLICY.roles)) expect(capabilitiesOf([role]), role).toEqual(fromPolicy(role));
  });

  it("adds up several roles, and grants nothing for an unknown one", () => {
    expect(capabilitiesOf(["exporter", "pii"])).toMatchObject({ export: true, import: false, jobs: "own", pii: true });
    expect(capabilitiesOf(["exporter", "auditor"])).toMatchObject({ jobs: "all", audit: true });
    expect(capabilitiesOf(["service", "superuser"])).toEqual({ export: false, import: false, describe: false, jobs: "none", cancelJobs: false, revertImports: false, audit: false, pii: false });
  });
});
