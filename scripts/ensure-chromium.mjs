#!/usr/bin/env node
/**
 * Makes sure Debian's Chromium is installed for the browser tests (test/web):
 * `apt-get install -y chromium` when /usr/bin/chromium is missing. Called by
 * the browser tests' setup (test/web/support/browser.ts), so `npm test` on a
 * fresh machine or CI image installs it once and a machine that has it pays
 * nothing; `npm start` never runs it — serving the UI needs no browser.
 *
 * Why Debian's package and not Playwright's downloaded browsers: the test
 * machines have no route to Playwright's CDN, and the distribution's package
 * gets security updates with the rest of the system.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const CHROMIUM = "/usr/bin/chromium";

/** Installs Chromium when missing; returns its path. Throws with apt's own words when it cannot. */
export function ensureChromium() {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  if (process.getuid?.() !== 0) throw new Error(`${CHROMIUM} is missing and this is not root: install it with "sudo apt-get install -y chromium"`);
  process.stderr.write("[browser tests] installing chromium (apt-get install -y chromium)\n");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  try {
    execFileSync("apt-get", ["install", "-y", "--no-install-recommends", "chromium"], { stdio: ["ignore", "ignore", "pipe"], env });
  } catch {
    // A fresh image has no package lists yet.
    execFileSync("apt-get", ["update"], { stdio: ["ignore", "ignore", "pipe"], env });
    execFileSync("apt-get", ["install", "-y", "--no-install-recommends", "chromium"], { stdio: ["ignore", "ignore", "pipe"], env });
  }
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium but ${CHROMIUM} is still missing`);
  return CHROMIUM;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(ensureChromium());
