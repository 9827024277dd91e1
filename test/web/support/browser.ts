/**
 * One headless Chromium per test file (Debian's package, installed by
 * scripts/ensure-chromium.mjs when missing), driven by playwright-core, with
 * a fresh profile folder removed afterwards.
 *
 * The flags: `--no-sandbox` because the tests run as root; no GPU; and no
 * background networking, component updates, sync or QUIC — on the closed
 * test network Chromium's own background connections are refused, and
 * without these flags it stalls on them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { ensureChromium } from "../../../scripts/ensure-chromium.mjs";

export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export interface TestChromium {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** Launches Chromium with a fresh profile and one page at 1280×800. */
export async function launchChromium(): Promise<TestChromium> {
  const executablePath = ensureChromium();
  const profile = mkdtempSync(join(tmpdir(), "dx-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
    timeout: 30_000,
  });
  context.setDefaultTimeout(15_000);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
