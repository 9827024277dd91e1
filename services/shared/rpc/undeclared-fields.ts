/**
 * Refuses a binary request that carries a field this service's protos do not
 * declare. Protobuf's binary parsers keep such a field aside (`$unknown`) and
 * the handler never sees it, so a caller built from a newer schema — an
 * export option added, say `redact_personal = 12` — would get an answer as if
 * it had not asked, without a word. The JSON encodings already refuse an
 * unknown field name; this makes the binary ones (gRPC, Connect and gRPC-Web
 * with protobuf) say the same thing, before the handler runs or, in a
 * client stream, when the message arrives.
 *
 * Records inside a batch (`EntityRecord`) are left to the record codec, which
 * refuses them one by one (shared/records-wire/record-codec.ts) so that the
 * other records of the batch are still written, and which reads them from
 * their bytes (the unread descriptors leave a batch's records as unknown
 * fields on purpose: records-read.ts).
 */
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { EntityRecordSchema } from "../../../gen/dataexchange/records/v1/records_pb.js";

/** Messages whose undeclared fields are someone else's to judge. */
const LEFT_TO_OTHERS: ReadonlySet<string> = new Set([EntityRecordSchema.typeName]);

interface UndeclaredField {
  /** The message type that does not declare it. */
  typeName: string;
  /** Its path in the request (`header.options`), empty for the request itself. */
  path: string;
  numbers: number[];
}

/** The numbers of the fields a parsed message carries that its type does not declare (protobuf-es's `$unknown`), or undefined. */
export function undeclaredFieldNumbers(message: unknown): number[] | undefined {
  const unknown = (message as { $unknown?: { no: number }[] } | undefined)?.$unknown;
  return unknown && unknown.length > 0 ? [...new Set(unknown.map((u) => u.no))] : undefined;
}

/** The first message in `value` (depth first) carrying fields its type does not declare. */
export function findUndeclaredField(value: unknown, path = ""): UndeclaredField | undefined {
  if (typeof value !== "object" || value === null || value instanceof Uint8Array) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUndeclaredField(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  const message = value as { $typeName?: string; $unknown?: { no: number }[] } & Record<string, unknown>;
  if (message.$typeName !== undefined) {
    if (LEFT_TO_OTHERS.has(message.$typeName)) return undefined;
    const numbers = undeclaredFieldNumbers(message);
    if (numbers) return { typeName: message.$typeName, path, numbers };
  }
  for (const key of Object.keys(message)) {
    if (key === "$typeName" || key === "$unknown") continue;
    const child = message[key];
    // A oneof is { case, value }: its value sits under the case's name.
    const isOneof = typeof child === "object" && child !== null && "case" in child && "value" in child && message.$typeName !== undefined;
    const found = isOneof ? findUndeclaredField((child as { value: unknown }).value, join(path, String((child as { case: unknown }).case))) : findUndeclaredField(child, join(path, key));
    if (found) return found;
  }
  return undefined;
}

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

/** The refusal of a request message carrying `found`. */
export function undeclaredFieldError(found: UndeclaredField): ConnectError {
  const where = found.path ? ` (at ${found.path})` : "";
  const numbers = found.numbers.join(", ");
  return new ConnectError(
    `the request carries field number ${numbers} of ${found.typeName}${where}, which this service's protos do not declare (a client built from a newer schema?); refused rather than ignored`,
    Code.InvalidArgument,
  );
}

function check(message: unknown): void {
  const found = findUndeclaredField(message);
  if (found) throw undeclaredFieldError(found);
}

async function* checkEach<T>(messages: AsyncIterable<T>): AsyncIterable<T> {
  for await (const message of messages) {
    check(message);
    yield message;
  }
}

/** The server interceptor: every request message, unary or streamed, checked before its handler sees it. */
export const refuseUndeclaredFields: Interceptor = (next) => async (req) => {
  if (req.stream) return next({ ...req, message: checkEach(req.message) });
  check(req.message);
  return next(req);
};
