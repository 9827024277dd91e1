/**
 * Counts, hashes and bounds the raw bytes of an upload as they stream past,
 * before the plugin sees them: the file-size limit is enforced on bytes
 * received (never after buffering), and the job's checksum is the SHA-256 of
 * exactly the bytes read, without a second pass over the file.
 */
import { createHash } from "node:crypto";

/** Thrown into the plugin's source when the file outgrows the limit; the import recognises it and stops. */
export class FileTooLargeError extends Error {
  override name = "FileTooLargeError";
  constructor(readonly maxFileBytes: number) {
    super(`the file is larger than the limit of ${maxFileBytes} bytes (maxFileBytes)`);
  }
}

export class ByteMeter {
  private readonly hash = createHash("sha256");
  /** Bytes accepted so far (the chunk that crossed the limit is not counted). */
  bytes = 0;
  /** Set when the limit was hit, so the import can tell this stop from a plugin's own error. */
  exceeded: FileTooLargeError | undefined;

  constructor(private readonly maxFileBytes: number) {}

  /** Passes chunks through, counting and hashing them; throws {@link FileTooLargeError} at the limit. */
  async *wrap(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      if (this.bytes + chunk.byteLength > this.maxFileBytes) {
        this.exceeded = new FileTooLargeError(this.maxFileBytes);
        throw this.exceeded;
      }
      this.bytes += chunk.byteLength;
      this.hash.update(chunk);
      yield chunk;
    }
  }

  /** Hex SHA-256 of the bytes accepted so far. */
  digest(): string {
    return this.hash.copy().digest("hex");
  }
}
