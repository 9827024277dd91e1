/**
 * Bytes cross threads by transfer, not by structured clone: cloning a
 * `Uint8Array` copies its whole backing `ArrayBuffer`, and a chunk is often a
 * small view of a large buffer (a socket read, Node's 8 KiB `Buffer` pool, a
 * decoded protobuf message). Transferring moves the buffer without a copy but
 * detaches it on the sending side, which is only safe for a buffer nobody
 * else uses.
 */

export interface Transferable {
  bytes: Uint8Array;
  /** The transfer list for `postMessage`. */
  transfer: ArrayBuffer[];
}

/**
 * A chunk ready to post. With `handOver`, a chunk that is the whole of its
 * own `ArrayBuffer` moves as it is (a plugin's yielded chunk belongs to the
 * consumer); anything else (a view of a bigger or shared buffer, or a chunk a
 * producer may still use) is first copied into an `ArrayBuffer` of its own,
 * of exactly its size.
 */
export function transferable(chunk: Uint8Array, handOver: boolean): Transferable {
  const buffer = chunk.buffer;
  if (handOver && buffer instanceof ArrayBuffer && chunk.byteOffset === 0 && chunk.byteLength === buffer.byteLength) {
    return { bytes: chunk, transfer: [buffer] };
  }
  const copy = new Uint8Array(chunk.byteLength);
  copy.set(chunk);
  return { bytes: copy, transfer: [copy.buffer] };
}

/**
 * A received chunk as a `Buffer` (a view, no copy): plugins and the core get
 * the same kind of chunk in a worker as in-thread, where sources yield
 * Buffers.
 */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
