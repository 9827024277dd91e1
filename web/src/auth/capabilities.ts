/**
 * What a person's roles let them do in the UI, so that the UI hides or
 * disables what would be refused and says why. The transfer service decides
 * (services/transfer/access-policy.ts); this mirrors its role table for
 * display only, and test/web/capabilities.test.ts fails when the two differ.
 *
 * Plain TypeScript without imports: it is compiled into the browser bundle,
 * and the test imports it from Node.
 */

export interface Capabilities {
  export: boolean;
  import: boolean;
  /** Read entity descriptions (field pickers, mappings). */
  describe: boolean;
  /** Jobs listed: everyone's, only one's own, or none. */
  jobs: "all" | "own" | "none";
  /** Cancel running jobs (one's own, or everyone's for admins). */
  cancelJobs: boolean;
  /** Undo imports (one's own, or everyone's for admins). */
  revertImports: boolean;
  audit: boolean;
  /** Personal fields (emails, names) in exports. */
  pii: boolean;
}

/** Role → what it grants (the table in access-policy.ts). */
export const ROLE_CAPABILITIES: Readonly<Record<string, Partial<Capabilities>>> = {
  admin: { export: true, import: true, describe: true, jobs: "all", cancelJobs: true, revertImports: true, audit: true },
  importer: { import: true, describe: true, jobs: "own", cancelJobs: true, revertImports: true },
  exporter: { export: true, describe: true, jobs: "own", cancelJobs: true },
  auditor: { jobs: "all", audit: true },
  pii: { pii: true },
};

/** The union of what `roles` grant; unknown roles grant nothing. */
export function capabilitiesOf(roles: readonly string[]): Capabilities {
  const out: Capabilities = { export: false, import: false, describe: false, jobs: "none", cancelJobs: false, revertImports: false, audit: false, pii: false };
  for (const role of roles) {
    const grants = ROLE_CAPABILITIES[role];
    if (!grants) continue;
    out.export ||= grants.export ?? false;
    out.import ||= grants.import ?? false;
    out.describe ||= grants.describe ?? false;
    out.audit ||= grants.audit ?? false;
    out.cancelJobs ||= grants.cancelJobs ?? false;
    out.revertImports ||= grants.revertImports ?? false;
    out.pii ||= grants.pii ?? false;
    if (grants.jobs === "all" || (grants.jobs === "own" && out.jobs === "none")) out.jobs = grants.jobs;
  }
  return out;
}

/** Why an action is not available, naming the roles that would allow it. */
export function missingRoleReason(action: string, roles: readonly string[]): string {
  return `${action} needs the ${roles.join(" or ")} role`;
}
