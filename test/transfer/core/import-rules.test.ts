/**
 * How an import treats rows: write modes, strict and lenient, dry runs,
 * duplicates inside a file, mappings with transforms, unknown columns,
 * records-side errors mapped back to file rows, and passwords.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { TransferSettingsError, type RecordWriter, type StagingArea } from "../../../services/transfer/core/index.js";
import { importAll, importSettings, openRecords, plugin, users, usersCsv, type RecordsFixture } from "./support.js";

let fx: RecordsFixture;

beforeAll(async () => {
  fx = await openRecords("import_rules");
});
afterAll(async () => fx?.close());
beforeEach(async () => fx.clear());

/** 500 users where rows 17, 250 and 499 are bad in three different columns. */
function fileWithThreeBadRows(): string {
  const rows = users(1, 500);
  rows[16]!.email = "not-an-email";
  rows[249]!.role = "wizard";
  rows[498]!.createdAt = "yesterday-ish";
  const columns = ["email", "username", "firstName", "lastName", "role", "status", "createdAt"];
  const labels = ["Email address", "Username", "First name", "Last name", "Role", "Status", "Created at"];
  return usersCsv(rows, columns).replace(columns.join(","), labels.join(","));
}

describe("strict and lenient imports", () => {
  it("writes nothing in strict mode when 3 of 500 rows are bad, and reports each with its row and column", async () => {
    const { summary, errors } = await importAll(fx, fileWithThreeBadRows(), importSettings("users", await plugin("csv"), { strict: true, batchSize: 100 }));
    expect(errors.map((e) => ({ row: e.row, line: e.line, column: e.column, code: e.code }))).toEqual([
      { row: 17, line: 18, column: "Email address", code: "invalid" },
      { row: 250, line: 251, column: "Role", code: "invalid" },
      { row: 499, line: 500, column: "Created at", code: "invalid" },
    ]);
    expect(errors.map((e) => e.value)).toEqual(["not-an-email", "wizard", "yesterday-ish"]);
    expect(errors.every((e) => e.reason.length > 0)).toBe(true);
    expect(summary).toMatchObject({ read: 500, failed: 3, inserted: 0, updated: 0, unchanged: 0, skipped: 0, strictAborted: true, dryRun: false });
    expect(await fx.count("users")).toBe(0);
    expect((await fx.transferDb.listCollections().toArray()).filter((c) => c.name.startsWith("staging_"))).toEqual([]);
  });

  it("writes the 497 good rows in lenient mode and reports the same 3", async () => {
    const { summary, errors } = await importAll(fx, fileWithThreeBadRows(), importSettings("users", await plugin("csv"), { batchSize: 100 }));
    expect(errors.map((e) => e.row)).toEqual([17, 250, 499]);
    expect(summary).toMatchObject({ read: 500, inserted: 497, failed: 3, strictAborted: false });
    expect(await fx.count("users")).toBe(497);
  });

  it("writes every row of a clean file in strict mode, replayed from staging", async () => {
    const calls = { count: 0 };
    const { summary, events } = await importAll(fx, usersCsv(users(1, 250)), importSettings("users", await plugin("csv"), { strict: true, batchSize: 100 }), { writer: fx.writer("users", calls) });
    expect(summary).toMatchObject({ read: 250, inserted: 250, failed: 0, strictAborted: false });
    expect(await fx.count("users")).toBe(250);
    expect(calls.count).toBe(6); // 3 dry-run batches while validating, 3 real ones on replay
    const phases = events.filter((e) => e.kind === "progress").map((e) => (e.kind === "progress" ? e.phase : ""));
    expect(phases).toEqual(["validating", "validating", "validating", "writing", "writing", "writing"]);
  });

  it("aborts a strict import when the records service refuses a row that passed the core's checks", async () => {
    await fx.seed("users", users(7, 7));
    const { summary, errors } = await importAll(fx, usersCsv(users(1, 10)), importSettings("users", await plugin("csv"), { strict: true }));
    expect(errors).toMatchObject([{ row: 7, column: "email", value: "user7@example.org", code: "exists" }]);
    expect(summary).toMatchObject({ read: 10, failed: 1, inserted: 0, strictAborted: true });
    expect(await fx.count("users")).toBe(1);
  });
});

describe("strict re-imports of files mostly as stored", () => {
  /** A staging area that counts the rows given to it. */
  const countingStaging = () => {
    const inner = fx.staging();
    const counted = { rows: 0 };
    const staging: StagingArea = {
      get name() {
        return inner.name;
      },
      get size() {
        return inner.size;
      },
      add: (rows) => {
        counted.rows += rows.length;
        return inner.add(rows);
      },
      replay: (size) => inner.replay(size),
      drop: () => inner.drop(),
    };
    return { staging, counted };
  };
  /** 260 rows: 1–200 as stored, 201–250 with a changed last name, 251–260 new. */
  const correctedFile = () => usersCsv(users(1, 260, (n) => (n > 200 && n <= 250 ? { lastName: `Corrected ${n}` } : {})));

  it("stages and replays only the rows that change something, once a batch was mostly rows as stored", async () => {
    await fx.seed("users", users(1, 250));
    const { staging, counted } = countingStaging();
    const calls = { count: 0 };
    const settings = importSettings("users", await plugin("csv"), { mode: "upsert", strict: true, batchSize: 50, writesInFlight: 1 });
    const { summary, events } = await importAll(fx, correctedFile(), settings, { writer: fx.writer("users", calls), staging });
    expect(summary).toMatchObject({ read: 260, inserted: 10, updated: 50, unchanged: 200, skipped: 0, failed: 0, strictAborted: false });
    // Batch 1 (rows 1–50) is staged whole, as nothing is known yet; batches 2–4 are all as stored and
    // stage nothing; batch 5 (the 50 corrected rows) and the last (10 new rows) stage every row.
    expect(counted.rows).toBe(110);
    expect(calls.count).toBe(6 + 3); // six validating dry runs, then 110 rows replayed in batches of 50
    const written = await fx.readAll("users");
    expect(written).toHaveLength(260);
    expect(written.find((u) => u.email === "user201@example.org")).toMatchObject({ lastName: "Corrected 201" });
    expect(written.find((u) => u.email === "user260@example.org")).toMatchObject({ lastName: "Number 260" });
    const last = events.filter((e) => e.kind === "progress").at(-1);
    expect(last).toMatchObject({ phase: "writing", rowsWritten: 260 });
  });

  it("counts rows already stored as skipped once, in a strict skip-existing import", async () => {
    await fx.seed("users", users(1, 250));
    const { staging, counted } = countingStaging();
    const settings = importSettings("users", await plugin("csv"), { mode: "skip-existing", strict: true, batchSize: 50, writesInFlight: 1 });
    const { summary } = await importAll(fx, correctedFile(), settings, { staging });
    expect(summary).toMatchObject({ read: 260, inserted: 10, updated: 0, unchanged: 0, skipped: 250, failed: 0, strictAborted: false });
    expect(counted.rows).toBe(60); // batch 1 whole, then only the 10 new rows
    expect(await fx.count("users")).toBe(260);
  });

  it("replays every row when the records service does not say which rows would change nothing", async () => {
    await fx.seed("users", users(1, 250));
    const inner = fx.writer("users");
    const silent: RecordWriter = { write: async (records, options) => ({ ...(await inner.write(records, options)), noOps: undefined }) };
    const { staging, counted } = countingStaging();
    const settings = importSettings("users", await plugin("csv"), { mode: "upsert", strict: true, batchSize: 50, writesInFlight: 1 });
    const { summary } = await importAll(fx, correctedFile(), settings, { writer: silent, staging });
    expect(summary).toMatchObject({ read: 260, inserted: 10, updated: 50, unchanged: 200, failed: 0 });
    expect(counted.rows).toBe(260);
  });

  it("replays every row of a batch whose list of rows that change nothing disagrees with its counts", async () => {
    await fx.seed("users", users(1, 250));
    const inner = fx.writer("users");
    // One row short in the list: the list is not trusted, the whole batch is staged and replayed (and the next).
    const wrong: RecordWriter = {
      write: async (records, options) => {
        const result = await inner.write(records, options);
        return result.noOps === undefined ? result : { ...result, noOps: result.noOps.slice(0, -1) };
      },
    };
    const { staging, counted } = countingStaging();
    const settings = importSettings("users", await plugin("csv"), { mode: "upsert", strict: true, batchSize: 50, writesInFlight: 1 });
    const { summary } = await importAll(fx, correctedFile(), settings, { writer: wrong, staging });
    expect(summary).toMatchObject({ read: 260, inserted: 10, updated: 50, unchanged: 200, failed: 0 });
    expect(counted.rows).toBe(260);
    expect(await fx.readAll("users")).toHaveLength(260);
  });
});

describe("dry runs", () => {
  it("writes nothing and says what would happen", async () => {
    await fx.seed("users", users(1, 2));
    for (const strict of [false, true]) {
      const { summary, errors } = await importAll(fx, usersCsv(users(1, 10)), importSettings("users", await plugin("csv"), { dryRun: true, strict }));
      expect(errors.map((e) => [e.row, e.code])).toEqual([
        [1, "exists"],
        [2, "exists"],
      ]);
      expect(summary).toMatchObject({ read: 10, inserted: 8, failed: 2, dryRun: true, strictAborted: strict });
      expect(await fx.count("users")).toBe(2);
    }
  });
});

describe("write modes", () => {
  const file = () => {
    const rows = users(4, 7);
    rows[0]!.lastName = "Changed";
    return usersCsv(rows);
  };
  beforeEach(async () => fx.seed("users", users(1, 5)));

  it("counts existing keys as failures in insert mode", async () => {
    const { summary, errors } = await importAll(fx, file(), importSettings("users", await plugin("csv"), { mode: "insert" }));
    expect(errors.map((e) => [e.row, e.code, e.column])).toEqual([
      [1, "exists", "email"],
      [2, "exists", "email"],
    ]);
    expect(summary).toMatchObject({ read: 4, inserted: 2, updated: 0, unchanged: 0, skipped: 0, failed: 2 });
  });

  it("replaces changed records and leaves identical ones unchanged in upsert mode", async () => {
    const { summary } = await importAll(fx, file(), importSettings("users", await plugin("csv"), { mode: "upsert" }));
    expect(summary).toMatchObject({ read: 4, inserted: 2, updated: 1, unchanged: 1, skipped: 0, failed: 0 });
    expect((await fx.readAll("users")).find((u) => u.username === "user4")?.lastName).toBe("Changed");
  });

  it("sets only the given columns in merge mode", async () => {
    const csv = usersCsv(
      users(4, 7).map((u, i) => ({ ...u, lastName: i === 0 ? "Merged" : u.lastName })),
      ["email", "username", "lastName"],
    );
    const { summary } = await importAll(fx, csv, importSettings("users", await plugin("csv"), { mode: "merge" }));
    expect(summary).toMatchObject({ read: 4, inserted: 2, updated: 1, unchanged: 1, failed: 0 });
    const user4 = (await fx.readAll("users")).find((u) => u.username === "user4");
    expect(user4).toMatchObject({ lastName: "Merged", firstName: "Ada", role: "student" });
  });

  it("skips existing keys in skip-existing mode", async () => {
    const { summary } = await importAll(fx, file(), importSettings("users", await plugin("csv"), { mode: "skip-existing" }));
    expect(summary).toMatchObject({ read: 4, inserted: 2, skipped: 2, failed: 0 });
    expect((await fx.readAll("users")).find((u) => u.username === "user4")?.lastName).toBe("Number 4");
  });
});

describe("keys repeated inside one file", () => {
  it("rejects the later row with duplicate_in_file, for the natural key and for unique fields", async () => {
    const rows = users(1, 5);
    rows[3]!.email = "USER2@example.org"; // emails are stored lower-case, so this is user2's key
    rows[4]!.username = "user1";
    const { summary, errors } = await importAll(fx, usersCsv(rows), importSettings("users", await plugin("csv"), { batchSize: 2 }));
    expect(errors.map((e) => ({ row: e.row, column: e.column, value: e.value, code: e.code }))).toEqual([
      { row: 4, column: "email", value: "USER2@example.org", code: "duplicate_in_file" },
      { row: 5, column: "username", value: "user1", code: "duplicate_in_file" },
    ]);
    expect(errors[0]!.reason).toContain("row 2");
    expect(errors[1]!.reason).toContain("row 1");
    expect(summary).toMatchObject({ read: 5, inserted: 3, failed: 2 });
  });
});

describe("mappings", () => {
  it("applies trim, lowercase, date and default transforms and leaves out a column the mapping ignores", async () => {
    const csv = [
      "E-Mail;Login;Joined;Type;Shoe size",
      "  Ada@Example.ORG ; ada ;07/03/2024; TEACHER ;42",
      "bob@example.org;bob;29/02/2024;;43",
      "cy@example.org;cy;31/02/2024;admin;44",
      "dee@example.org;dee;2024-03-07;admin;45",
    ].join("\n");
    const mapping = [
      { source: "e-mail", field: "email", transforms: [{ kind: "trim" as const }, { kind: "lowercase" as const }] },
      { source: "Login", field: "username", transforms: [{ kind: "trim" as const }] },
      { source: "Joined", field: "createdAt", transforms: [{ kind: "date" as const, format: "DD/MM/YYYY" }] },
      { source: "Type", field: "role", transforms: [{ kind: "trim" as const }, { kind: "lowercase" as const }, { kind: "default" as const, value: "student" }] },
      { source: "Shoe size", ignore: true },
    ];
    const { summary, errors } = await importAll(fx, csv, importSettings("users", await plugin("csv"), { mapping, pluginOptions: { delimiter: ";" } }));
    expect(errors.map((e) => ({ row: e.row, column: e.column, value: e.value, code: e.code }))).toEqual([
      { row: 3, column: "Joined", value: "31/02/2024", code: "invalid" },
      { row: 4, column: "Joined", value: "2024-03-07", code: "invalid" },
    ]);
    expect(errors[0]!.reason).toContain('"DD/MM/YYYY"');
    expect(summary).toMatchObject({ read: 4, inserted: 2, failed: 2 });
    const stored = await fx.readAll("users");
    expect(stored.map((u) => ({ email: u.email, username: u.username, role: u.role, createdAt: u.createdAt }))).toEqual([
      { email: "ada@example.org", username: "ada", role: "teacher", createdAt: new Date("2024-03-07T00:00:00Z") },
      { email: "bob@example.org", username: "bob", role: "student", createdAt: new Date("2024-02-29T00:00:00Z") },
    ]);
  });

  it("refuses a mapping onto an unknown or read-only field before reading a byte", async () => {
    let started = false;
    async function* input() {
      started = true;
      yield Buffer.from("a\n1\n");
    }
    const mapping = [
      { source: "a", field: "shoeSize" },
      { source: "b", field: "updatedAt" },
      { source: "c", field: "createdAt", transforms: [{ kind: "date" as const, format: "DD/MM" }] },
    ];
    const run = importAll(fx, input(), importSettings("users", await plugin("csv"), { mapping }));
    await expect(run).rejects.toBeInstanceOf(TransferSettingsError);
    await expect(run).rejects.toMatchObject({
      issues: [
        { setting: "mapping[0].field", reason: expect.stringContaining("not a field") },
        { setting: "mapping[1].field", reason: expect.stringContaining("read-only") },
        { setting: "mapping[2].transforms[0].format", reason: expect.stringContaining("YYYY") },
      ],
    });
    expect(started).toBe(false);
  });
});

describe("settings", () => {
  it("refuse any mode but insert for the append-only activity log, before reading", async () => {
    for (const mode of ["upsert", "merge", "skip-existing"] as const) {
      await expect(importAll(fx, "", importSettings("activity", await plugin("csv"), { mode }))).rejects.toMatchObject({ name: "TransferSettingsError", issues: [{ setting: "mode" }] });
    }
  });
});

describe("columns that are not fields", () => {
  it("stops the import on unknown columns, naming them, before anything is written", async () => {
    const csv = "email,username,shoe_size,Hat\r\na@example.org,a,42,big\r\nb@example.org,b,43,small\r\n";
    const { summary, errors } = await importAll(fx, csv, importSettings("users", await plugin("csv")));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ row: 0, line: 1, column: "shoe_size,Hat", code: "invalid" });
    expect(errors[0]!.reason).toContain('"shoe_size"');
    expect(errors[0]!.reason).toContain('"Hat"');
    expect(summary).toMatchObject({ read: 0, inserted: 0, failed: 0, stopped: { code: "invalid" } });
    expect(await fx.count("users")).toBe(0);
  });

  it("rejects only the row when a later JSON object carries an unknown key", async () => {
    const json = JSON.stringify([...users(1, 2), { ...users(3, 3)[0], shoeSize: 44 }, ...users(4, 4)]);
    const { summary, errors } = await importAll(fx, json, importSettings("users", await plugin("json")));
    expect(errors).toMatchObject([{ row: 3, column: "shoeSize", value: "44", code: "invalid" }]);
    expect(summary).toMatchObject({ read: 4, inserted: 3, failed: 1 });
  });

  it("treats a flattened column reaching for a prototype as unknown, polluting nothing", async () => {
    await fx.seed("users", users(1, 1));
    const csv = "User id,Action,At,details.__proto__.polluted\r\nuser1,view,2024-01-01T00:00:00Z,yes\r\n";
    const { summary, errors } = await importAll(fx, csv, importSettings("activity", await plugin("csv")));
    expect(errors).toMatchObject([{ column: "details.__proto__.polluted", code: "invalid" }]);
    expect(summary).toMatchObject({ read: 0, inserted: 0, stopped: { code: "invalid" } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("matches JSON keys by key or label, ignoring case", async () => {
    const json = JSON.stringify([{ "EMAIL ADDRESS": "a@example.org", UserName: "a", "first name": "Ann" }]);
    const { summary } = await importAll(fx, json, importSettings("users", await plugin("json")));
    expect(summary).toMatchObject({ read: 1, inserted: 1 });
    expect(await fx.readAll("users")).toMatchObject([{ email: "a@example.org", username: "a", firstName: "Ann" }]);
  });
});

describe("errors from the records service", () => {
  it("maps missing references back to the file row and column across batches", async () => {
    await fx.seed("users", users(1, 2));
    await fx.seed("courses", [{ code: "C1", title: "One" }]);
    const csv = ["User id,Course id,Role", "user1,C1,student", "user2,C1,teacher", "user1,C9,student", "user3,C1,student", "user2,C2,student"].join("\n");
    const { summary, errors } = await importAll(fx, csv, importSettings("enrollments", await plugin("csv"), { batchSize: 2 }));
    expect(errors.map((e) => ({ row: e.row, column: e.column, value: e.value, code: e.code }))).toEqual([
      { row: 3, column: "Course id", value: "C9", code: "missing_reference" },
      { row: 4, column: "User id", value: "user3", code: "missing_reference" },
      { row: 5, column: "Course id", value: "C2", code: "missing_reference" },
    ]);
    expect(summary).toMatchObject({ read: 5, inserted: 2, failed: 3 });
  });
});

describe("passwords", () => {
  it("are passed to the records service (which hashes them) and never appear in an event", async () => {
    const rows = users(1, 4, (n) => ({ password: `Sesame-${n}-open` }));
    rows[1]!.password = "short"; // too short
    rows[2]!.email = "broken"; // bad email next to a good password
    const csv = usersCsv(rows, ["email", "username", "password"]);
    for (const strict of [false, true]) {
      await fx.clear();
      const { summary, events, errors } = await importAll(fx, csv, importSettings("users", await plugin("csv"), { strict }));
      expect(errors.map((e) => [e.row, e.column, e.value])).toEqual([
        [2, "password", "***"],
        [3, "email", "broken"],
      ]);
      const text = JSON.stringify(events);
      for (const r of rows) expect(text).not.toContain(r.password as string);
      expect(summary).toMatchObject({ read: 4, failed: 2, inserted: strict ? 0 : 2 });
    }
    await fx.clear();
    const ndjson = '{"email":"a@example.org","username":"a","password":hunter2-unquoted}\n{"email":"b@example.org","username":"b","password":"Sesame-b-open"}\n';
    const broken = await importAll(fx, ndjson, importSettings("users", await plugin("ndjson")));
    expect(broken.errors).toMatchObject([{ row: 1, code: "format" }]);
    expect(JSON.stringify(broken.events)).not.toContain("hunter2");
    expect(broken.summary).toMatchObject({ read: 2, inserted: 1, failed: 1 });
    await fx.clear();
    await importAll(
      fx,
      usersCsv(
        users(1, 2, (n) => ({ password: `Sesame-${n}-open` })),
        ["email", "username", "password"],
      ),
      importSettings("users", await plugin("csv"), { strict: true }),
    );
    const stored = await fx.db
      .collection("users")
      .find({}, { projection: { _id: 0, password: 1, passwordHash: 1 } })
      .toArray();
    expect(stored).toHaveLength(2);
    for (const doc of stored) {
      expect(doc.password).toBeUndefined();
      expect(typeof doc.passwordHash).toBe("string");
      expect(doc.passwordHash).not.toContain("Sesame");
    }
  });
});
