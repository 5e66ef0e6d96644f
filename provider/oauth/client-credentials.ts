/**
 * The client credentials grant (RFC 6749 section 4.4): the application's own access token, no
 * person involved (Microsoft 365 app-only SMTP, Keycloak's token auth). The client authenticates
 * with its secret or a signed client assertion (RFC 7523 section 2.2). The token is returned to
 * the caller and never stored: a new one is fetched whenever one is needed.
 */
import * as oidc from "openid-client";
import type { NormalizedOAuthAuth } from "../declaration/normalize.js";
import { MailServerError } from "../errors.js";
import { configureClient } from "./client.js";
import { type ClientAssertionKey, privateKeyJwt } from "./client-assertion.js";
import type { DiscoverOptions } from "./discover.js";
import { watchTokenEndpoint } from "./token-response.js";

/** An access token the application obtained for itself. Secret: accessToken. */
export interface AppToken {
  accessToken: string;
  /** ISO time when the access token expires, when the issuer says. */
  expiresAt: string | null;
  /** The scopes granted (the requested ones when the issuer does not say). */
  scope: string[];
  tokenEndpoint: string;
  /** Who the token was issued to: the client ID, or the service account's address. */
  client: string;
}

export interface ClientCredentialsGrantOptions extends DiscoverOptions {
  /** The client secret (auth.clientSecret's value). */
  clientSecret?: string;
  /** The client assertion key (auth.clientAssertion), instead of a secret. */
  clientAssertion?: ClientAssertionKey;
}

/**
 * Requests an app token with auth.scopes (Microsoft: `https://outlook.office365.com/.default`)
 * at the discovered or declared token endpoint. A refusal is `app-token-refused` with the
 * issuer's error and its remedy (AADSTS7000215 wrong secret, AADSTS700027 assertion, ...).
 * @example
 * const token = await clientCredentialsGrant(auth, { clientSecret });
 * await verifySmtp(decl, { method: "oauth", username: auth.username, accessToken: token.accessToken });
 * @see RFC 6749 section 4.4; RFC 7523 section 2.2
 */
export async function clientCredentialsGrant(
  auth: NormalizedOAuthAuth,
  options: ClientCredentialsGrantOptions,
): Promise<AppToken> {
  if (options.clientSecret === undefined && options.clientAssertion === undefined)
    throw new TypeError("clientCredentialsGrant needs a clientSecret or a clientAssertion");
  let tokenEndpoint: string | undefined;
  const { config } = await configureClient(auth, {
    ...(options.clientSecret !== undefined && { clientSecret: options.clientSecret }),
    ...(options.clientAssertion && {
      clientAuth: privateKeyJwt(options.clientAssertion, () => tokenEndpoint),
    }),
    ...(options.fetch && { fetch: options.fetch }),
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
  });
  tokenEndpoint = config.serverMetadata().token_endpoint;
  if (!tokenEndpoint) {
    throw new MailServerError("endpoint-missing", "the issuer publishes no token endpoint", {
      field: "auth.tokenEndpoint",
    });
  }
  const wire = watchTokenEndpoint(config);
  let response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
  try {
    response = await oidc.clientCredentialsGrant(config, { scope: auth.scopes.join(" ") });
  } catch (error) {
    throw wire.failure(error, "the client credentials grant", { flow: "client-credentials" });
  }
  return appTokenOf(response, auth.scopes, tokenEndpoint, auth.clientId);
}

/** The AppToken of a token endpoint response. */
export function appTokenOf(
  response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers,
  requested: readonly string[],
  tokenEndpoint: string,
  client: string,
): AppToken {
  const expiresIn = response.expiresIn();
  return {
    accessToken: response.access_token,
    expiresAt: expiresIn === undefined ? null : new Date(Date.now() + expiresIn * 1000).toISOString(),
    scope: response.scope ? response.scope.split(/\s+/).filter(Boolean) : [...requested],
    tokenEndpoint,
    client,
  };
}
