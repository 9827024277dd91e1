/**
 * gRPC server reflection (`grpc.reflection.v1.ServerReflection`) served from
 * the protobuf-es descriptors that are compiled into gen/, so that `buf curl`,
 * grpcurl and Postman can list and call both services with no schema file.
 *
 * No npm package serves reflection from a connect-node router (the existing
 * ones are tied to grpc-js or nice-grpc), and the descriptors are already in
 * memory: every generated file embeds its FileDescriptorProto, so answering is
 * an index lookup plus `toBinary`.
 */
import { create, toBinary, type DescEnum, type DescExtension, type DescFile, type DescMessage, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ServiceImpl } from "@connectrpc/connect";
import {
  ErrorResponseSchema,
  ExtensionNumberResponseSchema,
  FileDescriptorResponseSchema,
  ListServiceResponseSchema,
  type ServerReflection,
  ServerReflectionResponseSchema,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from "../../../gen/grpc/reflection/v1/reflection_pb.js";

/** What a reflection service can be built from: descriptors, or a protobuf-es registry (iterable of them). */
export type ReflectionSource = Iterable<DescService | DescMessage | DescEnum | DescExtension | DescFile>;

type ErrorAnswer = { code: Code; message: string };

/**
 * Answers reflection requests from an index of files and symbols built once at
 * construction.
 *
 * - The services it lists are exactly the `DescService`s it was given (a
 *   registry contributes all of its services): a client must only see what the
 *   server routes. Everything else given (files, messages, enums, extensions)
 *   and every file reachable through imports is searchable by name.
 * - Each file answer carries the file and all its transitive imports
 *   (google/protobuf/timestamp.proto, struct.proto, ...), because a client
 *   cannot build a descriptor whose imports it lacks. The spec allows leaving
 *   out files already sent on the stream; we always send them, so every answer
 *   stands alone (simpler, and the files are small).
 * - Errors go into `error_response` with a gRPC code, and the stream goes on:
 *   the spec reserves RPC errors for a broken stream, and clients such as
 *   grpcurl treat a failed lookup as "not found", not as a dead server.
 */
export class ReflectionService implements ServiceImpl<typeof ServerReflection> {
  private readonly serviceNames: string[];
  private readonly files = new Map<string, DescFile>();
  private readonly symbols = new Map<string, DescFile>();
  /** extendee type name → field number → extension */
  private readonly extensions = new Map<string, Map<number, DescExtension>>();
  private readonly encoded = new Map<DescFile, Uint8Array>();

  constructor(source: ReflectionSource) {
    const services = new Set<string>();
    for (const desc of source) {
      if (desc.kind === "service") services.add(desc.typeName);
      this.addFile(desc.kind === "file" ? desc : desc.file);
    }
    this.serviceNames = [...services].sort();
  }

  /** Full names of the listed services, sorted. */
  get services(): readonly string[] {
    return this.serviceNames;
  }

  /** Answers each request of the bidi stream in order, until the client half-closes. */
  async *serverReflectionInfo(requests: AsyncIterable<ServerReflectionRequest>): AsyncGenerator<ServerReflectionResponse> {
    for await (const request of requests) {
      yield this.answer(request);
    }
  }

  /** Answers one request; public so that it can be tested and reused without a stream. */
  answer(request: ServerReflectionRequest): ServerReflectionResponse {
    const base = { validHost: request.host, originalRequest: request };
    const result = this.resolve(request);
    if ("code" in result) {
      return create(ServerReflectionResponseSchema, {
        ...base,
        messageResponse: {
          case: "errorResponse",
          value: create(ErrorResponseSchema, { errorCode: result.code, errorMessage: result.message }),
        },
      });
    }
    return create(ServerReflectionResponseSchema, { ...base, messageResponse: result });
  }

  /** The file and its transitive imports, the file first, serialized as FileDescriptorProto. */
  fileDescriptorProtos(file: DescFile): Uint8Array[] {
    const out: Uint8Array[] = [];
    const seen = new Set<DescFile>();
    const visit = (f: DescFile) => {
      if (seen.has(f)) return;
      seen.add(f);
      out.push(this.encode(f));
      for (const dep of f.dependencies) visit(dep);
    };
    visit(file);
    return out;
  }

  private resolve(request: ServerReflectionRequest): ServerReflectionResponse["messageResponse"] | ErrorAnswer {
    const req = request.messageRequest;
    switch (req.case) {
      case "listServices":
        return {
          case: "listServicesResponse",
          value: create(ListServiceResponseSchema, { service: this.serviceNames.map((name) => ({ name })) }),
        };
      case "fileByFilename":
        return this.fileAnswer(this.files.get(req.value), `file "${req.value}"`);
      case "fileContainingSymbol":
        return this.fileAnswer(this.symbols.get(stripDot(req.value)), `symbol "${req.value}"`);
      case "fileContainingExtension": {
        const { containingType, extensionNumber } = req.value;
        const ext = this.extensions.get(stripDot(containingType))?.get(extensionNumber);
        return this.fileAnswer(ext?.file, `extension ${extensionNumber} of "${containingType}"`);
      }
      case "allExtensionNumbersOfType": {
        const typeName = stripDot(req.value);
        if (!this.symbols.has(typeName)) return { code: Code.NotFound, message: `type "${req.value}" not found` };
        const numbers = [...(this.extensions.get(typeName)?.keys() ?? [])].sort((a, b) => a - b);
        return {
          case: "allExtensionNumbersResponse",
          value: create(ExtensionNumberResponseSchema, { baseTypeName: typeName, extensionNumber: numbers }),
        };
      }
      default:
        return { code: Code.InvalidArgument, message: "reflection request has no message_request set" };
    }
  }

  private fileAnswer(file: DescFile | undefined, what: string): ServerReflectionResponse["messageResponse"] | ErrorAnswer {
    if (!file) return { code: Code.NotFound, message: `${what} not found` };
    return {
      case: "fileDescriptorResponse",
      value: create(FileDescriptorResponseSchema, { fileDescriptorProto: this.fileDescriptorProtos(file) }),
    };
  }

  private encode(file: DescFile): Uint8Array {
    let bytes = this.encoded.get(file);
    if (!bytes) {
      // file.proto is the embedded descriptor with its `dependency` list restored
      // by protobuf-es (fileDesc), which is what a client needs to link it.
      bytes = toBinary(FileDescriptorProtoSchema, file.proto);
      this.encoded.set(file, bytes);
    }
    return bytes;
  }

  private addFile(file: DescFile): void {
    const name = file.proto.name;
    if (this.files.has(name)) return;
    this.files.set(name, file);
    for (const service of file.services) {
      this.symbols.set(service.typeName, file);
      for (const method of service.methods) this.symbols.set(`${service.typeName}.${method.name}`, file);
    }
    for (const message of file.messages) this.addMessage(message);
    for (const e of file.enums) this.addEnum(e);
    for (const ext of file.extensions) this.addExtension(ext);
    for (const dep of file.dependencies) this.addFile(dep);
  }

  private addMessage(message: DescMessage): void {
    this.symbols.set(message.typeName, message.file);
    for (const field of message.fields) this.symbols.set(`${message.typeName}.${field.name}`, message.file);
    for (const oneof of message.oneofs) this.symbols.set(`${message.typeName}.${oneof.name}`, message.file);
    for (const nested of message.nestedMessages) this.addMessage(nested);
    for (const e of message.nestedEnums) this.addEnum(e);
    for (const ext of message.nestedExtensions) this.addExtension(ext);
  }

  private addEnum(e: DescEnum): void {
    this.symbols.set(e.typeName, e.file);
    // Enum values are scoped like their enum's siblings (C++ scoping rules).
    const scope = e.typeName.slice(0, Math.max(0, e.typeName.lastIndexOf(".")));
    for (const value of e.values) this.symbols.set(scope ? `${scope}.${value.name}` : value.name, e.file);
  }

  private addExtension(ext: DescExtension): void {
    this.symbols.set(ext.typeName, ext.file);
    let byNumber = this.extensions.get(ext.extendee.typeName);
    if (!byNumber) this.extensions.set(ext.extendee.typeName, (byNumber = new Map()));
    byNumber.set(ext.number, ext);
  }
}

/** Clients sometimes send fully-qualified names with protoc's leading dot. */
function stripDot(name: string): string {
  return name.startsWith(".") ? name.slice(1) : name;
}
