/**
 * Using and ending a grant: the refresh-token grant (with the rotated refresh token the caller
 * must persist) and revocation. Tokens are arguments and results only - never in a message.
 */
import * as oidc from "openid-client";
import type { NormalizedOAuthAuth } from "../declaration/normalize.js";
import { type ClientOptions, configureClient } from "./client.js";
import { checkTenant, nonSecretClaims } from "./id-token.js";
import { toMailServerError } from "./remedies.js";
import { watchTokenEndpoint } from "./token-response.js";
import { tokenEmail } from "./userinfo.js";
import type { TokenEmail } from "./username.js";

export interface RefreshGrantOptions extends ClientOptions {
  refreshToken: string;
  /**
   * Saves a new refresh token. Called as soon as the token endpoint's answer carries one that
   * differs from `refreshToken`, before anything in that answer is checked (a malformed answer or
   * a bad ID token must not lose it: the issuer may have retired the old one). A failure to save
   * is thrown as is.
   */
  saveRefreshToken?: (refreshToken: string) => Promise<void>;
}

export interface RefreshedGrant {
  accessToken: string;
  /** The refresh token to keep: the new one when the issuer rotated it, else the one given. */
  refreshToken: string;
  /** Whether the issuer returned a new refresh token (the old one may now be dead: persist this one). */
  rotated: boolean;
  /** Whether `saveRefreshToken` was given the new refresh token (and returned). */
  saved?: boolean;
  /** ISO time when the access token expires, when the issuer says. */
  expiresAt: string | null;
  scope: string[];
  idTokenClaims?: Record<string, unknown>;
  /**
   * The email of the account: the ID token's, else (when auth.username is not declared) the
   * userinfo endpoint's. Absent from refresh steps written before it existed.
   */
  accountEmail?: TokenEmail;
}

/**
 * Exchanges the refresh token for a fresh access token. `invalid_grant` (revoked, expired, or a
 * rotated-away token) throws `grant-invalid`, also when an issuer sends it with HTTP 200; a 5xx or
 * non-JSON answer throws `issuer-error`, an answer that breaks RFC 6749 §5.1 `issuer-nonconformant`.
 * @example
 * const { accessToken, refreshToken, rotated } = await refreshGrant(auth, { refreshToken: stored });
 * if (rotated) await storeRotatedRefreshToken(auth.refreshToken, refreshToken, baseDir);
 * @see RFC 6749 section 6
 */
export async function refreshGrant(
  auth: NormalizedOAuthAuth,
  options: RefreshGrantOptions,
): Promise<RefreshedGrant> {
  const { config, rememberJwks } = await configureClient(auth, options);
  let saved: string | undefined;
  const save = options.saveRefreshToken;
  const wire = watchTokenEndpoint(config, {
    onRefreshToken: async (token) => {
      if (!save || token === options.refreshToken || token === saved) return;
      await save(token);
      saved = token;
    },
  });
  let response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
  try {
    response = await oidc.refreshTokenGrant(config, options.refreshToken);
  } catch (error) {
    throw wire.failure(error, "the refresh-token grant", { flow: "refresh" });
  }
  rememberJwks();
  const claims = response.claims() as Record<string, unknown> | undefined;
  checkTenant(claims, auth);
  const rotated = response.refresh_token !== undefined && response.refresh_token !== options.refreshToken;
  const accountEmail = await tokenEmail(
    config,
    auth,
    { accessToken: response.access_token, claims },
    auth.username === undefined,
  );
  const expiresIn = response.expiresIn();
  return {
    accessToken: response.access_token,
    refreshToken: rotated ? (response.refresh_token as string) : options.refreshToken,
    rotated,
    saved: rotated && saved === response.refresh_token,
    expiresAt: expiresIn === undefined ? null : new Date(Date.now() + expiresIn * 1000).toISOString(),
    scope: response.scope ? response.scope.split(/\s+/).filter(Boolean) : [...auth.scopes],
    ...(claims && { idTokenClaims: nonSecretClaims(claims) }),
    accountEmail,
  };
}

export interface RevokeGrantOptions extends ClientOptions {
  refreshToken: string;
}

/**
 * Revokes the refresh token (and with it, at most issuers, the whole grant). An issuer without a
 * revocation endpoint is not an error: the result says so.
 * @see RFC 7009 section 2
 */
export async function revokeGrant(
  auth: NormalizedOAuthAuth,
  options: RevokeGrantOptions,
): Promise<{ revoked: boolean; reason?: string }> {
  const { config, metadata } = await configureClient(auth, options);
  if (!metadata.revocationEndpoint) {
    return {
      revoked: false,
      reason:
        "the issuer publishes no revocation endpoint: revoke the grant in the provider's account settings",
    };
  }
  try {
    await oidc.tokenRevocation(config, options.refreshToken, { token_type_hint: "refresh_token" });
  } catch (error) {
    throw toMailServerError(error, "the revocation request", { flow: "refresh" });
  }
  return { revoked: true };
}
