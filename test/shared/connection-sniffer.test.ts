import { describe, expect, it } from "vitest";
import { classifyPrefix, HTTP2_PREFACE } from "../../services/shared/rpc/connection-sniffer.js";

describe("classifyPrefix", () => {
  it("waits on every proper prefix of the HTTP/2 preface, however it was split", () => {
    for (let n = 0; n < HTTP2_PREFACE.length; n++) {
      expect(classifyPrefix(HTTP2_PREFACE.subarray(0, n))).toBeUndefined();
    }
  });

  it("says h2 once the whole preface is there, frames after it included", () => {
    expect(classifyPrefix(HTTP2_PREFACE)).toBe("h2");
    expect(classifyPrefix(Buffer.concat([HTTP2_PREFACE, Buffer.from([0, 0, 0, 4])]))).toBe("h2");
  });

  it("says http1 at the first byte that differs from the preface", () => {
    expect(classifyPrefix(Buffer.from("G"))).toBe("http1");
    expect(classifyPrefix(Buffer.from("PO"))).toBe("http1");
    expect(classifyPrefix(Buffer.from("PUT /x HTTP/1.1\r\n"))).toBe("http1");
    expect(classifyPrefix(Buffer.from("PRI * HTTP/2.0\r\nHost"))).toBe("http1");
  });

  it("says http1 for a TLS handshake, which this cleartext port does not speak either way", () => {
    expect(classifyPrefix(Buffer.from([0x16, 0x03, 0x01]))).toBe("http1");
  });
});
