/**
 * The ports test servers are given (scripts/lib/ferretdb.ts' freePort): free,
 * and outside the kernel's ephemeral range, so that a server restarted on its
 * port (FerretDB and the services in the fault tests) cannot find the port
 * taken by a client's connection to itself.
 */
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { ephemeralPortRange, freePort } from "../../scripts/lib/ferretdb.js";

describe("a test server's port", () => {
  it("is never one the kernel gives an outgoing connection, and can be listened on", async () => {
    const { low, high } = ephemeralPortRange();
    const ports: number[] = [];
    for (let i = 0; i < 50; i++) ports.push(await freePort());
    for (const port of ports) expect(port < low || port > high, `${port} in ${low}-${high}`).toBe(true);
    const server = createServer();
    await new Promise<void>((resolve, reject) => server.once("error", reject).listen(ports[0], "127.0.0.1", resolve));
    await new Promise((resolve) => server.close(resolve));
  });

  it("reads the ephemeral range the kernel uses", async () => {
    const { readFile } = await import("node:fs/promises");
    const text = await readFile("/proc/sys/net/ipv4/ip_local_port_range", "utf8");
    const [low, high] = text.trim().split(/\s+/).map(Number);
    expect(ephemeralPortRange()).toEqual({ low, high });
  });
});
