/**
 * A form field's text, from the bytes that were sent (part-headers.ts keeps
 * them). busboy decodes fields itself and says nothing when the bytes are not
 * what it decodes: bytes that are not UTF-8 become U+FFFD, and a field
 * declared `charset=windows-1252` is read as latin1 (0x80 is "€" in one and
 * a control character in the other). A mapping's `default` value is stored
 * in every row it fills, so a field read that way would change records
 * without a word. Form fields are UTF-8 (what browsers, curl and HTTP client
 * libraries send); bytes that are not, or a declared charset that is not
 * UTF-8 or US-ASCII, are refused with 400 naming the field.
 */
import { byteHex, invalidUtf8At } from "../../../../formats/_sdk/index.js";
import { InvalidTransferRequestError } from "../../errors.js";
import { charsetOf } from "./declared-charset.js";

/** Charsets a form field may declare: UTF-8 and its ASCII part. */
export const FIELD_CHARSETS: ReadonlySet<string> = new Set(["utf-8", "utf8", "us-ascii", "ascii"]);

/** The field's text; throws InvalidTransferRequestError (400, naming the field) for bytes that are not the UTF-8 or US-ASCII it is read as. */
export function formFieldText(name: string, bytes: Buffer, partContentType: string | undefined): string {
  const charset = charsetOf(partContentType);
  if (charset !== undefined && !FIELD_CHARSETS.has(charset)) {
    throw new InvalidTransferRequestError(`the form field ${name} declares charset=${charset}; form fields are read as UTF-8 only: send it as UTF-8 (a charset of utf-8, or none)`, name);
  }
  if (charset === "us-ascii" || charset === "ascii") {
    const at = bytes.findIndex((b) => b > 0x7f);
    if (at >= 0)
      throw new InvalidTransferRequestError(`the form field ${name} declares charset=${charset} but holds byte ${byteHex(bytes[at]!)} at offset ${at}, which is not ASCII; send it as UTF-8`, name);
  }
  const at = invalidUtf8At(bytes);
  if (at < bytes.length) {
    throw new InvalidTransferRequestError(`the form field ${name} is not valid UTF-8: byte ${byteHex(bytes[at]!)} at offset ${at}; form fields are read as UTF-8, so send it as UTF-8`, name);
  }
  return bytes.toString("utf8");
}
