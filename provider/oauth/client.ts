/**
 * The openid-client Configuration for an OAuth setting: discovered (or declared) endpoints with
 * the declared overrides, the client's authentication, the timeout seam, ID-token signature checks
 * and, for Microsoft multi-tenant issuers with a declared tenant, an issuer pinned to that tenant.
 */
import * as oidc from "openid-client";
import type { NormalizedOAuthAuth } from "../declaration/normalize.js";
import { MailServerError } from "../errors.js";
import {
  cacheFor,
  type DiscoverOptions,
  discoverServer,
  type IssuerMetadata,
  issuerMetadataOf,
} from "./discover.js";
import { DEFAULT_HTTP_TIMEOUT_MS, guardedFetch, isLoopbackHost } from "./http.js";

export interface ClientOptions extends DiscoverOptions {
  clientSecret?: string;
  /** How the client authenticates at the token endpoint (default: the secret in the body, or none). */
  clientAuth?: oidc.ClientAuth;
}

export interface ConfiguredClient {
  config: oidc.Configuration;
  metadata: IssuerMetadata;
  /** Keeps the signing keys `config` fetched, so the next grant for this issuer need not fetch them. */
  rememberJwks(): void;
}

/** The `{tenantid}` placeholder of Microsoft's multi-tenant issuers (common, organizations, consumers). */
const TENANT_PLACEHOLDER = "{tenantid}";

/** Builds the client configuration for `auth`. */
export async function configureClient(
  auth: NormalizedOAuthAuth,
  options: ClientOptions = {},
): Promise<ConfiguredClient> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  const secret = options.clientSecret;
  const clientAuth = options.clientAuth ?? (secret ? oidc.ClientSecretPost(secret) : oidc.None());
  let config: oidc.Configuration;
  if (auth.issuer) {
    config = await discoverServer(auth.issuer, auth.clientId, secret, options, clientAuth);
    const as = config.serverMetadata();
    const overrides = declaredOverrides(auth, as);
    const pinned = auth.tenantId && as.issuer.includes(TENANT_PLACEHOLDER);
    if (overrides || pinned) {
      // A new Configuration drops openid-client's any-tenant `iss` rule: with a declared tenant the
      // ID token's `iss` must be exactly that tenant's issuer.
      const issuer = pinned ? as.issuer.replace(TENANT_PLACEHOLDER, auth.tenantId as string) : as.issuer;
      if (issuer.includes(TENANT_PLACEHOLDER)) {
        throw new MailServerError(
          "issuer-mismatch",
          `${auth.issuer} is a multi-tenant issuer: declared endpoint overrides need auth.tenantId`,
          { field: "auth.tenantId" },
        );
      }
      const { supportsPKCE: _helper, ...metadata } = as;
      config = new oidc.Configuration(
        { ...metadata, ...overrides, issuer },
        auth.clientId,
        secret,
        clientAuth,
      );
    }
  } else {
    if (!auth.authorizationEndpoint && !auth.tokenEndpoint) {
      throw new TypeError("an OAuth setting without issuer needs declared endpoints: validate it first");
    }
    const tokenEndpoint = auth.tokenEndpoint ?? (auth.authorizationEndpoint as string);
    config = new oidc.Configuration(
      {
        // Without an issuer there is nothing to check ID tokens against but the token endpoint's origin.
        issuer: new URL(tokenEndpoint).origin,
        ...declaredOverrides(auth, {}),
      },
      auth.clientId,
      secret,
      clientAuth,
    );
  }
  config[oidc.customFetch] = guardedFetch({ ...(options.fetch && { fetch: options.fetch }), timeoutMs });
  config.timeout = Math.ceil(timeoutMs / 1000);
  const as = config.serverMetadata();
  const hosts = [as.issuer, as.token_endpoint, as.authorization_endpoint].filter(
    (url): url is string => !!url,
  );
  if (hosts.every((url) => isLoopbackHost(new URL(url).hostname))) oidc.allowInsecureRequests(config);
  // ID tokens arrive over TLS from the token endpoint, where OIDC allows skipping the signature
  // check; we check it anyway (the mail server page trusts the email in it).
  const jwksUri = as.jwks_uri;
  const keys = cacheFor(jwksCaches, options.fetch ?? fetch);
  if (jwksUri) {
    oidc.enableNonRepudiationChecks(config);
    const known = keys.get(jwksUri);
    if (known) oidc.setJwksCache(config, known);
  }
  return {
    config,
    metadata: issuerMetadataOf(as),
    rememberJwks() {
      const cache = oidc.getJwksCache(config);
      if (jwksUri && cache) keys.set(jwksUri, cache);
    },
  };
}

/** Issuers' signing keys already fetched in this process, per fetch function, per JWKS URI. */
const jwksCaches = new WeakMap<typeof fetch, Map<string, oidc.ExportedJWKSCache>>();

function declaredOverrides(auth: NormalizedOAuthAuth, as: Partial<oidc.ServerMetadata>) {
  const overrides: Record<string, string> = {};
  if (auth.authorizationEndpoint && auth.authorizationEndpoint !== as.authorization_endpoint)
    overrides.authorization_endpoint = auth.authorizationEndpoint;
  if (auth.tokenEndpoint && auth.tokenEndpoint !== as.token_endpoint)
    overrides.token_endpoint = auth.tokenEndpoint;
  if (
    auth.deviceAuthorizationEndpoint &&
    auth.deviceAuthorizationEndpoint !== as.device_authorization_endpoint
  )
    overrides.device_authorization_endpoint = auth.deviceAuthorizationEndpoint;
  if (auth.revocationEndpoint && auth.revocationEndpoint !== as.revocation_endpoint)
    overrides.revocation_endpoint = auth.revocationEndpoint;
  return Object.keys(overrides).length > 0 ? overrides : undefined;
}
