/**
 * The web UI in a real browser (Debian's Chromium, headless) against the
 * real stack and the real sign-in: an exporter signs in at the development
 * provider, sees their roles and no import button, previews and downloads a
 * CSV of users (the file's rows checked), finds that export in the job
 * history and its detail, watches a long export's progress and cancels it
 * (its job ends cancelled), finds a running job with the state filter and
 * watches it live in its detail until it cancels it there; then signs out through the provider, and an
 * exporter without `pii` sees the personal columns left out, and why.
 *
 * One browser for the file, one sign-in per person: the steps follow on from
 * each other, as a person's session does. Each page is photographed (see
 * SCREENSHOTS; the README shows the pictures).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repositoryRoot } from "../../services/shared/process/repository-root.js";
import { account, discover, webSignIn } from "../identity/identity-harness.js";
import { TestBrowser } from "../support/test-browser.js";
import { launchChromium, type TestChromium } from "./support/browser.js";
import { importAs, startWebStack, type WebStack } from "./support/web-stack.js";

/**
 * Every page is photographed on every run; `DX_UPDATE_SCREENSHOTS=1` keeps the pictures in
 * docs/screenshots (the README's), otherwise they go to a temporary folder, so that a test run
 * leaves the work tree as it was (the pictures change with every run's times and ids).
 */
const SCREENSHOTS = process.env.DX_UPDATE_SCREENSHOTS === "1" ? join(repositoryRoot(), "docs", "screenshots") : mkdtempSync(join(tmpdir(), "dx-web-screenshots-"));
const USERS = [
  "email,username,firstName,lastName,role,status",
  "ada@example.test,ada,Ada,Lovelace,teacher,active",
  "alan@example.test,alan,Alan,Turing,student,active",
  "grace@example.test,grace,Grace,Hopper,student,suspended",
  "edsger@example.test,edsger,Edsger,Dijkstra,student,active",
].join("\n");

/**
 * Courses for the cancel test: three batches of the records stream (which it
 * slows down), and a description long enough that the file passes the 64 KiB
 * the service sends progress after, more than once, before the end.
 */
const COURSE_COUNT = 1500;
const COURSES = ["code,title,description", ...Array.from({ length: COURSE_COUNT }, (_, i) => `C${String(i).padStart(4, "0")},Course ${i},${"A course description. ".repeat(8)}`)].join("\n");

let stack: WebStack;
let browser: TestChromium;
let page: Page;
/** The export job the download made, found again in the history. */
let exportedFile = "";
let lenientImportUrl = "";

beforeAll(async () => {
  [stack, browser] = await Promise.all([startWebStack(["web_records", "web_jobs"]), launchChromium()]);
  page = browser.page;
  await importAs(stack, "admin", "users", USERS);
  await importAs(stack, "admin", "courses", COURSES);
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
  if (process.env.DX_UPDATE_SCREENSHOTS !== "1") rmSync(SCREENSHOTS, { recursive: true, force: true });
});

async function signIn(username: string): Promise<void> {
  await page.goto(stack.url);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.pathname.startsWith("/interaction/"));
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(account(username).password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("user-name").waitFor();
}

/** `fullPage` for a page taller than the window (the export page: its preview is below the form). */
const screenshot = (name: string, fullPage = false) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage });

describe("an exporter in the web UI", () => {
  it("signs in at the provider with PKCE and comes back with the code gone from the address bar, their name and roles shown", async () => {
    await page.goto(stack.url);
    await screenshot("sign-in");
    await signIn("exporter");
    expect(new URL(page.url()).pathname).toBe("/");
    expect(new URL(page.url()).search).toBe("");
    await expect.poll(() => page.getByTestId("user-name").textContent()).toBe("Eve Exporter");
    expect(await page.locator("ul.roles > li").allTextContents()).toEqual(["exporter", "pii"]);
  });

  it("sees no import button: their roles cannot import", async () => {
    const nav = page.getByRole("navigation", { name: "Pages" });
    expect(await nav.getByRole("link").allTextContents()).toEqual(["Export", "Jobs"]);
  });

  it("previews users with their labels, then downloads them as CSV under the server's file name, with every row", async () => {
    await page.getByLabel("Entity").selectOption({ label: "Users" });
    await page.getByLabel("Format").selectOption("csv");
    const preview = page.getByRole("region", { name: "Preview" });
    await expect.poll(() => preview.locator("tbody tr").count()).toBe(4);
    expect(await preview.locator("thead th").allTextContents()).toEqual(["Email address", "Username", "First name", "Last name", "Role", "Status", "Created at", "Updated at"]);
    expect((await preview.locator("tbody tr td:nth-child(2)").allTextContents()).sort()).toEqual(["ada", "alan", "edsger", "grace"]);
    await screenshot("export", true);

    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download" }).click()]);
    exportedFile = download.suggestedFilename();
    expect(exportedFile).toMatch(/^users-\d{8}-\d{6}\.csv$/);
    const rows = parse(readFileSync(await download.path()), { columns: true, bom: true }) as Record<string, string>[];
    expect(rows.map((r) => [r.Username, r["Email address"], r.Status]).sort()).toEqual([
      ["ada", "ada@example.test", "active"],
      ["alan", "alan@example.test", "active"],
      ["edsger", "edsger@example.test", "active"],
      ["grace", "grace@example.test", "suspended"],
    ]);
    await expect.poll(() => page.getByRole("status").textContent()).toBe(`Downloaded ${exportedFile} (4 records)`);
  });

  it("narrows the preview with a filter", async () => {
    await page.locator("select[name=status]").selectOption("suspended");
    const preview = page.getByRole("region", { name: "Preview" });
    await expect.poll(() => preview.locator("tbody tr td:nth-child(2)").allTextContents()).toEqual(["grace"]);
    await page.locator("select[name=status]").selectOption("");
  });

  it("downloads with the format's options set from its schema: a semicolon-separated CSV; an option the format refuses is said and holds the download back", async () => {
    await page.locator("select[name=status]").selectOption("suspended");
    // Folded away until asked for: most downloads take the format's defaults.
    expect(await page.getByRole("group", { name: /^CSV .*options$/ }).count()).toBe(0);
    await page.getByText("Format options", { exact: true }).click();
    await page.getByLabel("delimiter", { exact: true }).fill(";;");
    expect(await page.getByText("must be at most 1 character").count()).toBe(1);
    expect(await page.getByRole("button", { name: "Download" }).isDisabled()).toBe(true);
    await page.getByLabel("delimiter", { exact: true }).fill(";");
    await expect.poll(() => page.getByRole("button", { name: "Download" }).isDisabled()).toBe(false);
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download" }).click()]);
    const text = readFileSync(await download.path(), "utf8").replace(/^\uFEFF/, "");
    const [header, ...rows] = text.trimEnd().split(/\r?\n/);
    expect(header).toBe("Email address;Username;First name;Last name;Role;Status;Created at;Updated at");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(/^grace@example\.test;grace;/);
    // Another format starts from its own defaults: nothing set for CSV is carried over.
    await page.getByLabel("Format").selectOption("ndjson");
    await expect.poll(() => page.getByText(/^Format options$/).count()).toBe(1);
    await page.getByLabel("Format").selectOption("csv");
    await page.locator("select[name=status]").selectOption("");
  });

  it("finds the export in the job history, succeeded with its count, and opens its detail", async () => {
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Jobs" }).click();
    const table = page.locator("table.jobs");
    await table.waitFor();
    const downloaded = table.locator("tbody tr", { hasText: "4 exported" }).filter({ hasText: "csv" });
    await expect.poll(() => downloaded.count()).toBe(1);
    expect(await downloaded.locator(".badge").textContent()).toBe("succeeded");
    expect(await downloaded.locator("td").nth(7).textContent()).toBe("exporter");
    await screenshot("jobs");

    await downloaded.getByRole("link", { name: "Details" }).click();
    const facts = page.locator("dl.facts");
    await facts.waitFor();
    expect(await facts.textContent()).toContain("export of users as csv");
    expect(await facts.textContent()).toContain("Counts4 exported");
    expect(await facts.locator("code").textContent()).toMatch(/^[0-9a-f]{64}$/);
    await screenshot("job-detail");
  });

  it("shows a long export's progress of the estimate, and Cancel ends it: the job is cancelled", async () => {
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Export" }).click();
    // Sessions: the fields the records hold are picked to begin with; a joined one (the course's title) is offered, unpicked, as an export that names no fields has it.
    await page.getByLabel("Entity").selectOption({ label: "Sessions" });
    const fields = page.getByRole("group", { name: "Fields" });
    await expect.poll(() => fields.getByRole("checkbox", { name: /^Session id/ }).isChecked()).toBe(true);
    expect(await fields.getByRole("checkbox", { name: /^Course title/ }).isChecked()).toBe(false);
    // Nor is it offered to sort by: the records service sorts the records it reads, before any join.
    const sortOptions = await page.locator("select[name=sort] option").allTextContents();
    expect(sortOptions).toContain("Started at");
    expect(sortOptions).not.toContain("Course title");
    await page.getByLabel("Entity").selectOption({ label: "Courses" });
    const preview = page.getByRole("region", { name: "Preview" });
    await expect.poll(() => preview.locator("tbody tr").count()).toBe(20);
    stack.slowRecords.delayMs = 1000;
    try {
      await page.getByRole("button", { name: "Download" }).click();
      const status = page.getByRole("status");
      await expect.poll(() => status.textContent(), { timeout: 10_000 }).toMatch(new RegExp(`^[1-9]\\d* of about ${COURSE_COUNT} records$`));
      expect(await page.locator('progress[aria-label="Export progress"]').getAttribute("max")).toBe(String(COURSE_COUNT));
      await screenshot("export-progress");
      await page.getByRole("button", { name: "Cancel" }).click();
      await expect.poll(() => status.textContent()).toBe("Cancelled.");
    } finally {
      stack.slowRecords.delayMs = 0;
    }
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Jobs" }).click();
    const cancelled = page.locator("table.jobs tbody tr", { hasText: "courses" }).filter({ hasText: "csv" });
    // The job ends a moment after the call does: read the list again until it has.
    await expect
      .poll(async () => {
        await page.getByRole("button", { name: "Refresh" }).click();
        return cancelled.locator(".badge").allTextContents();
      })
      .toEqual(["cancelled"]);
  });

  it("finds a running job with the state filter, watches its counts grow in its detail, and cancels it there", async () => {
    // An export the same person runs elsewhere (curl, say), slowed down so that it runs for a while.
    const token = (await webSignIn(await discover(stack.identity.issuer), new TestBrowser(), "exporter")).access_token;
    stack.slowRecords.delayMs = 1000;
    let download: Promise<unknown> | undefined;
    try {
      const res = await fetch(`${stack.services.transfer.url}/export/csv?entity=courses`, { headers: { authorization: `Bearer ${token}` } });
      const jobId = res.headers.get("x-job-id")!;
      download = res.text().catch(() => undefined);
      await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Jobs" }).click();
      await page.locator("select[name=state]").selectOption({ label: "running" });
      await expect.poll(() => page.locator("table.jobs tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-job-id")))).toEqual([jobId]);
      await page.locator(`tr[data-job-id="${jobId}"]`).getByRole("link", { name: "Details" }).click();
      const facts = page.locator("dl.facts");
      await expect.poll(() => facts.locator(".badge").textContent()).toBe("running");
      expect(await page.getByText("updating live").count()).toBe(1);
      await expect.poll(() => facts.textContent(), { timeout: 10_000 }).toMatch(/Counts[1-9]\d* exported/);
      await screenshot("job-running");
      await page.getByRole("button", { name: "Cancel job" }).click();
      await expect.poll(() => facts.locator(".badge").textContent(), { timeout: 10_000 }).toBe("cancelled");
      expect(await page.getByText("updating live").count()).toBe(0);
      expect(await page.getByRole("button", { name: "Cancel job" }).count()).toBe(0);
    } finally {
      stack.slowRecords.delayMs = 0;
      await download;
    }
  });
});

describe("signing out, and an exporter without pii", () => {
  it("signs out through the provider's end_session page and comes back signed out", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Sign out" }).click(); // the provider's confirmation
    await page.goto(stack.url);
    await page.getByRole("button", { name: "Sign in" }).waitFor();
  });

  it("shows the analyst (no pii) the personal columns left out, and why", async () => {
    await signIn("analyst");
    expect(await page.locator("ul.roles > li").allTextContents()).toEqual(["exporter"]);
    await expect.poll(() => page.getByRole("note").textContent()).toContain("Personal fields are left out: your roles do not include pii (Email address, First name, Last name)");
    const preview = page.getByRole("region", { name: "Preview" });
    await expect.poll(() => preview.locator("tbody tr").count()).toBe(4);
    expect(await preview.locator("thead th").allTextContents()).toEqual(["Username", "Role", "Status", "Created at", "Updated at"]);
    await screenshot("export-without-pii");
  });

  it("shows an importer each row's outcome, an update without the stored values an importer may not read, and says so", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Sign out" }).click();
    await signIn("importer");
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Import" }).click();
    const csv = "email,username,firstName,lastName,role,status\nada@example.test,ada,Ada,Byron,teacher,active\nkim@example.test,kim,Kim,Lee,student,active\n";
    await page.locator("input[type=file]").setInputFiles({ name: "changes.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    const preview = page.getByRole("region", { name: "Import preview" });
    await expect.poll(() => preview.locator("tbody .badge").allTextContents()).toEqual(["update", "new"]);
    expect(await page.getByTestId("changes-withheld").textContent()).toMatch(/^Updates are shown without their changes: permission denied: read on users needs one of the roles admin, exporter/);
    expect(await preview.textContent()).not.toContain("Lovelace");
  });

  it("lets an admin map a renamed column, preview each row's outcome, and import leniently: the bad row is reported, the others written", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Sign out" }).click();
    await signIn("admin");
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Import" }).click();
    const csv = "E-mail,Login name,Status\nkat@example.test,kat,active\nnot-an-email,lin,active\nmo@example.test,mo,suspended\n";
    await page.locator("input[type=file]").setInputFiles({ name: "people.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    await page.getByLabel("Field for Login name").waitFor();
    await page.getByLabel("Field for E-mail").selectOption("email");
    await page.getByLabel("Field for Login name").selectOption("username");
    await page.getByLabel("Field for Status").selectOption("status");
    expect(await page.getByTestId("detected").textContent()).toMatch(/^Read as csv.*3 columns\.$/);
    const preview = page.getByRole("region", { name: "Import preview" });
    await expect.poll(() => preview.locator("tbody .badge").allTextContents()).toEqual(["new", "error", "new"]);
    expect(await preview.locator("tbody tr").nth(1).textContent()).toContain("email");
    expect(await preview.locator("thead th").allTextContents()).toEqual(["Row", "Outcome", "email", "username", "status", "What changes / why not"]);
    await screenshot("import");

    await page.getByRole("button", { name: "Import" }).click();
    await page.waitForURL(/#\/jobs\/[\w-]+$/);
    const facts = page.locator("dl.facts");
    await expect.poll(() => facts.locator(".badge").textContent(), { timeout: 10_000 }).toBe("succeeded");
    expect(await facts.textContent()).toContain("3 read, 2 new, 0 updated, 1 failed");
    expect(await facts.locator("li").allTextContents()).toEqual([expect.stringMatching(/^row 2 \(E-mail\): /)]);
    expect(await facts.textContent()).toContain("Can be undone until");
    lenientImportUrl = page.url();
    await screenshot("import-job");

    const [failed] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download failed rows" }).click()]);
    expect(failed.suggestedFilename()).toMatch(/failed.*\.csv$/);
    const rows = parse(readFileSync(await failed.path()), { columns: true, bom: true }) as Record<string, string>[];
    expect(rows.map((r) => [r["E-mail"], r["Login name"], r._row])).toEqual([["not-an-email", "lin", "2"]]);
    expect(rows[0]!._errors).toContain("email");
  });

  it("writes nothing in strict mode when a row is bad", async () => {
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Import" }).click();
    const csv = "email,username\nnat@example.test,nat\nbroken,oz\n";
    await page.locator("input[type=file]").setInputFiles({ name: "strict.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    await page.getByLabel("strict").check();
    const preview = page.getByRole("region", { name: "Import preview" });
    await expect.poll(() => preview.locator("tbody .badge").allTextContents()).toEqual(["new", "error"]);
    await page.getByRole("button", { name: "Import" }).click();
    await page.waitForURL(/#\/jobs\/[\w-]+$/);
    const facts = page.locator("dl.facts");
    await expect.poll(() => facts.locator(".badge").textContent(), { timeout: 10_000 }).toBe("failed");
    expect(await facts.textContent()).toContain("strict import: 1 row(s) were rejected, so nothing was written");
    expect(await facts.textContent()).toMatch(/0 new, 0 updated/);
    // nat was not written: the user list has no such record.
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Export" }).click();
    const users = page.getByRole("region", { name: "Preview" });
    await expect.poll(() => users.locator("tbody tr td:nth-child(2)").allTextContents()).toContain("kat");
    expect(await users.locator("tbody tr td:nth-child(2)").allTextContents()).not.toContain("nat");
  });

  it("undoes the lenient import from its job's page, after asking once more: a revert job deletes the two users it inserted", async () => {
    await page.goto(lenientImportUrl);
    const facts = page.locator("dl.facts");
    await expect.poll(() => facts.textContent()).toContain("Can be undone until");
    await page.getByRole("button", { name: "Undo import" }).click();
    await page.getByRole("button", { name: "Keep it" }).click();
    expect(await page.getByRole("button", { name: "Undo it" }).count()).toBe(0);
    await page.getByRole("button", { name: "Undo import" }).click();
    await page.getByRole("button", { name: "Undo it" }).click();
    await page.waitForURL((url) => url.href !== lenientImportUrl && /#\/jobs\/[\w-]+$/.test(url.href));
    await expect.poll(() => facts.locator(".badge").textContent(), { timeout: 10_000 }).toBe("succeeded");
    expect(await facts.textContent()).toContain("revert of users");
    expect(await facts.textContent()).toContain("0 restored, 2 deleted, 0 unchanged, 0 refused");
    expect(await facts.textContent()).toContain(`import ${lenientImportUrl.split("/").pop()}`);
    await screenshot("revert-job");
    // The import's own page now links its revert and offers no second undo.
    await page.goto(lenientImportUrl);
    await expect.poll(() => facts.textContent()).toContain("Undone by");
    expect(await page.getByRole("button", { name: "Undo import" }).count()).toBe(0);
    // kat and mo, the two it inserted, are gone.
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Export" }).click();
    const users = page.getByRole("region", { name: "Preview" });
    await expect.poll(() => users.locator("tbody tr").count()).toBeGreaterThan(0);
    expect(await users.locator("tbody tr td:nth-child(2)").allTextContents()).not.toContain("kat");
    expect(await users.locator("tbody tr td:nth-child(2)").allTextContents()).not.toContain("mo");
  });
});

describe("an admin importing with transforms, a chosen format and the upload's progress", () => {
  /** An admin's token for reading back what the imports stored, as another client of the service would. */
  async function adminToken(): Promise<string> {
    return (await webSignIn(await discover(stack.identity.issuer), new TestBrowser(), "admin")).access_token;
  }

  /** Every record of `entity` as the service exports it (NDJSON), by `key`. */
  async function stored(entity: string, key: string): Promise<Map<string, Record<string, unknown>>> {
    const res = await fetch(`${stack.services.transfer.url}/export/ndjson?entity=${entity}`, { headers: { authorization: `Bearer ${await adminToken()}` } });
    expect(res.status).toBe(200);
    const records = (await res.text())
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    return new Map(records.map((r) => [String(r[key]), r]));
  }

  async function pickFile(name: string, content: string, entity = "Users"): Promise<void> {
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Import" }).click();
    await page.getByLabel("Entity").selectOption({ label: entity });
    await page.locator("input[type=file]").setInputFiles({ name, mimeType: "text/csv", buffer: Buffer.from(content) });
  }

  /** The preview's outcomes once it shows the current settings (not while it loads or waits for a fix). */
  async function outcomes(): Promise<string[] | "busy"> {
    const preview = page.getByRole("region", { name: "Import preview" });
    if ((await preview.getAttribute("aria-busy")) !== "false") return "busy";
    return preview.locator("tbody .badge").allTextContents();
  }

  async function addTransform(column: string, kind: string): Promise<void> {
    await page.getByLabel(`Transform to add to ${column}`).selectOption(kind);
    await page.getByRole("button", { name: `Add transform to ${column}` }).click();
  }

  it("signs in as admin (a session of its own: the provider's cookies cleared first)", async () => {
    await browser.context.clearCookies();
    await signIn("admin");
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Import" }).click();
    // Before a file: the empty state, and no mapping or preview yet.
    await expect.poll(() => page.getByText("Pick a file to see what importing it would do.").count()).toBe(1);
    expect(await page.getByRole("region", { name: "Import preview" }).count()).toBe(0);
  });

  it("trims and lowercases an email and maps another system's states through a value map: the preview and the stored users show the transformed values", async () => {
    const csv = 'Mail,Login,State\n"  Zoe@Example.TEST  ",zoe,open\n" Yan@EXAMPLE.test",yan,GONE\n';
    await pickFile("other-system.csv", csv);
    await page.getByLabel("Field for Login").waitFor();
    await page.getByLabel("Field for Mail").selectOption("email");
    await page.getByLabel("Field for Login").selectOption("username");
    await page.getByLabel("Field for State").selectOption("status");
    await addTransform("Mail", "trim");
    await addTransform("Mail", "lowercase");
    await addTransform("State", "map");
    // An empty value map is refused beside it, and holds the import back.
    await expect.poll(() => page.getByRole("group", { name: "Transforms of State" }).textContent()).toContain("Map at least one value.");
    expect(await page.getByRole("button", { name: "Import" }).isDisabled()).toBe(true);
    await page.getByLabel("State, step 1: value 1 in the file").fill("Open");
    await page.getByLabel("State, step 1: value 1 becomes").fill("active");
    await page.getByRole("button", { name: "State, step 1: add a value" }).click();
    await page.getByLabel("State, step 1: value 2 in the file").fill("gone");
    await page.getByLabel("State, step 1: value 2 becomes").fill("suspended");
    // "open" and "GONE" are in the file: without ignoring case they are not in the map.
    const preview = page.getByRole("region", { name: "Import preview" });
    await expect.poll(outcomes).toEqual(["error", "error"]);
    expect(await preview.locator("tbody tr").first().textContent()).toContain("is not in the value map");
    await page.getByLabel("State, step 1: ignore case").check();
    await expect.poll(outcomes).toEqual(["new", "new"]);
    expect(await preview.locator("tbody tr").evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll("td")].slice(2, 5).map((td) => td.textContent)))).toEqual([
      ["zoe@example.test", "zoe", "active"],
      ["yan@example.test", "yan", "suspended"],
    ]);
    await screenshot("import-transforms");

    await page.getByRole("button", { name: "Import" }).click();
    await page.waitForURL(/#\/jobs\/[\w-]+$/);
    const facts = page.locator("dl.facts");
    await expect.poll(() => facts.locator(".badge").textContent(), { timeout: 15_000 }).toBe("succeeded");
    expect(await facts.textContent()).toContain("Counts2 read, 2 new, 0 updated");
    const users = await stored("users", "username");
    expect([users.get("zoe"), users.get("yan")].map((u) => [u?.email, u?.status])).toEqual([
      ["zoe@example.test", "active"],
      ["yan@example.test", "suspended"],
    ]);
  });

  it("reads a start date in a local format and time zone, an empty format and one the service refuses said beside the step and blocking, and stores the instants", async () => {
    await pickFile("dated-courses.csv", "Code,Name,Starts\nDT-1,Dated course,31/01/2025 09:30\nDT-2,Summer course,01/07/2025 09:30\n", "Courses");
    await page.getByLabel("Field for Starts").waitFor();
    await page.getByLabel("Field for Code").selectOption("code");
    await page.getByLabel("Field for Name").selectOption("title");
    await page.getByLabel("Field for Starts").selectOption("startDate");
    await addTransform("Starts", "date");
    const format = page.getByLabel("Starts, step 1: date format");
    expect(await format.getAttribute("aria-invalid")).toBe("true");
    expect(await page.getByText("A date format is required, e.g. DD/MM/YYYY.").count()).toBe(1);
    expect(await page.getByRole("note").filter({ hasText: "Fix the transforms of Starts to preview and import." }).count()).toBe(1);
    expect(await page.getByRole("button", { name: "Import" }).isDisabled()).toBe(true);
    await page.getByLabel("Starts, step 1: time zone").fill("Europe/Atlantis");
    expect(await page.getByText('"Europe/Atlantis" is not an IANA time zone, e.g. Europe/Paris.').count()).toBe(1);
    await page.getByLabel("Starts, step 1: time zone").fill("Europe/Paris");
    // A format the service's date parser refuses (no year): its reason beside the step, and nothing to import.
    await format.fill("DD/MM");
    const step = page.getByRole("group", { name: "Transforms of Starts" }).getByRole("listitem");
    await expect.poll(() => step.getByRole("alert").textContent()).toBe("needs a year (YYYY or YY), a month (M, MM, MMM or MMMM) and a day (D or DD), or X or x alone");
    expect(await page.getByRole("button", { name: "Import" }).isDisabled()).toBe(true);
    await format.fill("DD/MM/YYYY HH:mm");
    const preview = page.getByRole("region", { name: "Import preview" });
    await expect.poll(outcomes).toEqual(["new", "new"]);
    // Paris is an hour ahead of UTC in January and two in July.
    expect(await preview.textContent()).toContain("2025-01-31T08:30:00");
    expect(await preview.textContent()).toContain("2025-07-01T07:30:00");

    await page.getByRole("button", { name: "Import" }).click();
    await page.waitForURL(/#\/jobs\/[\w-]+$/);
    await expect.poll(() => page.locator("dl.facts .badge").textContent(), { timeout: 15_000 }).toBe("succeeded");
    const courses = await stored("courses", "code");
    expect([courses.get("DT-1")?.startDate, courses.get("DT-2")?.startDate]).toEqual(["2025-01-31T08:30:00.000Z", "2025-07-01T07:30:00.000Z"]);
  });

  it("takes a dropped file, shows the format it detected and the CSV options it offers, and reads the file again with the options set", async () => {
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Import" }).click();
    const dropped = await page.evaluateHandle(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(["email;username\nsemi@example.test;semi\n"], "semicolons.csv", { type: "text/csv" }));
      return transfer;
    });
    await page.locator(".drop-zone").dispatchEvent("drop", { dataTransfer: dropped });
    await expect.poll(() => page.getByTestId("detected").textContent()).toMatch(/^Read as csv\b.*delimiter ";"; 2 columns\.$/);
    // The options are folded away until asked for.
    expect(await page.getByRole("group", { name: /^CSV .*options$/ }).count()).toBe(0);
    await page.getByText("Format options", { exact: true }).click();
    expect(await page.getByRole("group", { name: /^CSV .*options$/ }).count()).toBe(1);
    // A delimiter the file does not use: one column, which no field fits.
    await page.getByLabel("delimiter", { exact: true }).fill(",");
    await expect.poll(() => page.getByTestId("detected").textContent()).toMatch(/; 1 columns\.$/);
    await page.getByLabel("delimiter", { exact: true }).fill(",,");
    expect(await page.getByText("must be at most 1 character").count()).toBe(1);
    expect(await page.getByRole("button", { name: "Import" }).isDisabled()).toBe(true);
    await page.getByLabel("delimiter", { exact: true }).fill(";");
    await expect.poll(() => page.getByTestId("detected").textContent()).toMatch(/; 2 columns\.$/);
    // Naming a format: NDJSON cannot read these lines.
    await page.locator("select[name=format]").selectOption("ndjson");
    await expect.poll(() => page.getByRole("alert").count()).toBeGreaterThan(0);
    expect(await page.getByRole("button", { name: "Import" }).isDisabled()).toBe(true);
  });

  it("keeps the mapping and the preview in place while a new preview loads: nothing above or at the preview moves when its answer arrives", async () => {
    await pickFile("steady.csv", "email,username,firstName,lastName,role,status\nsteady1@example.test,steady1,Ste,Ady,student,active\nsteady2@example.test,steady2,Ste,Ady,student,active\n");
    await expect.poll(() => outcomes()).toEqual(["new", "new"]);
    // Every place the Import button and the preview's top take, at every change of the page, until the new preview is in.
    await page.evaluate(() => {
      const places: string[] = [];
      (window as unknown as { places: string[] }).places = places;
      const note = () => {
        const button = [...document.querySelectorAll("button")].find((b) => b.textContent === "Import");
        const preview = document.querySelector('[aria-label="Import preview"]');
        const busy = preview?.getAttribute("aria-busy");
        places.push(`${busy} ${button?.getBoundingClientRect().top} ${preview?.getBoundingClientRect().top}`);
      };
      note();
      new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    });
    await page.locator("select[name=mode]").selectOption({ label: "insert: an existing key is an error" });
    await expect.poll(() => page.evaluate(() => (window as unknown as { places: string[] }).places.some((p) => p.startsWith("true")))).toBe(true);
    await expect.poll(() => outcomes()).toEqual(["new", "new"]);
    const places = await page.evaluate(() => (window as unknown as { places: string[] }).places);
    const spots = new Set(places.map((p) => p.split(" ").slice(1).join(" ")));
    expect([...spots], places.join("\n")).toHaveLength(1);
    await page.locator("select[name=mode]").selectOption({ label: "upsert: insert new, replace existing" });
  });

  it("says the service's refusal of an upload where the upload was started, keeps the page as it was, and lets the person try again", async () => {
    // The service's answer is stood in for (a proxy's 413, say): what is tested is the page's side of a refused upload.
    await page.route("**/import?async=true", (route) =>
      route.fulfill({ status: 413, contentType: "application/json", body: JSON.stringify({ code: "resource_exhausted", message: "the upload is larger than this service takes (10 MB)" }) }),
    );
    try {
      await pickFile("refused.csv", "email,username,firstName,lastName,role,status\nrefused@example.test,refused,Re,Fused,student,active\n");
      await expect.poll(() => outcomes()).toEqual(["new"]);
      await page.getByRole("button", { name: "Import" }).click();
      const alert = page.locator(".actions [role=alert]");
      await expect.poll(() => alert.textContent()).toBe("the upload is larger than this service takes (10 MB)");
      expect(page.url()).toMatch(/#\/import$/);
      expect(await page.getByRole("button", { name: "Import" }).isDisabled()).toBe(false);
    } finally {
      await page.unroute("**/import?async=true");
    }
  });

  /** The import jobs the service lists, newest first, as the admin sees them. */
  async function importJobs(query = ""): Promise<{ id: string; fileName?: string; state: string; requestId?: string }[]> {
    const res = await fetch(`${stack.services.transfer.url}/jobs?kind=import&page_size=100${query}`, { headers: { authorization: `Bearer ${await adminToken()}` } });
    expect(res.status).toBe(200);
    return ((await res.json()) as { jobs: { id: string; fileName?: string; state: string; requestId?: string }[] }).jobs;
  }

  it("shows the upload's bytes as they are sent, up to all of them, then the job's bytes read of the file and its rows; Cancel during an upload stops it and starts no job", async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => `bulk${i}@example.test,bulk${i},Bulk,User ${i},student,active`);
    const csv = ["email,username,firstName,lastName,role,status", ...rows].join("\n");
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send("Network.enable");
    const throttle = (bytesPerSecond: number) => cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bytesPerSecond });
    try {
      await pickFile("bulk-users.csv", csv);
      await page.getByLabel("dry run").check();
      const preview = page.getByRole("region", { name: "Import preview" });
      await expect.poll(() => preview.locator("tbody .badge").count()).toBe(20);
      // Every state the progress bar goes through, as the page shows it (the page moves on to the job when the upload is answered).
      await page.evaluate(() => {
        const seen: [number, number][] = [];
        (window as unknown as { uploadSeen: typeof seen }).uploadSeen = seen;
        new MutationObserver(() => {
          const bar = document.querySelector<HTMLProgressElement>('progress[aria-label="Upload progress"]');
          if (bar && (seen.length === 0 || seen.at(-1)![0] !== bar.value)) seen.push([bar.value, bar.max]);
        }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
      });
      // A slow uplink, so that the upload takes a few seconds.
      await throttle(40_000);
      await page.getByRole("button", { name: "Dry run" }).click();
      await expect.poll(() => page.getByRole("status").textContent()).toMatch(/^Uploading \d/);
      await screenshot("import-upload");
      await page.waitForURL(/#\/jobs\/[\w-]+$/, { timeout: 30_000 });
      await throttle(-1);
      const facts = page.locator("dl.facts");
      await expect.poll(() => facts.locator(".badge").textContent(), { timeout: 30_000 }).toBe("succeeded");
      expect(await facts.textContent()).toContain("3000 read");
      // Then the job's own bar: the file's bytes read of its size (the service spooled the upload first), all of them at the end.
      const read = facts.locator('progress[aria-label="Import progress"]');
      expect(await read.evaluate((p: HTMLProgressElement) => [p.value, p.max])).toEqual([Buffer.byteLength(csv), Buffer.byteLength(csv)]);
      expect(await facts.textContent()).toMatch(/100% of [\d.]+ kB, 3000 rows read/);
      const seen = await page.evaluate(() => (window as unknown as { uploadSeen: [number, number][] }).uploadSeen);
      const total = seen.at(-1)![1];
      expect(total).toBeGreaterThan(csv.length);
      expect(seen.some(([sent]) => sent > 0 && sent < total)).toBe(true);
      expect(seen.at(-1)).toEqual([total, total]);
      expect(seen.map(([sent]) => sent)).toEqual(seen.map(([sent]) => sent).sort((a, b) => a - b));

      // Cancelled part-way: the page says so and the service started no job for it.
      await pickFile("cancelled-upload.csv", csv);
      await page.getByLabel("dry run").check();
      await expect.poll(() => preview.locator("tbody .badge").count()).toBe(20);
      await throttle(20_000);
      await page.getByRole("button", { name: "Dry run" }).click();
      const bar = page.locator('progress[aria-label="Upload progress"]');
      await expect.poll(() => bar.evaluate((p: HTMLProgressElement) => p.value > 0 && p.value < p.max)).toBe(true);
      await page.getByRole("button", { name: "Cancel upload" }).click();
      await expect.poll(() => page.getByRole("status").textContent()).toMatch(/^(Upload cancelled: nothing was imported\.|The whole file had reached the service)/);
      await throttle(-1);
      expect(page.url()).toMatch(/#\/import$/);
      const said = (await page.getByRole("status").textContent()) ?? "";
      const listed = await importJobs();
      expect(listed.map((j) => j.fileName)).toContain("bulk-users.csv");
      // Part-way is nearly always before the whole file is in; a Cancel slower than the last bytes (a loaded machine) must then be said, not hidden.
      const started = listed.filter((j) => j.fileName === "cancelled-upload.csv");
      if (said.startsWith("Upload cancelled")) expect(started).toEqual([]);
      else expect(said).toContain(started[0]!.id);
    } finally {
      await throttle(-1).catch(() => undefined);
      await cdp.detach().catch(() => undefined);
    }
  });

  it("says so when Cancel comes after the service had started the job: the answer was on its way, and the page names the job instead of saying nothing was imported", async () => {
    // The service's 202 is held back until the job has ended, and the person cancels meanwhile: what a Cancel pressed as the last bytes left can meet.
    let requestId = "";
    let held: (() => void) | undefined;
    await page.route("**/import?async=true", async (route) => {
      requestId = route.request().headers()["x-request-id"] ?? "";
      const response = await route.fetch();
      await new Promise<void>((release) => {
        held = release;
      });
      await route.fulfill({ response }).catch(() => undefined); // the page has aborted the request by then
    });
    try {
      await pickFile("late-cancel.csv", "email,username,firstName,lastName,role,status\nlate@example.test,late,Late,Cancel,student,active\n");
      await page.getByLabel("dry run").check();
      await expect.poll(() => outcomes()).toEqual(["new"]);
      await page.getByRole("button", { name: "Dry run" }).click();
      await expect.poll(() => held !== undefined, { timeout: 30_000 }).toBe(true);
      expect(requestId).toMatch(/^[0-9a-f]{32}$/);
      await expect.poll(async () => (await importJobs(`&request_id=${requestId}`)).map((j) => j.state), { timeout: 30_000 }).toEqual(["succeeded"]);
      const [job] = await importJobs(`&request_id=${requestId}`);
      expect(job).toMatchObject({ fileName: "late-cancel.csv", requestId });
      await page.getByRole("button", { name: "Cancel upload" }).click();
      const status = page.locator(".actions [role=status]");
      await expect
        .poll(() => status.textContent())
        .toBe(`The whole file had reached the service before the Cancel, and job ${job!.id} had started; it had already ended (succeeded). Its page shows what it checked.`);
      expect(page.url()).toMatch(/#\/import$/);
      await status.getByRole("link", { name: `job ${job!.id}` }).click();
      await page.waitForURL(new RegExp(`#/jobs/${job!.id}$`));
    } finally {
      held?.();
      await page.unroute("**/import?async=true");
    }
  });
});

/** Signs out of the app (and the provider) when someone is signed in, then signs in as `username`. */
async function signInAs(username: string): Promise<void> {
  // No reload first: a reload forgets the app's tokens, but not the provider's session.
  if ((await page.getByTestId("user-name").count()) > 0) {
    await page.getByRole("banner").getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Sign out" }).click(); // the provider's confirmation
  }
  await signIn(username);
}

const nav = () => page.getByRole("navigation", { name: "Pages" });
/** The day (yyyy-mm-dd) of a time as the UI shows it ("2026-12-01 15:04:05 UTC"), and the day after. */
const dayOf = (shown: string) => shown.slice(0, 10);
const dayAfter = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

describe("ordered fields, the audit trail, job filters, the keyboard and a narrow window", () => {
  /** The fields of the reordered export, in the order picked, as the audit trail lists them. */
  const ORDERED = ["email", "status", "username"];

  it("gives an exporter no Audit link, and tells them at #/audit which roles read the trail", async () => {
    await signInAs("exporter");
    expect(await nav().getByRole("link").allTextContents()).toEqual(["Export", "Jobs"]);
    await page.evaluate(() => {
      window.location.hash = "#/audit";
    });
    await expect.poll(() => page.getByRole("note").textContent()).toBe("Reading the audit trail needs the auditor or admin role; your roles do not include it.");
    expect(await page.locator("table").count()).toBe(0);
  });

  it("exports users with the fields picked and moved with the keyboard: the preview and the CSV have the columns in that order", async () => {
    await nav().getByRole("link", { name: "Export" }).click();
    await page.getByLabel("Entity").selectOption({ label: "Users" });
    await page.getByLabel("Format").selectOption("csv");
    await page.getByRole("button", { name: "None" }).click();
    for (const label of [/^Username/, /^Email address/, /^Status/]) await page.getByRole("checkbox", { name: label }).check();
    const order = page.getByRole("list", { name: "Column order" });
    expect(await order.locator("li").evaluateAll((items) => items.map((li) => li.getAttribute("data-field")))).toEqual(["username", "email", "status"]);
    // Two presses of Enter on one button: the focus follows the field down (React moves its list item in the DOM).
    await page.getByRole("button", { name: "Move Username down" }).focus();
    await page.keyboard.press("Enter");
    await page.keyboard.press("Enter");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("Move Username down");
    expect(await order.locator("li").evaluateAll((items) => items.map((li) => li.getAttribute("data-field")))).toEqual(ORDERED);

    const preview = page.getByRole("region", { name: "Preview" });
    await expect.poll(() => preview.locator("thead th").allTextContents()).toEqual(["Email address", "Status", "Username"]);
    await expect.poll(() => preview.locator("tbody tr").count()).toBeGreaterThan(0);
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download" }).click()]);
    const [header, ...rows] = parse(readFileSync(await download.path()), { bom: true }) as string[][];
    expect(header).toEqual(["Email address", "Status", "Username"]);
    expect(rows.find((r) => r[2] === "grace")).toEqual(["grace@example.test", "suspended", "grace"]);
  });

  it("reaches every control of the export form with Tab, each one named and its focus visible, down to Download", async () => {
    await page.getByLabel("Entity").focus();
    const visited: { tag: string; name: string; outline: string }[] = [];
    for (let i = 0; i < 60; i++) {
      const focused = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        if (!el || el === document.body) return undefined;
        const labelled = (el as HTMLInputElement).labels?.[0]?.textContent ?? "";
        const name = (el.getAttribute("aria-label") ?? (labelled || el.textContent) ?? "").trim();
        return { tag: el.tagName.toLowerCase(), name, outline: getComputedStyle(el).outlineStyle };
      });
      if (!focused) break;
      visited.push(focused);
      if (focused.tag === "button" && focused.name === "Download") break;
      await page.keyboard.press("Tab");
    }
    expect(visited.at(-1)).toMatchObject({ tag: "button", name: "Download" });
    expect(visited.filter((v) => v.name === "")).toEqual([]);
    // The first was focused by the test, not by Tab: only keyboard focus is drawn.
    expect(visited.slice(1).filter((v) => v.outline === "none")).toEqual([]);
    // On the way: the field checkboxes, the move buttons, the filters, sort and limit.
    const names = visited.map((v) => v.name);
    for (const name of ["Move Email address up", "Move Status down", "Sort by", "Limit"])
      expect(
        names.some((n) => n.startsWith(name)),
        name,
      ).toBe(true);
  });

  it("shows an auditor the Audit page with that export, found with the action filter, and its job", async () => {
    await signInAs("auditor");
    expect(await nav().getByRole("link").allTextContents()).toEqual(["Export", "Jobs", "Audit"]);
    await nav().getByRole("link", { name: "Audit" }).click();
    const table = page.locator("table.audit-events");
    await table.waitFor();
    const rows = table.locator("tbody tr");
    // A dry-run import reads "import (dry run)": still an import.
    const actions = async () => [...new Set((await rows.locator("td:nth-child(3)").allTextContents()).map((a) => a.replace(/ \(dry run\)$/, "")))];
    await page.getByLabel("Action").selectOption({ label: "import" });
    await expect.poll(actions).toEqual(["import"]);
    await page.getByLabel("Action").selectOption({ label: "export" });
    await expect.poll(actions).toEqual(["export"]);
    // The download, not its previews (NDJSON exports of the same fields).
    const ours = rows
      .filter({ hasText: ORDERED.join(", ") })
      .filter({ hasText: "exporter" })
      .filter({ hasText: "csv" });
    await expect.poll(() => ours.count()).toBeGreaterThan(0);
    expect(await ours.first().locator(".badge").textContent()).toBe("succeeded");
    expect(await ours.first().locator("td:nth-child(4)").textContent()).toBe("users");
    // The importer exported nothing.
    await page.getByLabel("Who").fill("importer");
    await expect.poll(() => page.getByText("No event matches these filters.").count()).toBe(1);
    await page.getByLabel("Who").fill("exporter");
    await expect.poll(() => ours.count()).toBeGreaterThan(0);
    await screenshot("audit");

    await ours.first().getByRole("link", { name: "Job" }).click();
    const facts = page.locator("dl.facts");
    await expect.poll(() => facts.textContent()).toContain("export of users as csv");
    expect(await facts.textContent()).toContain(`Fields${ORDERED.join(", ")}`);
  });

  it("filters everyone's jobs by who ran them and by the days they were created, and names a range that ends first as the problem", async () => {
    await nav().getByRole("link", { name: "Jobs" }).click();
    const rows = page.locator("table.jobs tbody tr");
    await rows.first().waitFor();
    const who = () => rows.locator("td:nth-child(8)").allTextContents();
    await page.getByLabel("Who").fill("exporter");
    await expect.poll(async () => [...new Set(await who())]).toEqual(["exporter"]);
    await page.getByLabel("Who").fill("admin");
    await expect.poll(async () => [...new Set(await who())]).toEqual(["admin"]);

    // The days come from a job's own creation time, so the test holds across midnight.
    const newest = rows.first();
    const jobId = (await newest.getAttribute("data-job-id"))!;
    const day = dayOf((await newest.locator("td").first().textContent())!);
    await page.getByLabel("Created from").fill(day);
    await page.getByLabel("Created to").fill(day);
    await expect.poll(() => page.locator(`tr[data-job-id="${jobId}"]`).count()).toBe(1);
    await page.getByLabel("Created from").fill(dayAfter(day));
    const to = page.getByLabel("Created to");
    expect(await to.getAttribute("aria-invalid")).toBe("true");
    expect(await page.locator(`#${await to.getAttribute("aria-describedby")}`).textContent()).toBe("The end date is before the start date.");
    await to.fill(dayAfter(day));
    await expect.poll(() => page.getByText("No job matches these filters.").count()).toBe(1);
  });

  it("downloads an import's failed rows from the job list", async () => {
    await page.getByLabel("Created from").fill("");
    await page.getByLabel("Created to").fill("");
    await page.getByLabel("Kind").selectOption({ label: "import" });
    // The admin's lenient import (the block above) rejected one row; its row offers the file.
    const withFailures = page.locator("table.jobs tbody tr", { hasText: "1 failed" });
    await expect.poll(() => withFailures.count()).toBeGreaterThan(0);
    expect(await page.locator("table.jobs tbody tr", { hasNotText: "failed" }).getByRole("button", { name: "Failed rows" }).count()).toBe(0);
    const [failed] = await Promise.all([page.waitForEvent("download"), withFailures.first().getByRole("button", { name: "Failed rows" }).click()]);
    const rows = parse(readFileSync(await failed.path()), { columns: true, bom: true }) as Record<string, string>[];
    expect(rows.map((r) => r._row)).toEqual(["2"]);
    expect(rows[0]!._errors).toContain("email");
  });

  it("fits every page in a 400 px wide window: no sideways page scroll, wide tables scroll in their own box", async () => {
    await signInAs("admin");
    await page.setViewportSize({ width: 400, height: 800 });
    try {
      const fits = () => page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
      const pages: [hash: string, ready: () => Promise<unknown>][] = [
        ["#/export", () => expect.poll(() => page.getByRole("region", { name: "Preview" }).locator("tbody tr").count()).toBeGreaterThan(0)],
        ["#/import", () => page.getByRole("heading", { level: 1, name: "Import" }).waitFor()],
        ["#/jobs", () => page.locator("table.jobs tbody tr").first().waitFor()],
        ["#/audit", () => page.locator("table.audit-events tbody tr").first().waitFor()],
      ];
      let jobId: string | null = null;
      for (const [hash, ready] of pages) {
        await page.goto(`${stack.url}${hash}`);
        await ready();
        const { scrollWidth, innerWidth } = await fits();
        expect(scrollWidth, hash).toBeLessThanOrEqual(innerWidth);
        if (hash === "#/jobs") {
          // The table is wider than the window, and scrolls inside its box.
          const box = await page
            .locator(".table-scroll")
            .first()
            .evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
          expect(box.scroll).toBeGreaterThan(box.client);
          jobId = await page.locator("table.jobs tbody tr").first().getAttribute("data-job-id");
        }
        if (hash === "#/export") await screenshot("export-narrow");
      }
      await page.goto(`${stack.url}#/jobs/${jobId}`);
      await page.locator("dl.facts").waitFor();
      const { scrollWidth, innerWidth } = await fits();
      expect(scrollWidth, "a job's detail").toBeLessThanOrEqual(innerWidth);
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });
});
