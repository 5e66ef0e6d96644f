/**
 * The loopback listener of the authorization code flow: bound only to the redirect URI's loopback
 * address, it accepts exactly one callback with the right path and state and answers everything
 * else with a 400 page. The person's browser gets a small result page once the caller knows the
 * outcome.
 * @see RFC 8252 section 7.3 (loopback redirection), RFC 6749 section 10.12 (state)
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { MailServerError } from "../errors.js";
import { isLoopbackHost } from "./http.js";

export interface CallbackListener {
  /** The redirect URI with the real port (what the authorization request must carry). */
  redirectUri: string;
  /** Resolves with the accepted callback URL; the browser waits for {@link CallbackListener.respond}. */
  callback: Promise<URL>;
  /** Answers the accepted callback's browser with the outcome page. */
  respond(outcome: { ok: true; message: string } | { ok: false; message: string }): void;
  /** Closes the listener and every connection (idempotent). */
  close(): Promise<void>;
}

/** Where to listen: parsed from the redirect URI; `localhost` listens on 127.0.0.1. */
function listenAddressOf(redirectUri: URL): { host: string; port: number; path: string } {
  const hostname = redirectUri.hostname.replace(/^\[|\]$/g, "");
  const host = hostname === "localhost" ? "127.0.0.1" : hostname;
  if (redirectUri.protocol !== "http:" || !isLoopbackHost(host)) {
    throw new TypeError(
      `redirect URI ${redirectUri.href} is not http on a loopback address: validate it first`,
    );
  }
  return {
    host,
    port: redirectUri.port === "" ? 0 : Number(redirectUri.port),
    path: redirectUri.pathname || "/",
  };
}

/**
 * Starts the listener. `expectedState` is the only state accepted; a callback without `code` and
 * without `error` is malformed (400, ignored).
 */
export async function listenForCallback(redirectUri: URL, expectedState: string): Promise<CallbackListener> {
  const { host, port, path } = listenAddressOf(redirectUri);
  let accepted: ServerResponse | undefined;
  let resolveCallback!: (url: URL) => void;
  let rejectCallback!: (error: unknown) => void;
  const callback = new Promise<URL>((resolve, reject) => {
    resolveCallback = resolve;
    rejectCallback = reject;
  });
  // The caller handles rejections; this keeps an unobserved one from crashing the process.
  callback.catch(() => undefined);

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? "/", "http://loopback.invalid");
    const params = url.searchParams;
    const reason =
      accepted !== undefined
        ? "this authorization has already been completed"
        : request.method !== "GET"
          ? "only GET is expected here"
          : url.pathname !== path
            ? "this is not the redirect path"
            : params.get("state") !== expectedState
              ? "the state does not match this authorization request"
              : !params.has("code") && !params.has("error")
                ? "the callback carries neither a code nor an error"
                : undefined;
    if (reason !== undefined) {
      page(response, 400, "Not the expected callback", `${reason}. This request was ignored.`);
      return;
    }
    accepted = response;
    const received = new URL(redirectUriWithPort(redirectUri, listeningPort()));
    received.search = url.search;
    resolveCallback(received);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") {
        reject(
          new MailServerError("callback-port-in-use", `port ${port} on ${host} is already in use`, {
            field: "auth.redirectUri",
            details: { host, port },
          }),
        );
      } else reject(error);
    });
    server.listen({ host, port, exclusive: true }, () => resolve());
  });
  const listeningPort = () => (server.address() as AddressInfo).port;

  let closed: Promise<void> | undefined;
  return {
    redirectUri: redirectUriWithPort(redirectUri, listeningPort()),
    callback,
    respond(outcome) {
      if (!accepted || accepted.headersSent) return;
      page(
        accepted,
        outcome.ok ? 200 : 400,
        outcome.ok ? "Authorization complete" : "Authorization failed",
        `${outcome.message} You can close this window.`,
      );
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        if (accepted && !accepted.headersSent)
          page(accepted, 400, "Authorization stopped", "The command stopped.");
        rejectCallback(new Error("listener closed"));
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

function redirectUriWithPort(redirectUri: URL, port: number): string {
  const url = new URL(redirectUri.href);
  url.port = String(port);
  return url.href;
}

function page(response: ServerResponse, status: number, title: string, message: string): void {
  const body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>`;
  response.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    connection: "close",
    "content-length": Buffer.byteLength(body),
  });
  response.end(body);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
