/**
 * `dx`'s command line (commander): every command, its options and an
 * example, the global options, exit codes and environment in the help.
 * Commander refuses unknown options and extra arguments; each action returns
 * its exit code.
 */
import { Command, Option } from "commander";
import { collect, ENTITY_NAMES } from "./arguments.js";
import { commandContext, outputOf, type GlobalOptions } from "./context.js";
import { EXIT_CODES_HELP } from "./exit-codes.js";
import { runAudit } from "./commands/audit.js";
import { runDescribe, runEntities, runFormats } from "./commands/catalog.js";
import { bashCompletion } from "./commands/completion.js";
import { runExport } from "./commands/export.js";
import { runFailedRows } from "./commands/failed-rows.js";
import { runImport } from "./commands/import.js";
import { runExportBundle, runImportBundle } from "./commands/bundle.js";
import { runCancel, runJob, runJobs, runRevert } from "./commands/jobs.js";
import { runWatch } from "./commands/watch.js";
import { runLogin, runLogout } from "./commands/login.js";
import { usageError } from "./arguments.js";

export const ENVIRONMENT_HELP = `Environment:
  DX_SERVER       the transfer service (default http://127.0.0.1:$TRANSFER_PORT, 8000: what "npm start" runs)
  DX_TOKEN        a bearer token (else the one "dx login" stored)
  DX_TOKEN_FILE   where "dx login" keeps the sign-in (default $XDG_CONFIG_HOME/dx/token.json, mode 0600)`;

/** Sets the exit code an action returned; `dx.ts` exits with it. */
export interface ProgramResult {
  exitCode: number;
}

function example(command: Command, ...lines: string[]): Command {
  return command.addHelpText("after", `\nExample${lines.length > 1 ? "s" : ""}:\n${lines.map((l) => `  ${l}`).join("\n")}`);
}

export function buildProgram(result: ProgramResult): Command {
  const program = new Command("dx");
  program
    .description("Move LMS records in and out as files: the command-line client of the Data Exchange transfer service.")
    .option("--server <url>", "the transfer service (env DX_SERVER; default http://127.0.0.1:8000)")
    .option("--token <token>", "a bearer token (env DX_TOKEN; default: the one from dx login)")
    .option("--ca <file>", "a PEM file of the authority that signed an https:// server's certificate")
    .option("--json", "print one JSON object per event or record (NDJSON) on stdout, for scripts")
    .option("-q, --quiet", "no progress and no row errors: only the final lines")
    .showSuggestionAfterError(true)
    .allowExcessArguments(false)
    .exitOverride()
    .addHelpText("after", `\n${EXIT_CODES_HELP}\n\n${ENVIRONMENT_HELP}\n\nExamples:\n  dx export users -o users.csv\n  dx import users.csv --entity users --mode upsert\n  dx jobs --state running`);

  const globals = (command: Command) => command.optsWithGlobals() as GlobalOptions;
  /** An action that calls the server. */
  const withServer =
    <A extends unknown[]>(run: (ctx: Awaited<ReturnType<typeof commandContext>>, ...args: A) => Promise<number>) =>
    async (...args: unknown[]) => {
      const command = args.at(-1) as Command;
      const ctx = await commandContext(globals(command));
      result.exitCode = await run(ctx, ...(args.slice(0, -1) as A));
    };

  example(
    program
      .command("formats")
      .description("list the file formats the server reads and writes")
      .action(withServer(async (ctx) => runFormats(ctx))),
    "dx formats",
  );

  example(
    program
      .command("entities")
      .description("list the kinds of records: users, courses, sessions, enrollments, activity")
      .action(withServer(async (ctx) => runEntities(ctx))),
    "dx entities",
  );

  example(
    program
      .command("describe")
      .description("show an entity's fields: labels, types, key, allowed values")
      .argument("<entity>", ENTITY_NAMES.join(", "))
      .action(withServer(async (ctx, entity: string) => runDescribe(ctx, entity))),
    "dx describe users",
  );

  example(
    program
      .command("export")
      .description("export records to a file (or stdout with -o -), checking the file's sha256 against the server's")
      .argument("<entity>", ENTITY_NAMES.join(", "))
      .option("-f, --format <name>", "csv, json, ndjson, pretty, xlsx, ods, html or a plugin (default: from -o's extension)")
      .option("-o, --output <file>", 'where to write; "-" is stdout (default: the name the server proposes, e.g. users.csv)')
      .option("--fields <a,b>", "the fields, in order (default: all)", collect)
      .option("--filter <key=value>", "status, role, user_id, course_id, session_id, action; repeat for more (values: a,b = either)", collect)
      .option("--since <date>", "from this ISO 8601 date (midnight UTC) or time with its zone (Z, +02:00) on (on --time-field)")
      .option("--until <date>", "before this ISO 8601 date (midnight UTC) or time with its zone")
      .option("--time-field <field>", "the time field --since/--until apply to (default: the entity's first)")
      .option("--sort <fields>", "sort by fields, -field for descending: --sort -startedAt,userId", collect)
      .option("--changed-since <time>", "only records changed (or, with --deletions, deleted) since this time: the high-water mark the previous export printed")
      .option("--deletions", "export the keys of deleted records (and when) instead of records")
      .option("--limit <n>", "at most n records")
      .option("--option <key=value>", "a format option (repeatable): --option delimiter=';' --option bom=true", collect)
      .action(withServer(runExport)),
    "dx export users -o users.csv",
    "dx export sessions -f ndjson -o - --filter status=completed --sort -startedAt --limit 100 | head",
    "dx export courses -f csv -o courses.csv --option delimiter=';' --fields code,title",
    "dx export courses -o changed.csv --changed-since 2026-11-30T02:00:00.000Z",
    "dx export courses --deletions -o deleted.csv --changed-since 2026-11-30T02:00:00.000Z",
  );

  example(
    program
      .command("import")
      .description("import a file (or stdin with -), printing row errors as they are found")
      .argument("<file>", 'the file; "-" reads stdin (then give -f)')
      .requiredOption("--entity <entity>", ENTITY_NAMES.join(", "))
      .option("-f, --format <name>", "the file's format (default: from its extension)")
      .addOption(new Option("--mode <mode>", "what to do with records that exist (default insert)").choices(["insert", "upsert", "merge", "skip-existing"]))
      .option("--strict", "write nothing if any row is rejected")
      .option("--no-strict", "write the valid rows and report the others (the server's default unless configured otherwise)")
      .option("--dry-run", "check every row and report what would happen; write nothing")
      .option("--max-errors <n>", "lenient: stop once more than n rows are rejected (what was written stays)")
      .option("--max-error-ratio <r>", "lenient: stop once a larger share of rows than r (e.g. 0.05) is rejected")
      .option("--max-changes <n>", "upsert/merge: change at most n existing records; the batch that would pass it is not written")
      .option("--map <source=field[:transform…]>", "map a column to a field, with transforms trim, lowercase, date(FMT), default(V), template(T); field - ignores the column", collect)
      .option("--mapping <file>", "a JSON mapping file: [{source, field, ignore, transforms: [{kind, …}]}]")
      .option("--option <key=value>", "a format option (repeatable)", collect)
      .option("--failed-rows <file>", "save the rejected rows there, in the file's format, to fix and import again")
      .action(withServer(runImport)),
    "dx import users.csv --entity users --mode upsert",
    "dx export users -f json -o - | dx import - -f json --entity users --mode upsert --dry-run",
    'dx import people.csv --entity users --map "E-mail=email:trim:lowercase" --map "Notes=-" --failed-rows rejected.csv',
  );

  example(
    program
      .command("bundle-export")
      .description("export several entities in one file: a workbook with a sheet each (xlsx, ods) or a ZIP of one file each (csv, json, …)")
      .argument("<entities>", `comma-separated: ${ENTITY_NAMES.join(",")}`)
      .option("-f, --format <name>", "xlsx or ods for a workbook, any other format for a ZIP (default: from -o's extension)")
      .option("-o, --output <file>", "where to write (default: the name the server proposes, e.g. bundle-20261201-101500.zip)")
      .option("--fields <entity=a,b>", "an entity's fields, in order (repeatable; default: all)", collect)
      .action(withServer(runExportBundle)),
    "dx bundle-export users,courses,enrollments -f csv -o bundle.zip",
    "dx bundle-export users,courses -f xlsx -o bundle.xlsx --fields users=email,username",
  );

  example(
    program
      .command("bundle-import")
      .description("import a workbook with a sheet per entity, or a ZIP of one file per entity, in dependency order")
      .argument("<file>", "the workbook or ZIP")
      .option("--strict", "write nothing of any part if any row of any part is rejected")
      .option("--no-strict", "write each part's valid rows and report the others (the server's default unless configured otherwise)")
      .option("--dry-run", "check every part and report what would happen; write nothing")
      .option("--mode <entity=mode>", "insert, upsert, merge or skip-existing for one entity (repeatable; default insert)", collect)
      .option("--option <entity.key=value>", "a format option of one entity's part (repeatable): --option enrollments.delimiter=';'", collect)
      .option("--mapping <entity=file>", "a JSON mapping file for one entity's part (repeatable)", collect)
      .action(withServer(runImportBundle)),
    "dx bundle-import bundle.zip --strict",
    "dx bundle-import bundle.xlsx --mode users=upsert --mode courses=upsert --dry-run",
  );

  example(
    program
      .command("jobs")
      .description("list jobs, newest first")
      .addOption(new Option("--state <state>", "only jobs in this state").choices(["running", "succeeded", "failed", "cancelled"]))
      .option("--entity <entity>", "only jobs on this entity")
      .addOption(new Option("--kind <kind>", "only imports, exports or reverts").choices(["import", "export", "revert"]))
      .option("--mine", "only the jobs of the signed-in user")
      .option("--subject <subject>", "only the jobs of this user (auditors, admins)")
      .option("--limit <n>", "at most n jobs (default 50)")
      .action(withServer(runJobs)),
    "dx jobs --state running --mine",
  );

  example(program.command("job").description("show one job: state, counts, first row errors").argument("<id>", "the job id").action(withServer(runJob)), "dx job 6f1c…");

  example(program.command("cancel").description("cancel a running job (it ends cancelled)").argument("<id>", "the job id").action(withServer(runCancel)), "dx cancel 6f1c…");

  example(
    program
      .command("revert")
      .description("undo an import: delete what it inserted, put back what it changed (records changed since are left as they are)")
      .argument("<id>", "the import's job id")
      .action(withServer(runRevert)),
    "dx revert 6f1c…",
  );

  example(
    program
      .command("watch")
      .description("follow a running job to its end: progress, row errors as they are stored, the outcome (exit code as if you ran it); Ctrl-C stops watching, not the job")
      .argument("<id>", "the job id")
      .action(withServer(runWatch)),
    "dx watch 6f1c…",
  );

  example(
    program
      .command("failed-rows")
      .description("save the rows an import rejected (in the file's format), or with --errors a CSV of the reasons")
      .argument("<id>", "the import job id")
      .option("-o, --output <file>", 'where to write; "-" is stdout')
      .option("--errors", "a CSV of row, line, column, value, reason instead of the rows")
      .option("--part <name>", "a bundle import's part (users.csv, or users): its rejected rows, in its own file's form")
      .action(withServer(runFailedRows)),
    "dx failed-rows 6f1c… -o rejected.csv",
    "dx failed-rows 6f1c… --part enrollments.csv -o enrollments-rejected.csv",
  );

  example(
    program
      .command("audit")
      .description("list the audit trail of imports and exports (auditors, admins), newest first")
      .option("--subject <subject>", "only this user's actions")
      .addOption(new Option("--action <action>", "only this action").choices(["export", "import", "put", "delete", "write"]))
      .option("--entity <entity>", "only on this entity")
      .option("--since <date>", "from this ISO 8601 date (midnight UTC) or time with its zone (Z, +02:00) on")
      .option("--until <date>", "before this ISO 8601 date (midnight UTC) or time with its zone")
      .option("--limit <n>", "at most n events (default 50)")
      .action(withServer(runAudit)),
    "dx audit --action import --since 2026-01-01",
  );

  example(
    program
      .command("login")
      .description("sign in at the identity provider the services trust (browser, or --device), or store a pasted token (--with-token)")
      .option("--device", "sign in with a code confirmed on any device (no browser here)")
      .option("--with-token", "read a token from stdin and keep it")
      .option("--issuer <url>", "the OpenID Connect provider (default DX_AUTH_ISSUER, else the development one on 127.0.0.1:9000)")
      .option("--client-id <id>", "this client's id at the provider (default dataexchange-cli)")
      .option("--resource <uri>", "the resource the token is for (default urn:dataexchange:transfer)")
      .action(async (options, command: Command) => {
        result.exitCode = await runLogin(outputOf(globals(command)), options);
      }),
    "dx login",
    "dx login --device",
    "npm run -s token -- --roles admin | dx login --with-token",
  );

  example(
    program
      .command("logout")
      .description("revoke the kept sign-in and remove the token file")
      .action(async (_options, command: Command) => {
        result.exitCode = await runLogout(outputOf(globals(command)));
      }),
    "dx logout",
  );

  example(
    program
      .command("completion")
      .description("print a shell completion script")
      .argument("<shell>", "bash")
      .action(async (shell: string) => {
        if (shell !== "bash") throw usageError(`no completion for ${JSON.stringify(shell)}; only bash`);
        process.stdout.write(bashCompletion(program));
        result.exitCode = 0;
      }),
    'eval "$(dx completion bash)"     # or: dx completion bash > /etc/bash_completion.d/dx',
  );
  for (const command of [program, ...program.commands]) refuseRepeats(command);
  return program;
}

/** Options that are lists: given again, they add to the list. */
const REPEATABLE = new Set(["fields", "filter", "sort", "option", "map"]);

/**
 * Commander keeps the last of a value given twice (`--mode insert --mode
 * upsert`); a command line must mean one thing, so the second is refused.
 */
function refuseRepeats(command: Command): void {
  for (const option of command.options) {
    if (!(option.required || option.optional) || REPEATABLE.has(option.name())) continue;
    let seen = false;
    command.on(`option:${option.name()}`, () => {
      if (seen) throw usageError(`${option.long} is given twice; give it once`);
      seen = true;
    });
  }
}
