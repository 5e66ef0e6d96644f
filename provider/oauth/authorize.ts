/**
 * Authorization out of band: runs the declared (or chosen) flow and returns the grant with the
 * identity facts the mail server page reads from the ID token. Used by `mailserver authorize` and
 * by the Pulumi provider; it knows nothing about either.
 */
import type * as oidc from "openid-client";
import { isAppOnlyFlow, type NormalizedOAuthAuth } from "../declaration/normalize.js";
import { MailServerError } from "../errors.js";
import { configureClient } from "./client.js";
import { type DevicePrompt, runDeviceFlow } from "./device-flow.js";
import { formatSeconds } from "./http.js";
import { checkTenant, nonSecretClaims } from "./id-token.js";
import { type LoopbackFlowOptions, type LoopbackPrompt, runLoopbackFlow } from "./loopback-flow.js";
import { watchTokenEndpoint } from "./token-response.js";
import { tokenEmail } from "./userinfo.js";
import { resolveUsername } from "./username.js";

/** What to show the person: a device code to enter, or a URL to open. */
export type AuthorizationPrompt = DevicePrompt | LoopbackPrompt;

/** A grant obtained by sign-in and consent. Secret: refreshToken, accessToken. */
export interface Grant {
  refreshToken: string;
  accessToken: string;
  scope: string[];
  /** ISO time the grant was obtained. */
  obtainedAt: string;
  /** The issuer that granted it (for Microsoft multi-tenant issuers: the tenant's issuer). */
  issuer: string;
  clientId: string;
  /** The SMTP username: declared, else the ID token's email. */
  username: string;
  email: string | null;
  /** The ID token's claims without one-time values or token hashes. */
  idTokenClaims: Record<string, unknown>;
}

/** What `mailserver authorize --out FILE` writes (mode 0600): the grant without its access token. */
export type StoredGrant = Omit<Grant, "accessToken">;

/**
 * The `--out` file's fields, in the order issue 3 lists them; a declaration then reads the
 * refresh token with `refreshToken: { file: FILE }` (see resolveSecret).
 * @example
 * await writePrivateFileAtomically(out, `${JSON.stringify(storedGrantOf(grant), null, 2)}\n`);
 */
export function storedGrantOf(grant: Grant): StoredGrant {
  const { refreshToken, scope, obtainedAt, issuer, clientId, username, email, idTokenClaims } = grant;
  return { refreshToken, scope, obtainedAt, issuer, clientId, username, email, idTokenClaims };
}

export interface AuthorizeOptions {
  clientSecret?: string;
  /** The flow to run (default: auth.flow). */
  flow?: "device" | "loopback";
  /** Shows the device code or the authorization URL to the person. */
  prompt: (prompt: AuthorizationPrompt) => void;
  noBrowser?: boolean;
  /** Gives up after this long (default: loopback 5 min, device until the code expires). */
  timeoutMs?: number;
  signal?: AbortSignal;
  fetch?: typeof fetch;
  /** A person is present: when the issuer blocks the device flow (AADSTS53003), run the loopback flow instead. */
  fallbackToLoopback?: boolean;
  /** Called when falling back, with the reason (for the person). */
  onFallback?: (reason: string) => void;
  openBrowser?: LoopbackFlowOptions["openBrowser"];
}

/**
 * Signs in and consents by the device flow (RFC 8628) or the loopback flow (RFC 8252), then
 * validates the ID token and derives the SMTP username.
 * @example
 * const grant = await authorize(auth, { prompt: (p) => console.error(p) });
 * @see RFC 8628; RFC 8252; RFC 7636
 */
export async function authorize(auth: NormalizedOAuthAuth, options: AuthorizeOptions): Promise<Grant> {
  const { config, metadata, rememberJwks } = await configureClient(auth, {
    ...(options.clientSecret !== undefined && { clientSecret: options.clientSecret }),
    ...(options.fetch && { fetch: options.fetch }),
  });
  const wire = watchTokenEndpoint(config);
  const deadline = options.timeoutMs !== undefined ? AbortSignal.timeout(options.timeoutMs) : undefined;
  const signal = AbortSignal.any([options.signal, deadline].filter((s): s is AbortSignal => s !== undefined));
  const flow = options.flow ?? auth.flow;
  if (isAppOnlyFlow(flow))
    throw new TypeError(`authorize() runs the delegated flows; flow ${flow} uses obtainAppToken()`);
  // Every check that can fail the authorization, run before the loopback flow answers the browser.
  let grant: Grant | undefined;
  const judge = async (tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers) => {
    grant = await grantOf(tokens, config, auth, metadata.issuer);
    rememberJwks();
  };
  const run = (which: "device" | "loopback") =>
    runFlow(which, config, auth, { ...options, judge, wire }, signal).catch((error: unknown) => {
      throw translateAbort(error, deadline, options.timeoutMs);
    });
  try {
    await run(flow);
  } catch (error) {
    if (
      !(
        error instanceof MailServerError &&
        error.code === "device-flow-blocked" &&
        options.fallbackToLoopback
      )
    )
      throw error;
    options.onFallback?.(error.message);
    await run("loopback");
  }
  if (!grant) throw new TypeError("the flow ended without judging its tokens");
  return grant;
}

/**
 * The grant from a token response, or why it is not one: no refresh token, an ID token of another
 * tenant, no SMTP username from any source.
 */
async function grantOf(
  tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers,
  config: oidc.Configuration,
  auth: NormalizedOAuthAuth,
  issuer: string | null,
): Promise<Grant> {
  if (!tokens.refresh_token) {
    throw new MailServerError("authorization-failed", "the issuer granted no refresh token", {
      remedy:
        "Request offline access: add the scope offline_access (Microsoft, most issuers); Google needs access_type=offline and prompt=consent (preset gmail).",
    });
  }
  const claims = tokens.claims() as Record<string, unknown> | undefined;
  checkTenant(claims, auth);
  const account = await tokenEmail(
    config,
    auth,
    { accessToken: tokens.access_token, claims },
    auth.username === undefined,
  );
  const identity = resolveUsername({ declared: auth.username, token: account });
  return {
    refreshToken: tokens.refresh_token,
    accessToken: tokens.access_token,
    scope: tokens.scope ? tokens.scope.split(/\s+/).filter(Boolean) : [...auth.scopes],
    obtainedAt: new Date().toISOString(),
    issuer: typeof claims?.iss === "string" ? claims.iss : (issuer ?? ""),
    clientId: auth.clientId,
    username: identity.username,
    email: account.email,
    idTokenClaims: nonSecretClaims(claims),
  };
}

function runFlow(
  flow: "device" | "loopback",
  config: oidc.Configuration,
  auth: NormalizedOAuthAuth,
  options: AuthorizeOptions & Pick<LoopbackFlowOptions, "judge" | "wire">,
  signal: AbortSignal,
) {
  if (flow === "device") {
    return runDeviceFlow(config, auth, {
      prompt: options.prompt,
      signal,
      ...(options.judge && { judge: options.judge }),
      ...(options.wire && { wire: options.wire }),
    });
  }
  return runLoopbackFlow(config, auth, {
    prompt: options.prompt,
    signal,
    ...(options.noBrowser !== undefined && { noBrowser: options.noBrowser }),
    ...(options.openBrowser && { openBrowser: options.openBrowser }),
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
    ...(options.judge && { judge: options.judge }),
    ...(options.wire && { wire: options.wire }),
  });
}

function translateAbort(
  error: unknown,
  deadline: AbortSignal | undefined,
  timeoutMs: number | undefined,
): unknown {
  if (deadline?.aborted && error === deadline.reason) {
    return new MailServerError(
      "authorization-timeout",
      `nobody completed the sign-in within ${formatSeconds(timeoutMs ?? 0)}`,
    );
  }
  return error;
}
