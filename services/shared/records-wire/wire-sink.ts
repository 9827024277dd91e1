/**
 * The few protobuf writes a record needs, into one reused buffer. Hand-written
 * rather than protobuf-es's BinaryWriter (used before this): that writer
 * collects bytes in a JavaScript array and allocates per string, and measured
 * at ~8 µs of CPU per session record against ~1–2 µs here (same bytes).
 * Shared by the two writers of pre-encoded records: from plain records
 * (record-bytes.ts) and from stored BSON (the records service's
 * stored-document-bytes.ts).
 */
import { WireType } from "@bufbuild/protobuf/wire";

export class WireSink {
  buf = Buffer.allocUnsafe(16 * 1024);
  pos = 0;

  /** Makes room for `bytes` more bytes past `pos`. */
  private room(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  tag(fieldNo: number, wireType: WireType): void {
    this.varint((fieldNo << 3) | wireType);
  }

  /** A non-negative whole number below 2^53 (lengths, tags, nanos, seconds after 1970). */
  varint(value: number): void {
    this.room(10);
    this.pos = writeVarint(this.buf, this.pos, value);
  }

  string(value: string): void {
    const length = Buffer.byteLength(value, "utf8");
    this.varint(length);
    this.room(length);
    this.pos += this.buf.write(value, this.pos, length, "utf8");
  }

  /** A length-delimited value whose bytes are already UTF-8 (or already encoded): the length, then a copy. */
  bytes(source: Uint8Array, start: number, end: number): void {
    const length = end - start;
    this.varint(length);
    this.room(length);
    this.buf.set(source.subarray(start, end), this.pos);
    this.pos += length;
  }

  double(value: number): void {
    this.room(8);
    this.pos = this.buf.writeDoubleLE(value, this.pos);
  }

  /** google.protobuf.Timestamp of `ms` as `timestampFromMs` makes it (zero seconds or nanos are left out, proto3), length first. */
  timestamp(ms: number): void {
    const seconds = Math.floor(ms / 1000);
    const nanos = (ms - seconds * 1000) * 1_000_000;
    // int64 seconds before 1970 are ten-byte two's complement varints.
    const secondsBytes = seconds === 0 ? 0 : 1 + (seconds < 0 ? 10 : varintLength(seconds));
    const nanosBytes = nanos === 0 ? 0 : 1 + varintLength(nanos);
    this.varint(secondsBytes + nanosBytes);
    if (seconds !== 0) {
      this.tag(1, WireType.Varint);
      if (seconds < 0) this.negative(seconds);
      else this.varint(seconds);
    }
    if (nanos !== 0) {
      this.tag(2, WireType.Varint);
      this.varint(nanos);
    }
  }

  private negative(value: number): void {
    this.room(10);
    let v = BigInt.asUintN(64, BigInt(value));
    for (let i = 0; i < 9; i++) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }
}

export function varintLength(value: number): number {
  let bytes = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    bytes++;
  }
  return bytes;
}

export function writeVarint(buf: Buffer, pos: number, value: number): number {
  while (value >= 128) {
    buf[pos++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  buf[pos++] = value;
  return pos;
}
