/**
 * The one seam through which every OAuth request goes (openid-client's `customFetch`): a timeout,
 * plain http only for loopback hosts, and network failures turned into {@link MailServerError}s
 * that name the host - never the request body, which may hold a token.
 */
import type { CustomFetch } from "openid-client";
import { MailServerError } from "../errors.js";

/** Default time allowed for one request to the issuer. */
export const DEFAULT_HTTP_TIMEOUT_MS = 10_000;

export interface GuardedFetchOptions {
  /** The fetch to call (default: the global one). */
  fetch?: typeof fetch;
  /** Time allowed for one request (default 10 s). */
  timeoutMs?: number;
}

/** 127.0.0.1 (any 127/8), ::1 and localhost: the only hosts where plain http is accepted. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Whether a URL is https, or http on a loopback host. */
function isAllowedUrl(url: URL): boolean {
  return url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHost(url.hostname));
}

/**
 * Wraps fetch for openid-client: each request gets `timeoutMs` (on top of any signal openid-client
 * passes), plain http is refused unless the host is loopback, and failures become
 * `issuer-timeout`, `issuer-unreachable` or `endpoint-insecure`.
 */
export function guardedFetch(options: GuardedFetchOptions = {}): CustomFetch {
  const fetchImpl = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  return async (url, init) => {
    const target = new URL(url);
    if (!isAllowedUrl(target)) {
      throw new MailServerError(
        "endpoint-insecure",
        `refusing plain ${target.protocol.replace(":", "")} to ${target.host}: only https, or http on loopback`,
        { details: { host: target.host } },
      );
    }
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    try {
      // openid-client's FetchBody is what fetch accepts at run time; only the DOM typings differ.
      return await fetchImpl(url, { ...init, signal } as RequestInit);
    } catch (error) {
      if (timeout.aborted) {
        throw new MailServerError(
          "issuer-timeout",
          `${target.origin} did not answer within ${formatSeconds(timeoutMs)}`,
          { details: { url: `${target.origin}${target.pathname}` } },
        );
      }
      if (init.signal?.aborted) throw error;
      throw new MailServerError(
        "issuer-unreachable",
        `cannot reach ${target.origin}: ${networkReason(error)}`,
        {
          details: { url: `${target.origin}${target.pathname}` },
          cause: error,
        },
      );
    }
  };
}

/** The MailServerError somewhere in an error's cause chain (openid-client wraps what fetch throws). */
export function findMailServerError(error: unknown): MailServerError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current; depth++) {
    if (current instanceof MailServerError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}

function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } })?.cause;
  if (typeof cause?.code === "string") return cause.code;
  if (typeof cause?.message === "string") return cause.message;
  return (error as Error)?.message ?? "network error";
}
