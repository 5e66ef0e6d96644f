/**
 * The authorization code flow for native apps: PKCE S256, state and nonce, a one-shot loopback
 * listener, the system browser, and the code exchanged with the ID token validated.
 * @see RFC 8252 (OAuth for native apps), RFC 7636 (PKCE), RFC 9207 (`iss` in the response)
 */
import * as oidc from "openid-client";
import type { NormalizedOAuthAuth } from "../declaration/normalize.js";
import { MailServerError } from "../errors.js";
import { listenForCallback } from "./callback-server.js";
import { formatSeconds } from "./http.js";
import { toMailServerError } from "./remedies.js";
import type { TokenEndpointWatch } from "./token-response.js";

/** Default time to wait for the person: 5 minutes. */
const DEFAULT_LOOPBACK_TIMEOUT_MS = 5 * 60_000;
/** Used when the declaration names no redirect URI: 127.0.0.1 on an ephemeral port. */
const DEFAULT_REDIRECT_URI = "http://127.0.0.1/callback";

export interface LoopbackPrompt {
  kind: "loopback";
  authorizationUrl: string;
}

export interface LoopbackFlowOptions {
  prompt: (prompt: LoopbackPrompt) => void;
  /** Only print the URL; do not open the system browser. */
  noBrowser?: boolean;
  /** Opens the URL (default: the `open` package, i.e. the system browser). */
  openBrowser?: (url: string) => Promise<unknown>;
  /** How long to wait for the callback (default 5 min). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Checks the tokens (refresh token, tenant, username) before the browser gets its page: what it
   * throws fails the flow, and the page shows it.
   */
  judge?: (tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers) => Promise<void>;
  /** The token endpoint's answers, for naming a failure by what the issuer said (./token-response.ts). */
  wire?: TokenEndpointWatch;
  /** Randomness for state, nonce and PKCE (tests); default openid-client's. */
  random?: { state(): string; nonce(): string; codeVerifier(): string };
}

/** The authorization request's parameters: scopes, PKCE, state, nonce and the vendor's extras. */
export function authorizationParameters(
  auth: Pick<NormalizedOAuthAuth, "scopes" | "authorizationParams">,
  request: { redirectUri: string; codeChallenge: string; state: string; nonce?: string },
): Record<string, string> {
  const parameters: Record<string, string> = {
    redirect_uri: request.redirectUri,
    scope: auth.scopes.join(" "),
    code_challenge: request.codeChallenge,
    code_challenge_method: "S256",
    state: request.state,
    ...(request.nonce !== undefined && { nonce: request.nonce }),
    ...auth.authorizationParams,
  };
  // OpenID Connect Core 11: offline_access needs prompt=consent. One value only (Microsoft
  // accepts a single prompt value), and never overriding the vendor's own choice.
  if (parameters.prompt === undefined && auth.scopes.includes("offline_access"))
    parameters.prompt = "consent";
  return parameters;
}

/** Runs the flow to the token response (ID token validated by openid-client). */
export async function runLoopbackFlow(
  config: oidc.Configuration,
  auth: Pick<NormalizedOAuthAuth, "scopes" | "authorizationParams" | "redirectUri">,
  options: LoopbackFlowOptions,
): Promise<oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers> {
  if (!config.serverMetadata().authorization_endpoint) {
    throw new MailServerError("endpoint-missing", "the issuer publishes no authorization endpoint", {
      field: "auth.authorizationEndpoint",
    });
  }
  const random = options.random ?? {
    state: oidc.randomState,
    nonce: oidc.randomNonce,
    codeVerifier: oidc.randomPKCECodeVerifier,
  };
  const state = random.state();
  const nonce = auth.scopes.includes("openid") ? random.nonce() : undefined;
  const codeVerifier = random.codeVerifier();
  const listener = await listenForCallback(new URL(auth.redirectUri ?? DEFAULT_REDIRECT_URI), state);
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOOPBACK_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    const authorizationUrl = oidc.buildAuthorizationUrl(
      config,
      authorizationParameters(auth, {
        redirectUri: listener.redirectUri,
        codeChallenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
        state,
        ...(nonce !== undefined && { nonce }),
      }),
    ).href;
    options.prompt({ kind: "loopback", authorizationUrl });
    // Not awaited: a browser may only return once the callback page was answered, which needs the code exchange.
    if (!options.noBrowser) void openQuietly(authorizationUrl, options.openBrowser);

    const callbackUrl = await untilAborted(listener.callback, signal);
    let tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
    try {
      tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: codeVerifier,
        expectedState: state,
        ...(nonce !== undefined && { expectedNonce: nonce }),
        idTokenExpected: nonce !== undefined,
      });
      // Judged before the page is answered: the page must not say "authorized" and then fail.
      await options.judge?.(tokens);
    } catch (error) {
      const failure = options.wire
        ? options.wire.failure(error, "the authorization", { flow: "loopback" })
        : toMailServerError(error, "the authorization", { flow: "loopback" });
      const shown =
        failure instanceof MailServerError ? failure : toMailServerError(failure, "the authorization");
      listener.respond({
        ok: false,
        message: `${shown.message.replace(/\.$/, "")}. What to do: ${shown.remedy}`,
      });
      throw failure;
    }
    listener.respond({ ok: true, message: "The mail server setting is authorized." });
    return tokens;
  } catch (error) {
    if (options.signal?.aborted && error === options.signal.reason) throw error;
    if (timeout.aborted && error === timeout.reason) {
      throw new MailServerError(
        "authorization-timeout",
        `nobody completed the sign-in within ${formatSeconds(timeoutMs)}`,
      );
    }
    throw error;
  } finally {
    await listener.close();
  }
}

async function openQuietly(url: string, openBrowser?: (url: string) => Promise<unknown>): Promise<void> {
  try {
    if (openBrowser) await openBrowser(url);
    else {
      const { default: open } = await import("open");
      await open(url);
    }
  } catch {
    // No browser here (a server, a container): the URL was already shown to the person.
  }
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
