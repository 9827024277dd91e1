/**
 * A typed `@grpc/grpc-js` client for any protobuf-es service descriptor.
 *
 * Test support: callers inside an organisation often use plain grpc-js
 * rather than Connect, so both services are tested against such a client
 * (tests only: the services call each other with Connect clients).
 * It is built with `makeGenericClientConstructor`, the same path
 * `@grpc/proto-loader` clients take, so grpc-js interceptors and
 * `@opentelemetry/instrumentation-grpc` (which patches that constructor) see
 * its calls; protobuf-es does the (de)serialization with `toBinary`/`fromBinary`.
 */
import { once } from "node:events";
import {
  create,
  fromBinary,
  isMessage,
  toBinary,
  type DescMessage,
  type DescMethod,
  type DescMethodBiDiStreaming,
  type DescMethodClientStreaming,
  type DescMethodServerStreaming,
  type DescMethodUnary,
  type DescService,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";

/** Per-call options, in the spirit of Connect's CallOptions. */
export interface GrpcJsCallOptions {
  /** Cancels the call (the server sees its handler signal abort). */
  signal?: AbortSignal;
  /** Deadline relative to now, in milliseconds. */
  timeoutMs?: number;
  /** Request metadata (headers), e.g. `{ authorization: "Bearer …" }`. */
  headers?: Record<string, string | string[]> | grpc.Metadata;
  /** Anything else grpc-js takes per call (interceptors, credentials, …). */
  callOptions?: grpc.CallOptions;
}

/**
 * A bidi-streaming call: write requests, end the request side, and iterate the
 * responses. `write` resolves once grpc-js can take more (backpressure).
 */
export interface GrpcJsBidiCall<I extends DescMessage, O extends DescMessage> extends AsyncIterable<MessageShape<O>> {
  write(message: MessageInitShape<I>): Promise<void>;
  /** Half-closes: the server's request iterable ends, responses keep coming. */
  end(): void;
  /** Cancels the call; iteration then ends with a CANCELLED error. */
  cancel(): void;
  /** The underlying grpc-js stream, for metadata and status events. */
  readonly call: grpc.ClientDuplexStream<MessageInitShape<I>, MessageShape<O>>;
}

/** Each method of the service, shaped by its kind. */
export type GrpcJsMethods<T extends DescService> = {
  [P in keyof T["method"]]: T["method"][P] extends DescMethodUnary<infer I, infer O>
    ? (request: MessageInitShape<I>, options?: GrpcJsCallOptions) => Promise<MessageShape<O>>
    : T["method"][P] extends DescMethodServerStreaming<infer I, infer O>
      ? (request: MessageInitShape<I>, options?: GrpcJsCallOptions) => AsyncIterable<MessageShape<O>>
      : T["method"][P] extends DescMethodClientStreaming<infer I, infer O>
        ? (requests: AsyncIterable<MessageInitShape<I>> | Iterable<MessageInitShape<I>>, options?: GrpcJsCallOptions) => Promise<MessageShape<O>>
        : T["method"][P] extends DescMethodBiDiStreaming<infer I, infer O>
          ? (options?: GrpcJsCallOptions) => GrpcJsBidiCall<I, O>
          : never;
};

/** The client: one function per method, plus the grpc-js client and `close`. */
export type GrpcJsClient<T extends DescService> = GrpcJsMethods<T> & {
  /** The grpc-js client (its channel, `waitForReady`, …). */
  readonly grpcClient: grpc.Client;
  /** Closes the channel. */
  close(): void;
};

/** Options of {@link createGrpcJsClient}. */
export interface GrpcJsClientOptions {
  /** Defaults to insecure (h2c), which is what the services serve in development. */
  credentials?: grpc.ChannelCredentials;
  /** grpc-js channel options, e.g. `"grpc.max_receive_message_length"`. */
  channelOptions?: grpc.ChannelOptions;
}

type AnyMessage = MessageShape<DescMessage>;
type DynamicClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

/**
 * Creates a grpc-js client for `service` at `address` (`host:port`; an
 * `http://host:port` URL is accepted too).
 *
 * Unary methods return promises, server-streaming methods async iterables
 * (breaking out of the loop cancels the call), client-streaming methods take
 * an iterable of requests, and bidi methods return a {@link GrpcJsBidiCall}.
 * Failures are grpc-js `ServiceError`s (`code`, `details`, `metadata`).
 */
export function createGrpcJsClient<T extends DescService>(service: T, address: string, options: GrpcJsClientOptions = {}): GrpcJsClient<T> {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    if (method.localName === "close" || method.localName === "grpcClient") {
      throw new Error(`method ${method.name} of ${service.typeName} collides with a member of GrpcJsClient`);
    }
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      originalName: method.name,
      requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: (value: unknown) => serialize(method.input, value),
      requestDeserialize: (bytes: Buffer) => fromBinary(method.input, bytes),
      responseSerialize: (value: unknown) => serialize(method.output, value),
      responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
    };
  }
  const Constructor = grpc.makeGenericClientConstructor(definition, service.typeName);
  const target = address.replace(/^https?:\/\//, "").replace(/\/$/, "");
  const client = new Constructor(target, options.credentials ?? grpc.credentials.createInsecure(), options.channelOptions) as unknown as DynamicClient;

  const methods: Record<string, unknown> = {};
  for (const method of service.methods) methods[method.localName] = bindMethod(client, method);
  return Object.assign(methods, { grpcClient: client, close: () => client.close() }) as GrpcJsClient<T>;
}

function bindMethod(client: DynamicClient, method: DescMethod): unknown {
  const fn = client[method.localName]!.bind(client);
  switch (method.methodKind) {
    case "unary":
      return (request: unknown, opts: GrpcJsCallOptions = {}) =>
        new Promise<AnyMessage>((resolve, reject) => {
          const call = fn(request, metadataOf(opts), callOptionsOf(opts), (error: grpc.ServiceError | null, response?: AnyMessage) =>
            error ? reject(error) : resolve(response!),
          ) as grpc.ClientUnaryCall;
          cancelOnAbort(call, opts.signal);
        });
    case "server_streaming":
      return (request: unknown, opts: GrpcJsCallOptions = {}) => serverStream(() => fn(request, metadataOf(opts), callOptionsOf(opts)) as grpc.ClientReadableStream<AnyMessage>, opts.signal);
    case "client_streaming":
      return (requests: AsyncIterable<unknown> | Iterable<unknown>, opts: GrpcJsCallOptions = {}) =>
        new Promise<AnyMessage>((resolve, reject) => {
          let settled = false;
          const call = fn(metadataOf(opts), callOptionsOf(opts), (error: grpc.ServiceError | null, response?: AnyMessage) => {
            settled = true;
            if (error) reject(error);
            else resolve(response!);
          }) as grpc.ClientWritableStream<unknown>;
          cancelOnAbort(call, opts.signal);
          void (async () => {
            for await (const request of requests) {
              if (settled) return;
              if (!call.write(request)) await drainOrClose(call);
            }
            call.end();
          })().catch((error: unknown) => {
            call.cancel();
            reject(error);
          });
        });
    case "bidi_streaming":
      return (opts: GrpcJsCallOptions = {}) => {
        const call = fn(metadataOf(opts), callOptionsOf(opts)) as grpc.ClientDuplexStream<unknown, AnyMessage>;
        cancelOnAbort(call, opts.signal);
        const bidi: GrpcJsBidiCall<DescMessage, DescMessage> = {
          call: call as GrpcJsBidiCall<DescMessage, DescMessage>["call"],
          async write(message) {
            if (!call.write(message)) await drainOrClose(call);
          },
          end: () => call.end(),
          cancel: () => call.cancel(),
          [Symbol.asyncIterator]: () => call[Symbol.asyncIterator]() as AsyncIterator<AnyMessage>,
        };
        return bidi;
      };
  }
}

async function* serverStream(start: () => grpc.ClientReadableStream<AnyMessage>, signal: AbortSignal | undefined): AsyncGenerator<AnyMessage> {
  const call = start();
  cancelOnAbort(call, signal);
  try {
    for await (const message of call) yield message as AnyMessage;
  } finally {
    // No-op when the call already finished; frees the server's cursor when the caller broke out early.
    call.cancel();
  }
}

/** Waits until grpc-js wants more, or until the call is over (then writing is pointless). */
async function drainOrClose(call: grpc.ClientWritableStream<unknown>): Promise<void> {
  const ac = new AbortController();
  try {
    await Promise.race([once(call, "drain", { signal: ac.signal }), once(call, "close", { signal: ac.signal }), once(call, "status", { signal: ac.signal })]);
  } finally {
    ac.abort();
  }
}

function serialize(schema: DescMessage, value: unknown): Buffer {
  const message = isMessage(value, schema) ? value : create(schema, value as MessageInitShape<DescMessage>);
  const bytes = toBinary(schema, message);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function metadataOf(opts: GrpcJsCallOptions): grpc.Metadata {
  if (opts.headers instanceof grpc.Metadata) return opts.headers;
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(opts.headers ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) metadata.add(key, v);
  }
  return metadata;
}

function callOptionsOf(opts: GrpcJsCallOptions): grpc.CallOptions {
  const callOptions: grpc.CallOptions = { ...opts.callOptions };
  if (opts.timeoutMs !== undefined) callOptions.deadline = Date.now() + opts.timeoutMs;
  return callOptions;
}

function cancelOnAbort(call: { cancel(): void }, signal: AbortSignal | undefined): void {
  if (!signal) return;
  if (signal.aborted) {
    call.cancel();
    return;
  }
  const onAbort = () => call.cancel();
  signal.addEventListener("abort", onAbort, { once: true });
  const done = () => signal.removeEventListener("abort", onAbort);
  (call as unknown as NodeJS.EventEmitter).once?.("status", done);
}
