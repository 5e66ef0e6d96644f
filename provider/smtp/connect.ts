import { connect as connectTcp, type LookupFunction, type Socket } from "node:net";
import { type ConnectionOptions, connect as connectTls, type TLSSocket } from "node:tls";
import type { NormalizedCustomDeclaration } from "../declaration/normalize.js";

const earlyErrors = new WeakMap<Socket, Error>();

/** The first error on a socket from {@link connectSocket} after it connected, if any. */
export function earlyError(socket: Socket): Error | undefined {
  return earlyErrors.get(socket);
}

/** The error of a connection that closed without saying why (nodemailer's code for it). */
export function closedError(): Error {
  return Object.assign(new Error("Connection closed unexpectedly"), { code: "ECONNECTION" });
}

/**
 * Opens the TCP connection, and for protocol tls the TLS session (implicit TLS, RFC 8314), with
 * Node's own net/tls. The session hands the open socket to nodemailer, which is still loading
 * meanwhile: connecting and the server's greeting delay hide most of its start-up time.
 *
 * Fails like nodemailer would, so that one classifier reads both: system and TLS errors keep their
 * Node code (ECONNREFUSED, ENOTFOUND, CERT_HAS_EXPIRED...), and running out of
 * smtp.timeouts.connectionMs (DNS, TCP and the TLS handshake together) is
 * `{ code: "ETIMEDOUT", timeoutType: "CONNECT_TIMEOUT" }`.
 */
export function connectSocket(
  decl: NormalizedCustomDeclaration,
  tls: ConnectionOptions,
  lookup?: LookupFunction,
): Promise<Socket | TLSSocket> {
  const { host, port, protocol, timeouts } = decl.smtp;
  return new Promise((resolve, reject) => {
    const target = { host, port, ...(lookup && { lookup }) };
    const socket = protocol === "tls" ? connectTls({ ...tls, ...target }) : connectTcp(target);
    const ready = protocol === "tls" ? "secureConnect" : "connect";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        Object.assign(new Error("Connection timeout"), { code: "ETIMEDOUT", timeoutType: "CONNECT_TIMEOUT" }),
      );
    }, timeouts.connectionMs);
    const onError = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    socket.once("error", onError);
    socket.once(ready, () => {
      clearTimeout(timer);
      socket.off("error", onError);
      // Until nodemailer takes the socket over, an error must still have a listener (else the
      // process dies of it): keep the first one for the session to report.
      socket.on("error", (error) => {
        if (!earlyErrors.has(socket)) earlyErrors.set(socket, error);
      });
      resolve(socket);
    });
  });
}
