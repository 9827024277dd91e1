/**
 * Streaming XML for the spreadsheet readers: saxes (a well-kept, conformant
 * streaming parser) fed one decoded chunk at a time, with element names
 * reduced to their local part (`x:c` and `c` are the same cell; generators
 * differ in the prefixes they pick).
 *
 * The parse is push-style, so it is wrapped as a generator that yields after
 * every piece of input: the reader's handlers queue what they found, and the
 * reader drains that queue between pieces. What is held is one piece of XML
 * plus what it produced, whatever the size of the part.
 */
import { SaxesParser, type SaxesTagPlain } from "saxes";
import { FormatError, decodeText } from "@data-exchange/format-sdk";

export interface XmlHandler {
  open?(name: string, attributes: Record<string, string>, selfClosing: boolean): void;
  close?(name: string): void;
  /** Character data, entity references resolved; CDATA sections arrive here too. */
  text?(text: string): void;
}

/** Text is fed to the parser in pieces of at most this many characters. */
const PIECE_CHARS = 64 * 1024;

/** The element name without its namespace prefix. */
export function localName(name: string): string {
  const i = name.indexOf(":");
  return i < 0 ? name : name.slice(i + 1);
}

/**
 * Parses the XML in `chunks`, calling `handler`, and yields after each
 * piece. `part` names the ZIP entry in error messages. `maxTextChars` bounds
 * a run of characters with no markup in it (the parser holds a text node
 * whole before handing it over): past it the file is refused, since no cell
 * may hold that much.
 */
export async function* parseXml(chunks: AsyncIterable<Uint8Array>, handler: XmlHandler, part: string, maxTextChars: number): AsyncGenerator<void> {
  const parser = new SaxesParser({ xmlns: false, position: false });
  // A part has a handful of distinct element names, seen millions of times: strip each prefix once.
  const names = new Map<string, string>();
  const local = (name: string) => {
    let l = names.get(name);
    if (l === undefined) names.set(name, (l = localName(name)));
    return l;
  };
  let events = 0;
  let quiet = 0;
  let failure: Error | undefined;
  parser.on("error", (err) => {
    failure ??= err;
  });
  if (handler.open) {
    const open = handler.open.bind(handler);
    parser.on("opentag", (tag: SaxesTagPlain) => {
      events++;
      open(local(tag.name), tag.attributes as Record<string, string>, tag.isSelfClosing);
    });
  } else parser.on("opentag", () => events++);
  if (handler.close) {
    const close = handler.close.bind(handler);
    parser.on("closetag", (tag: SaxesTagPlain) => {
      events++;
      close(local(tag.name));
    });
  }
  if (handler.text) {
    const text = handler.text.bind(handler);
    parser.on("text", text);
    parser.on("cdata", text);
  }
  const fail = (): never => {
    const err = failure!;
    throw new FormatError(`${part} is not well-formed XML: ${err.message.replace(/^undefined:/, "")}`, {}, { cause: err });
  };
  for await (const text of decodeText(chunks, "utf-8")) {
    for (let at = 0; at < text.length; at += PIECE_CHARS) {
      const piece = at === 0 && text.length <= PIECE_CHARS ? text : text.slice(at, at + PIECE_CHARS);
      events = 0;
      parser.write(piece);
      if (failure) fail();
      quiet = events === 0 ? quiet + piece.length : 0;
      if (quiet > maxTextChars) {
        throw new FormatError(`${part} has a text of more than ${maxTextChars} characters without markup; no cell may be that large`);
      }
      yield;
    }
  }
  parser.close();
  if (failure) fail();
  yield;
}

/** An attribute by its local name, whatever its prefix (`r:id`, `id`). */
export function attr(attributes: Record<string, string>, local: string): string | undefined {
  const direct = attributes[local];
  if (direct !== undefined) return direct;
  for (const name in attributes) if (localName(name) === local) return attributes[name];
  return undefined;
}
