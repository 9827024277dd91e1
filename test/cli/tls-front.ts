/**
 * An HTTPS front for a test: a TLS HTTP/2 server with a certificate signed
 * by a certificate authority made here (openssl), passing every stream on to
 * the h2c transfer service, trailers included (gRPC's status travels in
 * them) — what a TLS-terminating proxy does in front of the service.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TlsFront {
  url: string;
  /** The PEM file of the authority that signed the front's certificate. */
  caFile: string;
  close(): Promise<void>;
}

function makeCertificates(dir: string): { key: Buffer; cert: Buffer; caFile: string } {
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=dx test authority");
  openssl("req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
  writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1\n");
  openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "1", "-extfile", "san.ext");
  return { key: readFileSync(join(dir, "server.key")), cert: readFileSync(join(dir, "server.pem")), caFile: join(dir, "ca.pem") };
}

export async function startTlsFront(upstreamUrl: string): Promise<TlsFront> {
  const dir = mkdtempSync(join(tmpdir(), "dx-tls-"));
  const { key, cert, caFile } = makeCertificates(dir);
  const upstream = http2.connect(upstreamUrl);
  upstream.on("error", () => undefined);
  const server = http2.createSecureServer({ key, cert });
  server.on("stream", (stream, headers) => {
    const forwarded: http2.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(headers)) if (!name.startsWith(":") || name === ":method" || name === ":path") forwarded[name] = value;
    const request = upstream.request(forwarded);
    stream.pipe(request);
    request.on("response", (responseHeaders) => {
      const { ":status": status, ...rest } = responseHeaders;
      const clean = Object.fromEntries(Object.entries(rest).filter(([n]) => !n.startsWith(":")));
      stream.respond({ ":status": status, ...clean }, { waitForTrailers: true });
      request.pipe(stream);
    });
    let trailers: http2.OutgoingHttpHeaders = {};
    request.on("trailers", (t) => (trailers = Object.fromEntries(Object.entries(t).filter(([n]) => !n.startsWith(":"))) as http2.OutgoingHttpHeaders));
    stream.on("wantTrailers", () => stream.sendTrailers(trailers));
    request.on("error", () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    stream.on("error", () => request.close(http2.constants.NGHTTP2_CANCEL));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    caFile,
    async close() {
      upstream.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
