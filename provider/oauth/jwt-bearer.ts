/**
 * The JWT bearer grant (RFC 7523 section 2.1) of a service account with domain-wide delegation
 * (Google Workspace): a JWT signed with the service account's key by `jose` - `iss` the service
 * account, `sub` the mailbox to act as, `scope`, `aud` the key's token_uri, valid one hour - sent
 * with openid-client's genericGrantRequest. The token is returned, never stored.
 * @see https://developers.google.com/identity/protocols/oauth2/service-account#delegatingauthority
 */
import { SignJWT } from "jose";
import * as oidc from "openid-client";
import type { NormalizedOAuthAuth } from "../declaration/normalize.js";
import { type AppToken, appTokenOf } from "./client-credentials.js";
import type { DiscoverOptions } from "./discover.js";
import { DEFAULT_HTTP_TIMEOUT_MS, guardedFetch, isLoopbackHost } from "./http.js";
import type { ServiceAccountKey } from "./service-account-key.js";
import { watchTokenEndpoint } from "./token-response.js";

const JWT_BEARER_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/** How long the signed JWT is valid: Google accepts at most one hour. */
const ASSERTION_LIFETIME_S = 3600;

export interface JwtBearerGrantOptions extends DiscoverOptions {
  key: ServiceAccountKey;
  /** The clock (default: now); the JWT's iat and exp come from it. */
  now?: () => Date;
}

/**
 * Signs the service account's JWT for auth.username with auth.scopes (Google:
 * `https://mail.google.com/`). RS256 (or the EC algorithm of an EC key), `kid` = private_key_id.
 * @example
 * const jwt = await signServiceAccountAssertion(auth, key);
 * @see RFC 7523 section 3
 */
export async function signServiceAccountAssertion(
  auth: Pick<NormalizedOAuthAuth, "username" | "scopes">,
  key: ServiceAccountKey,
  now: Date = new Date(),
): Promise<string> {
  if (!auth.username)
    throw new TypeError("a service account acts as auth.username: validate the declaration");
  const iat = Math.floor(now.getTime() / 1000);
  return new SignJWT({ scope: auth.scopes.join(" ") })
    .setProtectedHeader({ alg: key.signingKey.alg, kid: key.privateKeyId, typ: "JWT" })
    .setIssuer(key.clientEmail)
    .setSubject(auth.username)
    .setAudience(key.tokenUri)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ASSERTION_LIFETIME_S)
    .sign(key.signingKey.key);
}

/**
 * Exchanges the signed JWT for an access token at the key's token_uri. A refusal is
 * `app-token-refused` with the issuer's error and its remedy (Google's `unauthorized_client`:
 * domain-wide delegation not granted for the scope).
 * @example
 * const token = await jwtBearerGrant(auth, { key: await parseServiceAccountKey(text, "auth.serviceAccountKey") });
 * @see RFC 7523 section 2.1
 */
export async function jwtBearerGrant(
  auth: NormalizedOAuthAuth,
  options: JwtBearerGrantOptions,
): Promise<AppToken> {
  const { key } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  // The token endpoint is the key's: there is no issuer to discover. The client is the service
  // account's client ID (Google ignores it; issuers that require client_id get it).
  const config = new oidc.Configuration(
    { issuer: new URL(key.tokenUri).origin, token_endpoint: key.tokenUri },
    key.clientId ?? key.clientEmail,
    undefined,
    oidc.None(),
  );
  config[oidc.customFetch] = guardedFetch({ ...(options.fetch && { fetch: options.fetch }), timeoutMs });
  config.timeout = Math.ceil(timeoutMs / 1000);
  if (isLoopbackHost(new URL(key.tokenUri).hostname)) oidc.allowInsecureRequests(config);
  const assertion = await signServiceAccountAssertion(auth, key, options.now?.());
  const wire = watchTokenEndpoint(config);
  let response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
  try {
    response = await oidc.genericGrantRequest(config, JWT_BEARER_GRANT_TYPE, { assertion });
  } catch (error) {
    throw wire.failure(error, "the service account's JWT bearer grant", { flow: "service-account" });
  }
  return appTokenOf(response, auth.scopes, key.tokenUri, key.clientEmail);
}
