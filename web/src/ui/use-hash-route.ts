/**
 * The UI's routes live in the URL's fragment (`#/export`, `#/jobs/<id>`, `#/audit`): the
 * server serves one shell at `/` and never has to tell a UI path from an API
 * path (services/transfer/api/http/web-ui.ts).
 */
import { useEffect, useState } from "react";

export type Route = { page: "export" } | { page: "jobs" } | { page: "job"; id: string } | { page: "import" } | { page: "audit" } | { page: "unknown"; path: string };

export function routeOf(hash: string): Route {
  const path = hash.replace(/^#/, "") || "/export";
  if (path === "/export" || path === "/") return { page: "export" };
  if (path === "/jobs") return { page: "jobs" };
  if (path === "/import") return { page: "import" };
  if (path === "/audit") return { page: "audit" };
  const job = path.match(/^\/jobs\/([\w-]+)$/);
  if (job) return { page: "job", id: job[1]! };
  return { page: "unknown", path };
}

export function useHashRoute(): Route {
  const [route, setRoute] = useState(() => routeOf(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(routeOf(window.location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
