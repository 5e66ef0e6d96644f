/**
 * A tiny scripted issuer on loopback, for the faults a certified OP (the sandbox) never produces:
 * badly signed or expired ID tokens, `slow_down`, `expired_token`, AADSTS errors, HTML discovery,
 * a Microsoft-shaped multi-tenant discovery document. Each test scripts only what it needs.
 * A mock by necessity: oidc-provider is correct and cannot be made to misbehave like this.
 */
import { generateKeyPairSync, type KeyObject, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { SignJWT } from "jose";

export interface FakeRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  at: number;
}

export type FakeReply = { status?: number; json?: unknown; html?: string; headers?: Record<string, string> };

export interface FakeIssuerOptions {
  /** The path of the issuer below the origin ("" or "/common/v2.0"). */
  issuerPath?: string;
  /** The issuer published in discovery (default: the URL it is reached at); may hold `{tenantid}`. */
  publishedIssuer?: (base: string) => string;
  /** Replaces the discovery document; return a FakeReply for HTML or errors. */
  discovery?: (base: string, defaults: Record<string, unknown>) => FakeReply;
  /** The origin the published endpoints use (default: the real one; tests may impersonate a vendor). */
  endpointOrigin?: string;
  /** Answers the token endpoint; default issues tokens with an ID token from `idTokenClaims`. */
  token?: (request: FakeRequest, fake: FakeIssuer) => FakeReply | Promise<FakeReply>;
  /** Answers the device authorization endpoint (default: a code with interval 1 s). */
  device?: (request: FakeRequest) => FakeReply;
  /** Adds `iss` to the authorization response (RFC 9207). */
  authorizationIss?: string;
}

export interface FakeIssuer {
  base: string;
  issuer: string;
  requests: FakeRequest[];
  /** The last authorization request's parameters (nonce, state, prompt...). */
  lastAuthorization(): Record<string, string> | undefined;
  /** Signs claims as an ID token with the published key (or `key` for a bad signature). */
  idToken(claims: Record<string, unknown>, key?: KeyObject): Promise<string>;
  otherKey: KeyObject;
  stop(): Promise<void>;
}

export async function startFakeIssuer(options: FakeIssuerOptions = {}): Promise<FakeIssuer> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const otherKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  const kid = randomUUID();
  const requests: FakeRequest[] = [];
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuerPath = options.issuerPath ?? "";
  const issuer = `${base}${issuerPath}`;
  const origin = options.endpointOrigin ?? base;
  const apparent = options.endpointOrigin ? `${origin}${issuerPath}` : issuer;
  const published = options.publishedIssuer?.(apparent) ?? apparent;

  const fake: FakeIssuer = {
    base,
    issuer,
    requests,
    lastAuthorization: () => requests.filter((r) => r.path === "/authorize").at(-1)?.params,
    idToken: (claims, key) =>
      new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid }).sign(key ?? privateKey),
    otherKey,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  const defaults = {
    issuer: published,
    authorization_endpoint: `${origin}/authorize`,
    token_endpoint: `${origin}/token`,
    device_authorization_endpoint: `${origin}/device`,
    jwks_uri: `${origin}/jwks`,
    response_types_supported: ["code"],
    code_challenge_methods_supported: ["S256"],
    scopes_supported: ["openid", "email", "offline_access"],
  };

  server.on("request", async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", base);
    const body = await readBody(req);
    const params = Object.fromEntries(new URLSearchParams(req.method === "POST" ? body : url.search));
    const request: FakeRequest = { method: req.method ?? "GET", path: url.pathname, params, at: Date.now() };
    requests.push(request);
    let reply: FakeReply;
    if (url.pathname === `${issuerPath}/.well-known/openid-configuration`) {
      reply = options.discovery ? options.discovery(base, defaults) : { json: defaults };
    } else if (url.pathname === "/jwks") {
      reply = { json: { keys: [{ ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" }] } };
    } else if (url.pathname === "/authorize") {
      const target = new URL(params.redirect_uri ?? "http://127.0.0.1/");
      target.searchParams.set("code", "fake-code");
      if (params.state) target.searchParams.set("state", params.state);
      if (options.authorizationIss) target.searchParams.set("iss", options.authorizationIss);
      reply = { status: 302, headers: { location: target.href } };
    } else if (url.pathname === "/device") {
      reply = options.device?.(request) ?? {
        json: {
          device_code: "fake-device-code",
          user_code: "FAKE-CODE",
          verification_uri: `${origin}/verify`,
          expires_in: 600,
          interval: 1,
        },
      };
    } else if (url.pathname === "/token") {
      reply = options.token
        ? await options.token(request, fake)
        : {
            json: {
              access_token: "fake-access",
              token_type: "Bearer",
              refresh_token: "fake-refresh",
              expires_in: 3600,
            },
          };
    } else {
      reply = { status: 404, json: { error: "not_found" } };
    }
    const headers: Record<string, string> = { "cache-control": "no-store", ...reply.headers };
    if (reply.json !== undefined) headers["content-type"] = "application/json";
    if (reply.html !== undefined) headers["content-type"] = "text/html";
    res.writeHead(reply.status ?? 200, headers);
    res.end(reply.json !== undefined ? JSON.stringify(reply.json) : (reply.html ?? ""));
  });
  return fake;
}

/**
 * A fetch that sends requests for impersonated vendor origins to a loopback fake, and refuses
 * every other non-loopback host - so a test can never reach Google or Microsoft.
 */
export function rewritingFetch(map: Record<string, string>): typeof fetch {
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const target = map[url.origin];
    if (target) return fetch(`${target}${url.pathname}${url.search}`, init);
    if (url.hostname === "127.0.0.1" || url.hostname === "[::1]") return fetch(url, init);
    return Promise.reject(new Error(`test refused to contact ${url.origin}`));
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let data = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      data += chunk;
    });
    req.on("end", () => resolve(data));
  });
}

/**
 * An issuer whose device code nobody approves: the token endpoint answers authorization_pending
 * until the code's 2 s lifetime runs out (the sandbox OP cannot expire a code that fast).
 */
export function startUnapprovedDeviceIssuer(code: {
  userCode: string;
  verificationUri: string;
}): Promise<FakeIssuer> {
  return startFakeIssuer({
    device: () => ({
      json: {
        device_code: "d",
        user_code: code.userCode,
        verification_uri: code.verificationUri,
        expires_in: 2,
        interval: 1,
      },
    }),
    token: () => ({ status: 400, json: { error: "authorization_pending" } }),
  });
}
