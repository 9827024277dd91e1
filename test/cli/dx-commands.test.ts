/**
 * The bundled `dx` against the real transfer and records services (on the
 * run's FerretDB), as a child process: catalog commands, export and import
 * (files and pipes, byte for byte), jobs, and the exit code of every
 * outcome, including Ctrl-C.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/lib/ferretdb.js";
import { create } from "@bufbuild/protobuf";
import { Entity, EntityRecordSchema } from "../../gen/dataexchange/records/v1/records_pb.js";
import { JobState } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { course, exportFile, seed, startServices, user, type Services } from "../transfer/rpc/harness.js";
import { buildProgram } from "../../cli/program.js";
import { bundleDx, dx, startDx, type DxBundle } from "./dx-harness.js";

let s: Services;
let bundle: DxBundle;
let server: string[];

const HEADER = "email,username,firstName,lastName,role,status\n";
const row = (n: number, email = `new${n}@example.org`) => `${email},new${n},New,Person ${n},student,active\n`;

beforeAll(async () => {
  [s, bundle] = await Promise.all([startServices(), bundleDx()]);
  server = ["--server", s.transfer.url];
  await seed(
    s.recordsClient,
    Entity.USERS,
    Array.from({ length: 30 }, (_, i) => user(i)),
  );
});
afterAll(async () => {
  await s?.close();
  bundle?.remove();
});

/** A file in the bundle's folder (the children's working folder). */
const path = (name: string) => join(bundle.dir, name);
const jobIdIn = (text: string) => /job ([\w-]+)\s*$/m.exec(text)?.[1];

async function usersNamed(prefix: string): Promise<string[]> {
  const { bytes } = await exportFile(s.client, { entity: Entity.USERS, format: "json", fields: ["username"] });
  return (JSON.parse(bytes.toString("utf8")) as { username: string }[]).map((u) => u.username).filter((u) => u.startsWith(prefix));
}

function noStackTrace(stderr: string): void {
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr.trim().split("\n")).toHaveLength(1);
}

describe("the catalog", () => {
  it("lists the formats with what each does", async () => {
    const r = await dx(bundle, ["formats", ...server]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^csv\s+import\+export\s+\.csv/m);
    expect(r.stdout).toMatch(/^xlsx\s/m);
  });

  it("lists the entities with their keys and describes one's fields with allowed values", async () => {
    const entities = await dx(bundle, ["entities", ...server]);
    expect(entities.code).toBe(0);
    expect(entities.stdout).toMatch(/^enrollments\s+.*userId \+ courseId/m);
    const users = await dx(bundle, ["describe", "users", ...server]);
    expect(users.code).toBe(0);
    expect(users.stdout).toMatch(/^email\s+.*key/m);
    expect(users.stdout).toMatch(/^role\s.*student \| teacher \| admin/m);
  });

  it("prints NDJSON with --json", async () => {
    const r = await dx(bundle, ["--json", "formats", ...server]);
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { name: string });
    expect(lines.map((l) => l.name)).toContain("ndjson");
  });
});

describe("export and import", () => {
  it("exports to a file, imports it back unchanged, and exports the same bytes again", async () => {
    const first = await dx(bundle, ["export", "users", "-o", "users.csv", "--sort", "username", ...server]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^exported 30 users records to users\.csv \(csv, [\d.]+ KiB, sha256 [0-9a-f]{12}…\)/);
    expect(readdirSync(bundle.dir).filter((f) => f.includes("dx-partial"))).toEqual([]);

    const back = await dx(bundle, ["import", "users.csv", "--entity", "users", "--mode", "upsert", ...server]);
    expect(back.code).toBe(0);
    expect(back.stdout).toMatch(/^imported users\.csv into users: 30 read, 0 inserted, 0 updated, 30 unchanged, 0 skipped, 0 rejected in [\d.]+ s — job /);

    const again = await dx(bundle, ["export", "users", "-f", "csv", "-o", "users-again.csv", "--sort", "username", ...server]);
    expect(again.code).toBe(0);
    expect(readFileSync(path("users-again.csv"))).toEqual(readFileSync(path("users.csv")));

    const job = await dx(bundle, ["job", jobIdIn(back.stdout)!, ...server]);
    expect(job.code).toBe(0);
    expect(job.stdout).toMatch(/^state:\s+succeeded$/m);
    expect(job.stdout).toMatch(/^mode:\s+upsert$/m);
  });

  it("exports only the courses changed since a time, prints the next high-water mark, and exports the deletions", async () => {
    await seed(s.recordsClient, Entity.COURSES, [course("CLI-INC-1")]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const mark = new Date().toISOString();
    await seed(s.recordsClient, Entity.COURSES, [course("CLI-INC-2")]);
    const changed = await dx(bundle, ["export", "courses", "-f", "csv", "-o", "-", "--fields", "code", "--changed-since", mark, ...server]);
    expect(changed.code).toBe(0);
    expect(changed.stdoutBytes.toString("utf8").trim().split("\r\n")).toEqual(["Course code", "CLI-INC-2"]);
    expect(changed.stderr).toMatch(/^exported 1 courses record to stdout .*, next --changed-since \d{4}-\d\d-\d\dT[\d:.]+Z — job [\w-]+$/m);

    await s.recordsClient.deleteRecord({ entity: Entity.COURSES, key: { parts: ["CLI-INC-1"] } });
    const deleted = await dx(bundle, ["export", "courses", "--deletions", "-f", "csv", "-o", "-", "--changed-since", mark, ...server]);
    expect(deleted.code).toBe(0);
    expect(deleted.stdoutBytes.toString("utf8")).toMatch(/^Course code,Deleted at\r\nCLI-INC-1,\d{4}-/);
    expect(deleted.stderr).toMatch(/^exported 1 courses deletion to stdout/m);

    for (const args of [
      ["--changed-since", "2026-12-01T10:00:00"],
      ["--since", "2026-12-01T10:00:00"],
      ["--until", "2024-02-30"],
      ["--deletions", "--sort", "code"],
    ]) {
      const refused = await dx(bundle, ["export", "courses", "-o", "-", "-f", "csv", ...args, ...server]);
      expect(refused.code, args.join(" ")).toBe(2);
      noStackTrace(refused.stderr);
    }
  });

  it("writes to stdout with -o - and reads stdin with -, so exports pipe into imports", async () => {
    const out = await dx(bundle, ["export", "users", "-f", "ndjson", "-o", "-", "--fields", "email,username,firstName", "--filter", "status=suspended", "--sort", "-username", ...server]);
    expect(out.code).toBe(0);
    const lines = out.stdoutBytes.toString("utf8").trim().split("\n");
    expect(lines).toHaveLength(3); // user7, user27, user17: descending as text
    expect(JSON.parse(lines[0]!)).toEqual({ email: "user7@example.org", username: "user7", firstName: "Ada" });
    expect(out.stderr).toMatch(/^exported 3 users records to stdout/m);
    const direct = await exportFile(s.client, {
      entity: Entity.USERS,
      format: "ndjson",
      fields: ["email", "username", "firstName"],
      filter: { statuses: ["suspended"] },
      sort: [{ field: "username", descending: true }],
    });
    expect(out.stdoutBytes).toEqual(direct.bytes);

    const back = await dx(bundle, ["import", "-", "-f", "ndjson", "--entity", "users", "--mode", "merge", ...server], { input: out.stdoutBytes });
    expect(back.code).toBe(0);
    expect(back.stdout).toMatch(/^imported stdin into users: 3 read, .* 3 unchanged/);
  });

  it("exports a time window with format options, and imports another system's columns through --map and --mapping", async () => {
    const window = await dx(bundle, [
      "export",
      "users",
      "-f",
      "csv",
      "-o",
      "-",
      "--fields",
      "username,createdAt",
      "--since",
      "2024-01-01T00:10:00Z",
      "--until",
      "2024-01-01T00:13:00Z",
      "--sort",
      "createdAt",
      "--option",
      "delimiter=;",
      ...server,
    ]);
    expect(window.code).toBe(0);
    expect(window.stdout.trim().split(/\r?\n/)).toEqual(["Username;Created at", "user10;2024-01-01T00:10:00.000Z", "user11;2024-01-01T00:11:00.000Z", "user12;2024-01-01T00:12:00.000Z"]);

    writeFileSync(path("other-system.csv"), "E-mail,Login,Given,Family,Kind,Notes\n  Mapped1@Example.ORG ,mapped1,Map,One,,anything\n");
    writeFileSync(
      path("mapping.json"),
      JSON.stringify([
        { source: "Kind", field: "role", transforms: [{ kind: "default", value: "teacher" }] },
        { source: "Notes", ignore: true },
      ]),
    );
    const r = await dx(bundle, [
      "import",
      "other-system.csv",
      "--entity",
      "users",
      "--mapping",
      "mapping.json",
      "--map",
      "E-mail=email:trim:lowercase",
      "--map",
      "Login=username",
      "--map",
      "Given=firstName",
      "--map",
      "Family=lastName",
      ...server,
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const { bytes } = await exportFile(s.client, { entity: Entity.USERS, format: "json", fields: ["email", "username", "role"], filter: { keys: [{ parts: ["mapped1@example.org"] }] } });
    expect(JSON.parse(bytes.toString("utf8"))).toEqual([{ email: "mapped1@example.org", username: "mapped1", role: "teacher" }]);
  });

  it("removes the partial file when an export fails after it began, and keeps an older file of that name", async () => {
    const courses = Array.from({ length: 3000 }, (_, i) => course(`C${String(i).padStart(5, "0")}`));
    courses.push(create(EntityRecordSchema, { kind: { case: "course", value: { code: "Z-LAST", title: "a title with \u0001, which a workbook cannot hold", visible: true } } }));
    await seed(s.recordsClient, Entity.COURSES, courses);
    writeFileSync(path("courses.ods"), "an older file");
    const r = await dx(bundle, ["--json", "export", "courses", "-o", "courses.ods", "--sort", "code", ...server]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/U\+0001 cannot be written to an ODS file/);
    // The export had begun (its header came, and with it the temporary file beside courses.ods) before the server failed it.
    const events = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { header?: object });
    expect(events[0]!.header).toBeDefined();
    noStackTrace(r.stderr);
    expect(readFileSync(path("courses.ods"), "utf8")).toBe("an older file");
    expect(readdirSync(bundle.dir).filter((f) => f.includes("dx-partial"))).toEqual([]);
  });

  it("refuses an export the server refuses with exit 2, one line, and leaves no file", async () => {
    const r = await dx(bundle, ["export", "users", "-f", "csv", "-o", "refused.csv", "--fields", "nope", ...server]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^dx: .*nope/);
    noStackTrace(r.stderr);
    expect(readdirSync(bundle.dir).filter((f) => f.includes("refused"))).toEqual([]);
  });
});

describe("exit codes", () => {
  it("is 1 when a lenient import rejects rows, printing each row error and saving the rejected rows", async () => {
    writeFileSync(path("some-bad.csv"), HEADER + row(1) + row(2, "not-an-email") + row(3));
    const r = await dx(bundle, ["import", "some-bad.csv", "--entity", "users", "--failed-rows", "rejected.csv", ...server]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^row 2, line 3, column email: .*email/m);
    expect(r.stdout).toMatch(/3 read, 2 inserted, .* 1 rejected/);
    expect(readFileSync(path("rejected.csv"), "utf8")).toContain("not-an-email");
    expect(await usersNamed("new")).toEqual(expect.arrayContaining(["new1", "new3"]));
  });

  it("is 2 when a strict import aborts, and nothing is written", async () => {
    writeFileSync(path("strict-bad.csv"), HEADER + row(11) + row(12, "nope"));
    const r = await dx(bundle, ["import", "strict-bad.csv", "--entity", "users", "--strict", ...server]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^strict import aborted: .*\(nothing written\)/m);
    expect(await usersNamed("new1")).not.toContain("new11");
  });

  it("is 2 for an unknown option, an unknown filter, a bad mapping and an unknown format, before anything is sent", async () => {
    for (const args of [
      ["export", "users", "--frobnicate", ...server],
      ["export", "users", "-f", "csv", "--filter", "colour=red", ...server],
      ["import", "x.csv", "--entity", "users", "--map", "E-mail=email:shout", ...server],
      ["export", "users", "-f", "nope", "-o", "-", ...server],
      ["import", "users.csv", "--entity", "people", ...server],
      ["jobs", "extra-argument", ...server],
      ["--json", "export", "users", "-f", "csv", "-o", "-", ...server],
      ["import", "users.csv", "--entity", "users", "--failed-rows", "-", ...server],
      ["import", "users.csv", "--entity", "users", "--mode", "replace", ...server],
      ["import", "users.csv", "--entity", "users", "--mode", "insert", "--mode", "upsert", ...server],
    ]) {
      const r = await dx(bundle, args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stdout, args.join(" ")).toBe("");
      expect(r.stderr, args.join(" ")).not.toMatch(/^\s+at /m);
    }
    const unknown = await dx(bundle, ["export", "users", "--frobnicate", ...server]);
    expect(unknown.stderr).toMatch(/unknown option '--frobnicate'/);
    const twice = await dx(bundle, ["import", "users.csv", "--entity", "users", "--mode", "insert", "--mode", "upsert", ...server]);
    expect(twice.stderr).toBe("dx: --mode is given twice; give it once\n");
    const filter = await dx(bundle, ["export", "users", "-f", "csv", "--filter", "colour=red", ...server]);
    expect(filter.stderr).toBe('dx: unknown --filter "colour"; accepted: status, role, user_id, course_id, session_id, action (and --since/--until for time)\n');
  });

  it("is 3 when the server cannot be reached, saying where and why in one line", async () => {
    const closed = await freePort();
    const r = await dx(bundle, ["formats", "--server", `http://127.0.0.1:${closed}`]);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(`dx: cannot reach http://127.0.0.1:${closed}: connection refused — is "npm start" running?\n`);
  });

  it("is 130 on Ctrl-C during an import, and the job ends cancelled on the server", async () => {
    const run = startDx(bundle, ["--json", "import", "-", "-f", "csv", "--entity", "users", ...server], { openStdin: true });
    run.child.stdin!.write(HEADER + row(100) + row(101));
    await run.waitFor("stdout", /"started"/);
    run.child.kill("SIGINT");
    const r = await run.result;
    expect(r.code).toBe(130);
    const started = JSON.parse(r.stdout.trim().split("\n")[0]!) as { started: { jobId: string } };
    let state = JobState.RUNNING;
    for (let i = 0; i < 100 && state === JobState.RUNNING; i++) {
      state = (await s.client.getJob({ jobId: started.started.jobId })).job!.state;
      if (state === JobState.RUNNING) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(JobState[state]).toBe("CANCELLED");
    expect(r.stderr).toMatch(/cancelled: import job [\w-]+ was cancelled/);
  });
});

describe("jobs", () => {
  it("lists jobs by kind and state, shows NDJSON, and says a finished job cannot be cancelled", async () => {
    writeFileSync(path("jobs.csv"), HEADER + row(400) + row(401));
    expect((await dx(bundle, ["import", "jobs.csv", "--entity", "users", ...server])).code).toBe(0);
    expect((await dx(bundle, ["export", "users", "-o", "jobs-export.csv", ...server])).code).toBe(0);
    const list = await dx(bundle, ["jobs", "--kind", "import", "--state", "succeeded", ...server]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^JOB\s+KIND\s+STATE/);
    expect(list.stdout).not.toMatch(/\bexport\b.*succeeded/);
    const json = await dx(bundle, ["jobs", "--json", "--entity", "users", "--limit", "2", ...server]);
    const jobs = json.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { id: string; state: string });
    expect(jobs).toHaveLength(2);
    const cancel = await dx(bundle, ["cancel", jobs[0]!.id, ...server]);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toMatch(new RegExp(`^job ${jobs[0]!.id} is \\w+`));
    const missing = await dx(bundle, ["job", "no-such-job", ...server]);
    expect(missing.code).toBe(2);
    noStackTrace(missing.stderr);
  });

  it("cancels another client's running import, which then ends cancelled and exits 2", async () => {
    const run = startDx(bundle, ["--json", "import", "-", "-f", "csv", "--entity", "users", ...server], { openStdin: true });
    run.child.stdin!.write(HEADER + row(300));
    const [, jobId] = await run.waitFor("stdout", /"started":\{"jobId":"([\w-]+)"/);
    const cancel = await dx(bundle, ["cancel", jobId!, ...server]);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toMatch(new RegExp(`^(cancelling job ${jobId}|job ${jobId} is cancelled)`));
    run.child.stdin!.end(row(301));
    const r = await run.result;
    expect(r.code, r.stderr).toBe(2);
    const job = await dx(bundle, ["job", jobId!, ...server]);
    expect(job.stdout).toMatch(/^state:\s+cancelled/m);
  });

  it("reverts an import (dx revert), shows the revert job, and says why a second revert is refused", async () => {
    writeFileSync(path("undo.csv"), HEADER + row(500) + row(501));
    const imported = await dx(bundle, ["import", "undo.csv", "--entity", "users", ...server]);
    expect(imported.code).toBe(0);
    const id = jobIdIn(imported.stdout)!;
    const r = await dx(bundle, ["revert", id, ...server]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^kind:\s+revert/m);
    expect(r.stdout).toMatch(/^counts:\s+0 restored, 2 deleted, 0 unchanged, 0 refused/m);
    expect(r.stdout).toMatch(new RegExp(`^reverts:\\s+${id}`, "m"));
    expect(await usersNamed("new50")).toEqual([]);
    const again = await dx(bundle, ["revert", id, ...server]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`import ${id} was already reverted by job`);
    noStackTrace(again.stderr);
  });

  it("saves a job's failed rows and its errors as CSV", async () => {
    writeFileSync(path("one-bad.csv"), HEADER + row(200, "broken"));
    const r = await dx(bundle, ["import", "one-bad.csv", "--entity", "users", ...server]);
    expect(r.code).toBe(1);
    const id = jobIdIn(r.stdout)!;
    const rows = await dx(bundle, ["failed-rows", id, "-o", "failed.csv", ...server]);
    expect(rows.code).toBe(0);
    expect(readFileSync(path("failed.csv"), "utf8")).toContain("broken");
    const errors = await dx(bundle, ["failed-rows", id, "--errors", "-o", "-", ...server]);
    expect(errors.stdout).toMatch(/^row,/);
    expect(existsSync(path("-"))).toBe(false);
  });
});

describe("the shell", () => {
  it("prints a bash completion script that bash accepts, naming every command", async () => {
    const r = await dx(bundle, ["completion", "bash"]);
    expect(r.code).toBe(0);
    for (const command of ["export", "import", "jobs", "failed-rows", "login"]) expect(r.stdout).toContain(command);
    writeFileSync(path("completion.bash"), r.stdout);
    const { execFileSync } = await import("node:child_process");
    const words = execFileSync("bash", ["-c", `source ${path("completion.bash")}; COMP_WORDS=(dx exp); COMP_CWORD=1; _dx; echo "\${COMPREPLY[@]}"`], { encoding: "utf8" });
    expect(words.trim()).toBe("export");
  });

  it("has an example in the help of every command, and the exit codes in the top help", async () => {
    const top = await dx(bundle, ["--help"]);
    expect(top.code).toBe(0);
    const codes = top.stdout.slice(top.stdout.indexOf("Exit codes:"));
    for (const line of [
      /^ {2}0 +done$/m,
      /^ {2}1 +some rows were rejected/m,
      /^ {2}2 +nothing written/m,
      /^ {2}3 +cannot connect/m,
      /^ {2}130 +interrupted with Ctrl-C/m,
      /^ {2}141 +the reader of stdout/m,
    ])
      expect(codes).toMatch(line);
    // Each command's help, from the program itself (one process rather than one per command).
    const program = buildProgram({ exitCode: 0 });
    expect(program.commands.length).toBeGreaterThan(10);
    for (const command of program.commands) {
      let text = "";
      command.configureOutput({ writeOut: (t) => (text += t), writeErr: (t) => (text += t) });
      command.outputHelp();
      expect(text, command.name()).toMatch(/\nExamples?:\n {2}(dx|npm|eval) /);
    }
  });
});
