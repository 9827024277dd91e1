/**
 * A page the person's roles do not allow, shown instead of its controls: its
 * title and which roles would allow it (the service would refuse anyway).
 */
import { missingRoleReason } from "../auth/capabilities.js";

export function NotAllowed({ title, action, roles }: { title: string; action: string; roles: string[] }) {
  return (
    <section>
      <h1>{title}</h1>
      <p className="note" role="note">
        {missingRoleReason(action, roles)}; your roles do not include it.
      </p>
    </section>
  );
}
