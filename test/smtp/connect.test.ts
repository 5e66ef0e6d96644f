// connectSocket hands an open socket to the session, which loads nodemailer (and, for STARTTLS,
// reads smtp.tls.ca) before nodemailer listens on it. A server that resets the connection in that
// window must not crash the process with an unheard 'error': the error is kept for the session.
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NormalizedCustomDeclaration } from "../../provider/declaration/normalize.js";
import { normalizeDeclaration } from "../../provider/declaration/normalize.js";
import { connectSocket, earlyError } from "../../provider/smtp/connect.js";

let server: Server;
let port = 0;
beforeAll(async () => {
  // Accepts, then resets (RST) each connection a moment later: a real TCP fault, no mock.
  server = createServer((socket) => {
    setTimeout(() => socket.resetAndDestroy(), 20);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no port");
  port = address.port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("connectSocket", () => {
  it("keeps an error that arrives after connecting, before anyone else listens", async () => {
    const decl = normalizeDeclaration({
      version: 1,
      name: "reset",
      smtp: { host: "127.0.0.1", port, protocol: "starttls" },
      auth: { method: "basic", username: "u@example.com", password: { env: "P" } },
      from: { address: "u@example.com" },
    }) as NormalizedCustomDeclaration;
    const socket = await connectSocket(decl, {});
    // Wait for the reset itself (not a fixed sleep, which a loaded machine can outrun): it arrives
    // while nobody but connectSocket listens.
    // Only 'close' is listened to here: events.once would also take the 'error' under test.
    if (!socket.destroyed) await new Promise((resolve) => socket.once("close", resolve));
    expect(socket.destroyed).toBe(true);
    expect((earlyError(socket) as NodeJS.ErrnoException | undefined)?.code).toBe("ECONNRESET");
  });
});
