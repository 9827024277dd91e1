/**
 * Whether a call is answered in the protobuf binary format: gRPC, gRPC-Web
 * and the Connect protocol each come in a binary and a JSON flavour, told by
 * the request's content type. A handler that hands over pre-encoded fields
 * (records-wire/record-bytes.ts, which only binary serialization writes)
 * asks this first; a call it cannot tell (a handler called directly, with no
 * content type) gets plain messages.
 */
import type { HandlerContext } from "@connectrpc/connect";

const BINARY = new Set(["application/grpc", "application/grpc+proto", "application/grpc-web", "application/grpc-web+proto", "application/connect+proto", "application/proto"]);

export function servesBinary(context: Pick<HandlerContext, "requestHeader"> | undefined): boolean {
  const type = context?.requestHeader?.get("content-type");
  if (!type) return false;
  return BINARY.has(type.split(";")[0]!.trim().toLowerCase());
}
