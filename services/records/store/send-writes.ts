/**
 * Sends a batch's planned writes to the database, and settles the batch
 * exactly when the connection drops before the database answered.
 *
 * A bulk write cut off by a crash or a reset may have stored all, some or
 * none of its writes (FerretDB commits an insert of 1000 documents in chunks
 * of 100; MongoDB applies an unordered batch write by write), and the driver
 * does not say which. Repeating the whole batch would be wrong for inserts —
 * the ones that landed would come back as duplicates and be reported as
 * existing records — and reporting it written would be worse: that is how a
 * database killed mid-import lost acknowledged rows. So every insert carries
 * an `_id` chosen here, and after an interruption, once the database answers
 * again, the inserts whose `_id` is stored are known to have landed; only the
 * others are sent again, together with the replacements and `$set` updates
 * (by `_id`, so repeating them changes nothing). That repeats within the
 * retry budget (services/shared/mongo/transient-retry.ts); past it, the batch
 * fails with {@link WriteInterruptedError} (UNAVAILABLE), and nothing about
 * it is reported written.
 *
 * Replacements and updates go at most {@link UPDATES_PER_COMMAND} to a
 * command. FerretDB v1.24 keeps each statement of an `update` command's
 * query open until the whole command ends, one SQLite connection each, out
 * of a pool of 100: a command of 100 statements (or several smaller ones at
 * once) waits for a connection forever — measured: 99 replacements answer in
 * 0.3 s, 100 never. Inserts are not affected and go in one command.
 */
import { MongoBulkWriteError, ObjectId, type AnyBulkWriteOperation, type Collection, type Document } from "mongodb";
import { interruptionOf, isTransientDatabaseError } from "../../shared/mongo/database-unavailable.js";
import { retryTransient } from "../../shared/mongo/transient-retry.js";
import { WriteInterruptedError } from "../errors.js";

/** Most replacements and updates in one command (see the module comment). */
export const UPDATES_PER_COMMAND = 25;

/** A write the database refused (a unique index, a bad document), by its index in the ops given. */
export interface WriteRefusal {
  index: number;
  code: number | undefined;
  errmsg: string | undefined;
}

/**
 * Writes `ops` (ordered or not) and returns the writes the database refused
 * (in an ordered batch, nothing after the first refusal is attempted);
 * throws {@link WriteInterruptedError} when the database could not be
 * reached long enough to know what was stored, or the error itself when it
 * is not about reaching the database.
 */
export async function sendWrites(collection: Collection<Document>, ops: AnyBulkWriteOperation<Document>[], ordered: boolean): Promise<WriteRefusal[]> {
  for (const op of ops) if ("insertOne" in op) op.insertOne.document._id ??= new ObjectId();
  /** Indexes into `ops` not known to be stored (or refused), in order. */
  let pending = ops.map((_, i) => i);
  const refusals: WriteRefusal[] = [];
  let interrupted = false;
  try {
    await retryTransient(async () => {
      if (interrupted) pending = await withoutLanded(collection, ops, pending);
      while (pending.length > 0) {
        const command = nextCommand(ops, pending);
        try {
          await collection.bulkWrite(
            command.map((i) => ops[i]!),
            { ordered },
          );
        } catch (error) {
          if (!(error instanceof MongoBulkWriteError) || interruptionOf(error)) {
            interrupted ||= isTransientDatabaseError(error) || interruptionOf(error) !== undefined;
            throw error;
          }
          refusals.push(...writeErrorsOf(error).map((e) => ({ index: command[e.index]!, code: e.code, errmsg: e.errmsg })));
          if (ordered) return;
        }
        pending = pending.slice(command.length);
      }
    });
  } catch (error) {
    if (interrupted) throw new WriteInterruptedError(pending.length, ops.length, { cause: interruptionOf(error) ?? error });
    throw interruptionOf(error) ?? error;
  }
  return refusals;
}

/** The first of `pending` that go in one command: every insert up to {@link UPDATES_PER_COMMAND} other writes. */
function nextCommand(ops: AnyBulkWriteOperation<Document>[], pending: number[]): number[] {
  let updates = 0;
  let end = 0;
  while (end < pending.length) {
    if (!("insertOne" in ops[pending[end]!]!) && ++updates > UPDATES_PER_COMMAND) break;
    end++;
  }
  return pending.slice(0, end);
}

/** `pending` less the inserts whose `_id` is stored: they landed before the connection dropped. */
async function withoutLanded(collection: Collection<Document>, ops: AnyBulkWriteOperation<Document>[], pending: number[]): Promise<number[]> {
  const ids = pending.flatMap((i) => {
    const op = ops[i]!;
    return "insertOne" in op ? [op.insertOne.document._id as ObjectId] : [];
  });
  if (ids.length === 0) return pending;
  const landed = new Set<string>();
  for await (const doc of collection.find({ _id: { $in: ids } }, { projection: { _id: 1 } })) landed.add(String(doc._id));
  return pending.filter((i) => {
    const op = ops[i]!;
    return !("insertOne" in op && landed.has(String(op.insertOne.document._id)));
  });
}

function writeErrorsOf(error: MongoBulkWriteError): { index: number; code: number | undefined; errmsg: string | undefined }[] {
  const list = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
  return list.filter((e) => e !== undefined).map((e) => ({ index: e.index, code: e.code, errmsg: e.errmsg }));
}
