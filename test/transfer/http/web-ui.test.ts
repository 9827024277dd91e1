/**
 * The web UI served by the transfer service on its own port: the shell and
 * the hashed assets with their cache headers, the security headers on every
 * answer, 404 for what is not the UI, and the API routes (plain HTTP and
 * Connect) answering exactly as before. A small stand-in build keeps these
 * tests independent of Vite; the last one reads the real build's shell.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "node-html-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repositoryRoot } from "../../../services/shared/process/repository-root.js";
import { webUiContentSecurityPolicy } from "../../../services/transfer/api/http/web-ui.js";
import { startServices, type Services } from "../rpc/harness.js";
import { rawRequest } from "./raw-http.js";

const ISSUER = "http://127.0.0.1:9000";
const SHELL = '<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head><body><div id="root"></div></body></html>';
let build: string;
let s: Services;
let unbuilt: Services;

beforeAll(async () => {
  build = mkdtempSync(join(tmpdir(), "dx-web-ui-"));
  mkdirSync(join(build, "assets"));
  writeFileSync(join(build, "index.html"), SHELL);
  writeFileSync(join(build, "assets", "index-abc123.js"), "console.log('ui');\n");
  writeFileSync(join(build, "assets", "index-abc123.css"), "body{}\n");
  writeFileSync(join(build, "favicon.svg"), "<svg/>");
  writeFileSync(join(build, ".secret"), "hidden");
  s = await startServices({ webUi: { dir: build, issuer: ISSUER } });
  unbuilt = await startServices({ webUi: { dir: join(build, "missing") } });
});
afterAll(async () => {
  await s?.close();
  await unbuilt?.close();
  rmSync(build, { recursive: true, force: true });
});

function expectSecurityHeaders(res: Response): void {
  expect(res.headers.get("content-security-policy")).toBe(webUiContentSecurityPolicy(ISSUER));
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  expect(res.headers.get("x-frame-options")).toBe("DENY");
}

describe("the web UI at /", () => {
  it("serves the shell at /, /index.html and the sign-in callback, never cached without revalidation", async () => {
    for (const path of ["/", "/index.html", "/auth/callback?code=abc&state=xyz&iss=http%3A%2F%2F127.0.0.1%3A9000"]) {
      const res = await fetch(`${s.transfer.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(res.headers.get("cache-control")).toBe("no-cache");
      expectSecurityHeaders(res);
      expect(await res.text()).toBe(SHELL);
    }
  });

  it("serves hashed assets as immutable for a year, with their content types, and HEAD without a body", async () => {
    const js = await fetch(`${s.transfer.url}/assets/index-abc123.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expectSecurityHeaders(js);
    expect(await js.text()).toBe("console.log('ui');\n");
    const css = await fetch(`${s.transfer.url}/assets/index-abc123.css`, { method: "HEAD" });
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(css.headers.get("content-length")).toBe("7");
    expect(await css.text()).toBe("");
    const icon = await fetch(`${s.transfer.url}/favicon.svg`);
    expect(icon.headers.get("content-type")).toBe("image/svg+xml");
    expect(icon.headers.get("cache-control")).toBe("public, max-age=3600");
  });

  it("tells the browser where to sign in (/web-config.json)", async () => {
    const res = await fetch(`${s.transfer.url}/web-config.json`);
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expectSecurityHeaders(res);
    expect(await res.json()).toEqual({ issuer: ISSUER, clientId: "dataexchange-web" });
  });

  it("has a Content-Security-Policy without inline script or style, connecting only to itself and the identity provider", () => {
    const csp = webUiContentSecurityPolicy(`${ISSUER}/`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self';");
    expect(csp).toContain("connect-src 'self' http://127.0.0.1:9000;");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe");
    expect(webUiContentSecurityPolicy()).toContain("connect-src 'self';");
  });

  it("answers 404 for paths that are not the UI's — unknown pages, missing assets, hidden files, escapes from the build folder — instead of the shell", async () => {
    for (const path of ["/export-page", "/jobs-page/1", "/assets/index-missing.js", "/.secret", "/assets/.secret", "/assets/x/y.js"]) {
      const res = await fetch(`${s.transfer.url}${path}`);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { code: string }).code).toBe("not_found");
    }
    for (const target of ["/assets/..%2f.secret", "/assets/../.secret", "/..%2f..%2fetc%2fpasswd", "/%2e%2e/package.json"]) {
      const res = await rawRequest(s.transfer.url, { target });
      expect(res.status, target).toBe(404);
      expect(res.body.toString()).not.toContain("hidden");
    }
  });

  it("refuses methods other than GET and HEAD on the UI's paths with 405", async () => {
    const res = await fetch(`${s.transfer.url}/`, { method: "POST", body: "x" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
  });

  it("says the UI is not built (503) when the build is missing, rather than serving nothing silently", async () => {
    const res = await fetch(`${unbuilt.transfer.url}/`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { message: string }).message).toContain("the web UI is not built (no ");
    expect((await fetch(`${unbuilt.transfer.url}/assets/index-abc123.js`)).status).toBe(404);
  });
});

describe("the API beside the UI", () => {
  it("keeps answering its plain HTTP routes and Connect calls on the same port", async () => {
    const jobs = await fetch(`${s.transfer.url}/jobs`);
    expect(jobs.status).toBe(200);
    expect(jobs.headers.get("content-type")).toContain("application/json");
    expect(jobs.headers.get("content-security-policy")).toBeNull();
    const download = await fetch(`${s.transfer.url}/export/csv?entity=courses&fields=code`);
    expect(download.status).toBe(200);
    expect(download.headers.get("content-disposition")).toMatch(/^attachment; filename="courses-/);
    await download.text();
    const missing = await fetch(`${s.transfer.url}/jobs/no-such-job`);
    expect(missing.status).toBe(404);
    const formats = await fetch(`${s.transfer.url}/dataexchange.transfer.v1.TransferService/ListFormats`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(formats.status).toBe(200);
    expect(((await formats.json()) as { formats: { name: string }[] }).formats.map((f) => f.name)).toContain("csv");
    const rpc = await s.connectJson.listFormats({});
    expect(rpc.formats.length).toBeGreaterThan(0);
  });

  it("serves no UI on a transfer service built without one", async () => {
    const plain = await startServices();
    try {
      expect((await fetch(`${plain.transfer.url}/`)).status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});

describe("the real build (dist/web, made by npm run setup)", () => {
  const shell = join(repositoryRoot(), "dist", "web", "index.html");
  it.runIf(existsSync(shell))("has no inline script or style, which the Content-Security-Policy would refuse", () => {
    const html = parse(readFileSync(shell, "utf8"));
    const scripts = html.querySelectorAll("script");
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) {
      expect(script.getAttribute("src")).toMatch(/^\/assets\/[\w-]+\.js$/);
      expect(script.text.trim()).toBe("");
    }
    expect(html.querySelectorAll("style")).toHaveLength(0);
    expect(html.querySelectorAll("[style]")).toHaveLength(0);
  });

  it.runIf(existsSync(shell))("is React's production build with production JSX, whoever ran it (a build under vitest's NODE_ENV=test once mixed the two)", () => {
    const src = parse(readFileSync(shell, "utf8")).querySelector("script")!.getAttribute("src")!;
    const bundle = readFileSync(join(repositoryRoot(), "dist", "web", src), "utf8");
    expect(bundle).not.toContain("jsxDEV");
    expect(bundle).not.toContain("react-dom.development");
  });
});
