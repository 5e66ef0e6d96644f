/**
 * "Fetch Configuration": the issuer's metadata by OpenID Connect Discovery, falling back to
 * RFC 8414, with openid-client doing the issuer check (including Microsoft's `{tenantid}`
 * multi-tenant issuers). The discovery document is fetched once per issuer per process.
 */
import * as oidc from "openid-client";
import type { NormalizedOAuthAuth } from "../declaration/normalize.js";
import { MailServerError } from "../errors.js";
import { findMailServerError, guardedFetch, isLoopbackHost } from "./http.js";

/** What `mailserver discover` prints: the issuer's endpoints, null where the issuer publishes none. */
export interface IssuerMetadata {
  issuer: string | null;
  authorizationEndpoint: string | null;
  tokenEndpoint: string | null;
  deviceAuthorizationEndpoint: string | null;
  revocationEndpoint: string | null;
  userinfoEndpoint: string | null;
  jwksUri: string | null;
  scopesSupported: string[] | null;
  codeChallengeMethodsSupported: string[] | null;
  grantTypesSupported: string[] | null;
}

export interface DiscoverOptions {
  /** The fetch to use (default: the global one). The cache is kept per fetch function. */
  fetch?: typeof fetch;
  /** Time allowed for each request (default 10 s). */
  timeoutMs?: number;
}

/** Discovery documents already fetched, per fetch function, per document URL. */
const documents = new WeakMap<typeof fetch, Map<string, string>>();
/** Which discovery algorithm worked, per fetch function, per issuer. */
const algorithms = new WeakMap<typeof fetch, Map<string, "oidc" | "oauth2">>();

/**
 * Fetches an issuer's metadata ("Fetch Configuration").
 * @example
 * const { tokenEndpoint } = await discoverIssuer("https://accounts.google.com");
 * @see RFC 8414 section 3; OpenID Connect Discovery 1.0 section 4
 */
export async function discoverIssuer(
  issuerUrl: string,
  options: DiscoverOptions = {},
): Promise<IssuerMetadata> {
  const config = await discoverServer(issuerUrl, "mailserver-discover", undefined, options);
  return issuerMetadataOf(config.serverMetadata());
}

/**
 * Runs openid-client's discovery for a client: the issuer check (and its Microsoft multi-tenant
 * handling) happens on every call, the network request only on the first per issuer.
 */
export async function discoverServer(
  issuerUrl: string,
  clientId: string,
  clientSecret: string | undefined,
  options: DiscoverOptions = {},
  clientAuth: oidc.ClientAuth = clientSecret ? oidc.ClientSecretPost(clientSecret) : oidc.None(),
): Promise<oidc.Configuration> {
  let server: URL;
  try {
    server = new URL(issuerUrl);
  } catch {
    throw new TypeError(`issuer ${JSON.stringify(issuerUrl)} is not a URL`);
  }
  const fetchImpl = options.fetch ?? fetch;
  const cache = cacheFor(documents, fetchImpl);
  const known = cacheFor(algorithms, fetchImpl);
  const network = guardedFetch({
    fetch: fetchImpl,
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
  });
  const cachingFetch: oidc.CustomFetch = async (url, init) => {
    const cached = init.method === "GET" ? cache.get(url) : undefined;
    if (cached !== undefined) return jsonResponse(cached);
    const response = await network(url, init);
    if (init.method !== "GET" || !url.includes("/.well-known/") || response.status !== 200) return response;
    const text = await response.text();
    if (/json/i.test(response.headers.get("content-type") ?? "")) cache.set(url, text);
    return new Response(text, { status: response.status, headers: response.headers });
  };
  const attempt = (algorithm: "oidc" | "oauth2") =>
    oidc.discovery(server, clientId, clientSecret, clientAuth, {
      algorithm,
      [oidc.customFetch]: cachingFetch,
      ...(options.timeoutMs !== undefined && { timeout: Math.ceil(options.timeoutMs / 1000) }),
      // Plain http only for the loopback sandbox; guardedFetch refuses it for any other host.
      execute: isLoopbackHost(server.hostname) ? [oidc.allowInsecureRequests] : [],
    });

  const first = known.get(server.href) ?? "oidc";
  try {
    const config = await attempt(first);
    known.set(server.href, first);
    return config;
  } catch (error) {
    const failure = discoveryFailure(error, server);
    if (first !== "oidc" || !failure.notFound) throw failure.error;
    // No OpenID Connect document: try RFC 8414's /.well-known/oauth-authorization-server.
    try {
      const config = await attempt("oauth2");
      known.set(server.href, "oauth2");
      return config;
    } catch (fallbackError) {
      const fallback = discoveryFailure(fallbackError, server);
      throw fallback.notFound ? failure.error : fallback.error;
    }
  }
}

/**
 * The endpoints to use for an OAuth setting: the discovered ones, overridden by those declared in
 * `auth`; without an issuer, only the declared ones.
 * @see RFC 8414 section 2
 */
export async function resolveEndpoints(
  auth: NormalizedOAuthAuth,
  options: DiscoverOptions = {},
): Promise<IssuerMetadata> {
  const discovered: IssuerMetadata = auth.issuer
    ? await discoverIssuer(auth.issuer, options)
    : {
        issuer: null,
        authorizationEndpoint: null,
        tokenEndpoint: null,
        deviceAuthorizationEndpoint: null,
        revocationEndpoint: null,
        userinfoEndpoint: null,
        jwksUri: null,
        scopesSupported: null,
        codeChallengeMethodsSupported: null,
        grantTypesSupported: null,
      };
  return {
    ...discovered,
    authorizationEndpoint: auth.authorizationEndpoint ?? discovered.authorizationEndpoint,
    tokenEndpoint: auth.tokenEndpoint ?? discovered.tokenEndpoint,
    deviceAuthorizationEndpoint: auth.deviceAuthorizationEndpoint ?? discovered.deviceAuthorizationEndpoint,
    revocationEndpoint: auth.revocationEndpoint ?? discovered.revocationEndpoint,
  };
}

/** The discover JSON shape of openid-client's server metadata. */
export function issuerMetadataOf(as: oidc.ServerMetadata): IssuerMetadata {
  return {
    issuer: as.issuer ?? null,
    authorizationEndpoint: as.authorization_endpoint ?? null,
    tokenEndpoint: as.token_endpoint ?? null,
    deviceAuthorizationEndpoint: as.device_authorization_endpoint ?? null,
    revocationEndpoint: as.revocation_endpoint ?? null,
    userinfoEndpoint: as.userinfo_endpoint ?? null,
    jwksUri: as.jwks_uri ?? null,
    scopesSupported: as.scopes_supported ? [...as.scopes_supported] : null,
    codeChallengeMethodsSupported: as.code_challenge_methods_supported
      ? [...as.code_challenge_methods_supported]
      : null,
    grantTypesSupported: as.grant_types_supported ? [...as.grant_types_supported] : null,
  };
}

function discoveryFailure(error: unknown, server: URL): { error: MailServerError; notFound: boolean } {
  const known = findMailServerError(error);
  if (known) return { error: known, notFound: false };
  const code = (error as { code?: unknown })?.code;
  const cause = (error as { cause?: unknown })?.cause;
  const where = server.href;
  switch (code) {
    case "OAUTH_RESPONSE_IS_NOT_CONFORM": {
      const status = cause instanceof Response ? cause.status : undefined;
      return {
        error: new MailServerError(
          "issuer-unreachable",
          `${where} publishes no discovery document (HTTP ${status ?? "error"} at .well-known/openid-configuration and .well-known/oauth-authorization-server)`,
          { field: "auth.issuer", details: { status }, cause: error },
        ),
        notFound: true,
      };
    }
    case "OAUTH_RESPONSE_IS_NOT_JSON":
    case "OAUTH_PARSE_ERROR":
    case "OAUTH_INVALID_RESPONSE": {
      const type = cause instanceof Response ? cause.headers.get("content-type") : undefined;
      return {
        error: new MailServerError(
          "issuer-not-json",
          `the discovery document of ${where} is not a JSON object${type ? ` (content-type ${type})` : ""}`,
          { field: "auth.issuer", cause: error },
        ),
        notFound: false,
      };
    }
    case "OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED": {
      const body = (cause as { body?: { issuer?: unknown } })?.body;
      return {
        error: new MailServerError(
          "issuer-mismatch",
          `the discovery document fetched for ${JSON.stringify(where)} names the issuer ${JSON.stringify(body?.issuer)}`,
          { field: "auth.issuer", details: { expected: where, published: body?.issuer }, cause: error },
        ),
        notFound: false,
      };
    }
    case "OAUTH_HTTP_REQUEST_FORBIDDEN":
      return {
        error: new MailServerError(
          "endpoint-insecure",
          `${where} is plain http on a host that is not loopback`,
          {
            field: "auth.issuer",
          },
        ),
        notFound: false,
      };
    default:
      return {
        error: new MailServerError(
          "issuer-unreachable",
          `discovery at ${where} failed: ${(error as Error)?.message}`,
          {
            field: "auth.issuer",
            cause: error,
          },
        ),
        notFound: false,
      };
  }
}

/** The map a per-fetch-function cache keeps for `key`, created on first use. */
export function cacheFor<V>(store: WeakMap<typeof fetch, Map<string, V>>, key: typeof fetch): Map<string, V> {
  let map = store.get(key);
  if (!map) {
    map = new Map();
    store.set(key, map);
  }
  return map;
}

function jsonResponse(text: string): Response {
  return new Response(text, { status: 200, headers: { "content-type": "application/json" } });
}
