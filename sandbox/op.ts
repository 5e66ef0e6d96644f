/**
 * A sandbox OpenID Provider for tests and for trying the tool without a Google or Microsoft
 * account: `oidc-provider` (a certified implementation) on loopback with discovery, the device flow,
 * authorization code + PKCE, refresh tokens with rotation, revocation, introspection and an `email`
 * claim. State lives in memory: stopping it forgets every token.
 *
 * Sign-in and consent happen on its real HTTP pages (see ./op-approve.ts): any login is accepted
 * (development interactions); a login that looks like an address becomes the `email` claim, any
 * other login has no `email` claim.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type ApproveOptions,
  type AuthorizationOutcome,
  approveAuthorization,
  approveDeviceCode,
  SANDBOX_ACCOUNT,
} from "./op-approve.js";
import {
  appClients,
  assertCertificateThumbprint,
  createSandboxApps,
  JWT_BEARER_GRANT,
  jwtBearerGrantHandler,
  type SandboxApps,
} from "./op-apps.js";
import type { SandboxReply } from "./smtp.js";

export interface SandboxOPOptions {
  /** Loopback address to listen on (default 127.0.0.1). */
  host?: "127.0.0.1" | "::1";
  /** Port (default 0: an ephemeral one). */
  port?: number;
  /** The polling interval (seconds) announced in device authorization responses (default 5, RFC 8628's default). */
  deviceFlowInterval?: number;
  /** Lifetime of device codes in seconds (default 600). */
  deviceCodeTtl?: number;
  /** Whether to offer the revocation endpoint (default true); false reproduces an issuer without one. */
  revocation?: boolean;
  /** Whether every refresh-token use returns a new refresh token (default true, like Microsoft). */
  rotateRefreshTokens?: boolean;
  /**
   * Show oidc-provider's development-mode notices ("use Node 22", "devInteractions enabled",
   * "default page used"). They are expected in a sandbox, so they are muted by default.
   */
  verbose?: boolean;
  /** Approve every device code by the real pages this many ms after it was issued (the demo). */
  autoApproveDevice?: { afterMs: number } & Omit<ApproveOptions, "fetch">;
}

export interface SandboxClient {
  clientId: string;
  clientSecret?: string;
  /** The registered redirect URI (native clients: any loopback port is accepted, RFC 8252 7.3). */
  redirectUri: string;
}

/**
 * Faults the OP can be told to produce, for the issuers that misbehave in the field. Mutable
 * between tests (`op.faults.tokenReply = { status: 502, html: "..." }`); `resetFaults()` clears them.
 */
export interface SandboxOPFaults {
  /**
   * Answer token requests with this, without processing them (the grant stays as it was): every
   * one, or only the next `times` (then the fault clears itself).
   */
  tokenReply?: { status: number; json?: Record<string, unknown>; html?: string; times?: number };
  /** Process the token request, then leave these fields out of a successful answer. */
  omitFromTokenResponse?: { fields: string[]; grantTypes?: string[] };
  /**
   * Leave the email claims out of ID tokens: only those of refresh answers (allowed by OIDC Core
   * 12.2, and what many OPs do), or of every answer. Userinfo still has them.
   */
  omitEmailFromIdToken?: "refresh" | "always";
  /** Leave the email claims out of the userinfo endpoint's answers too. */
  omitEmailFromUserinfo?: boolean;
  /** Hold every token request this long before handling it (an issuer that hangs). */
  tokenDelayMs?: number;
}

/** One HTTP request the OP received, for tests that count polls (never a token or code). */
export interface SandboxRequest {
  method: string;
  path: string;
  /** The token endpoint's grant_type, when this was a token request. */
  grantType?: string;
  /** The OAuth error the OP answered with, if any. */
  error?: string;
  at: number;
}

export interface SandboxOP {
  issuer: string;
  url: string;
  port: number;
  /** A public native client (PKCE, loopback redirect) and a confidential one, both with device flow. */
  clients: { native: SandboxClient; confidential: Required<SandboxClient> };
  /** The app-only clients (client credentials with a secret or a certificate, a service account). */
  apps: SandboxApps;
  /** A confidential client allowed to introspect any token (for the sandbox SMTP server). */
  introspectionClient: { clientId: string; clientSecret: string };
  introspectionEndpoint: string;
  /** The test account: its login is its email address. */
  account: { login: string; password: string; email: string };
  requests: SandboxRequest[];
  faults: SandboxOPFaults;
  /** Clears every fault. */
  resetFaults(): void;
  /** Token-endpoint requests, optionally of one grant type. */
  tokenRequests(grantType?: string): SandboxRequest[];
  /** Approves (or with `deny`, declines) a device code through the real pages. */
  approveDeviceCode(userCode: string, options?: ApproveOptions): Promise<void>;
  /** Signs in and consents for an authorization URL, and calls the loopback redirect. */
  approveAuthorization(
    authorizationUrl: string,
    options?: ApproveOptions & { callListener?: boolean },
  ): Promise<AuthorizationOutcome>;
  stop(): Promise<void>;
}

const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

/** Starts the sandbox OP on loopback (an ephemeral port unless one is given). */
export async function startSandboxOP(options: SandboxOPOptions = {}): Promise<SandboxOP> {
  // Imported here so that loading this module costs nothing until an OP is started.
  // Muted before the import: oidc-provider warns about the Node.js version as it loads.
  const unmute = options.verbose ? () => {} : muteProviderNotices();
  const { default: Provider, errors } = await import("oidc-provider");
  const host = options.host ?? "127.0.0.1";
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const hostInUrl = host === "::1" ? "[::1]" : host;
  const url = `http://${hostInUrl}:${port}`;
  const secret = () => randomBytes(24).toString("base64url");
  const clients = {
    native: {
      clientId: "mailserver-native",
      redirectUri: `http://${hostInUrl}/callback`,
    },
    confidential: {
      clientId: "mailserver-confidential",
      clientSecret: secret(),
      redirectUri: `${url}/never-used/callback`,
    },
  };
  const introspectionClient = { clientId: "sandbox-smtp", clientSecret: secret() };
  const apps = createSandboxApps(url, secret);
  const grantTypes = ["authorization_code", "refresh_token", DEVICE_GRANT];
  const signingKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" });

  const faults: SandboxOPFaults = {};
  const provider = new Provider(url, {
    clients: [
      {
        client_id: clients.native.clientId,
        application_type: "native",
        token_endpoint_auth_method: "none",
        redirect_uris: [clients.native.redirectUri, "http://localhost/callback"],
        grant_types: grantTypes,
        response_types: ["code"],
      },
      {
        client_id: clients.confidential.clientId,
        client_secret: clients.confidential.clientSecret,
        // What Google and Microsoft accept too, and what the OAuth module sends.
        token_endpoint_auth_method: "client_secret_post",
        application_type: "native",
        redirect_uris: [clients.native.redirectUri],
        grant_types: grantTypes,
        response_types: ["code"],
      },
      {
        client_id: introspectionClient.clientId,
        client_secret: introspectionClient.clientSecret,
        redirect_uris: [],
        grant_types: [],
        response_types: [],
      },
      ...appClients(apps),
    ],
    assertJwtClientAuthClaimsAndHeader: assertCertificateThumbprint(apps, errors.InvalidClientAuth),
    findAccount: (ctx: unknown, id: string) => ({
      accountId: id,
      claims: (use: string) => {
        const omit =
          (use === "userinfo" && faults.omitEmailFromUserinfo) ||
          (use === "id_token" &&
            (faults.omitEmailFromIdToken === "always" ||
              (faults.omitEmailFromIdToken === "refresh" && grantTypeOf(ctx) === "refresh_token")));
        return { sub: id, ...(id.includes("@") && !omit && { email: id, email_verified: true }) };
      },
    }),
    claims: { openid: ["sub"], email: ["email", "email_verified"] },
    scopes: ["openid", "email", "offline_access", "mail.send"],
    // Scope claims go into the ID token too (the mail server page reads the email from it).
    conformIdTokenClaims: false,
    jwks: { keys: [{ ...signingKey, kid: `sandbox-${port}`, alg: "RS256", use: "sig" }] },
    cookies: { keys: [secret(), secret()] },
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: options.revocation ?? true },
    },
    pkce: { required: () => true },
    rotateRefreshToken: options.rotateRefreshTokens ?? true,
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      DeviceCode: options.deviceCodeTtl ?? 600,
      IdToken: 3600,
      Grant: 14 * 24 * 3600,
      Interaction: 600,
      Session: 3600,
      RefreshToken: 14 * 24 * 3600,
    },
    renderError: async (ctx: { type: string; body: string }, out: Record<string, string>) => {
      // The default error page imports a web font from the internet; the sandbox stays on loopback.
      ctx.type = "html";
      ctx.body = `<!DOCTYPE html><html><head><title>oops! something went wrong</title></head><body>${Object.entries(
        out,
      )
        .map(([key, value]) => `<pre><strong>${key}</strong>: ${escapeHtml(String(value))}</pre>`)
        .join("")}</body></html>`;
    },
  });

  provider.registerGrantType(JWT_BEARER_GRANT, jwtBearerGrantHandler(apps, `${url}/token`, errors), [
    "assertion",
    "scope",
  ]);

  const requests: SandboxRequest[] = [];
  const deviceInterval = options.deviceFlowInterval ?? 5;
  const verificationUri = `${url}/device`;
  provider.use(async (ctx, next) => {
    const entry: SandboxRequest = { method: ctx.method, path: ctx.path, at: Date.now() };
    requests.push(entry);
    const token = ctx.path === "/token";
    if (token && faults.tokenDelayMs)
      await new Promise((resolve) => setTimeout(resolve, faults.tokenDelayMs).unref());
    if (token && faults.tokenReply) {
      const reply = faults.tokenReply;
      if (reply.times !== undefined && --reply.times <= 0) delete faults.tokenReply;
      ctx.status = reply.status;
      ctx.set("cache-control", "no-store");
      if (reply.html !== undefined) {
        ctx.type = "html";
        ctx.body = reply.html;
      } else {
        ctx.type = "json";
        ctx.body = JSON.stringify(reply.json ?? {});
        if (typeof reply.json?.error === "string") entry.error = reply.json.error;
      }
      return;
    }
    await next();
    const grantType = grantTypeOf(ctx);
    if (token && grantType) entry.grantType = grantType;
    const body = ctx.body as Record<string, unknown> | undefined;
    const omit = faults.omitFromTokenResponse;
    if (
      token &&
      omit &&
      ctx.status === 200 &&
      body &&
      typeof body === "object" &&
      (!omit.grantTypes || (grantType !== undefined && omit.grantTypes.includes(grantType)))
    ) {
      for (const field of omit.fields) delete body[field];
    }
    if (body && typeof body === "object" && typeof body.error === "string") entry.error = body.error;
    if (ctx.path === "/device/auth" && ctx.status === 200 && body && typeof body.user_code === "string") {
      // oidc-provider announces no interval (clients then default to 5 s); the sandbox says which.
      body.interval = deviceInterval;
      const auto = options.autoApproveDevice;
      if (auto) {
        const userCode = body.user_code;
        setTimeout(() => {
          approveDeviceCode(verificationUri, userCode, auto).catch((error: unknown) => {
            process.emitWarning(`sandbox OP: auto-approval failed: ${(error as Error).message}`);
          });
        }, auto.afterMs).unref();
      }
    }
  });
  server.on("request", provider.callback());

  return {
    issuer: url,
    url,
    port,
    clients,
    introspectionClient,
    introspectionEndpoint: `${url}/token/introspection`,
    apps,
    account: { ...SANDBOX_ACCOUNT },
    requests,
    faults,
    resetFaults() {
      for (const key of Object.keys(faults)) delete faults[key as keyof SandboxOPFaults];
    },
    tokenRequests: (grantType) =>
      requests.filter(
        (request) =>
          request.path === "/token" && (grantType === undefined || request.grantType === grantType),
      ),
    approveDeviceCode: (userCode, approveOptions) =>
      approveDeviceCode(verificationUri, userCode, approveOptions),
    approveAuthorization: (authorizationUrl, approveOptions) =>
      approveAuthorization(authorizationUrl, approveOptions),
    stop: () =>
      new Promise<void>((resolve, reject) => {
        unmute();
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

const PROVIDER_NOTICE = /^(\x1b\[[0-9;]*m)?oidc-provider (NOTICE|WARNING): /;
let muted = 0;
let restoreConsole: (() => void) | undefined;

/**
 * Drops oidc-provider's notices from console.info and console.warn (its only outputs for them)
 * while any muted sandbox OP runs; everything else passes through. Returns the undo.
 */
function muteProviderNotices(): () => void {
  if (muted++ === 0) {
    const { info, warn } = console;
    const filter =
      (write: (...data: unknown[]) => void) =>
      (...data: unknown[]) => {
        if (!(typeof data[0] === "string" && PROVIDER_NOTICE.test(data[0]))) write(...data);
      };
    console.info = filter(info);
    console.warn = filter(warn);
    restoreConsole = () => {
      console.info = info;
      console.warn = warn;
    };
  }
  let undone = false;
  return () => {
    if (undone) return;
    undone = true;
    if (--muted === 0) restoreConsole?.();
  };
}

/**
 * The sandbox SMTP server's `verifyAccessToken` for this OP: the account an access token was issued
 * to (by introspection), or null for a token the OP did not issue or has revoked. An app token
 * (client credentials: no subject) logs in as a mailbox only when the app is granted it
 * (`op.apps.mailboxes`); otherwise the reply is Exchange's `535 5.7.3 Authentication unsuccessful`.
 * @example
 * const smtp = await startSandboxSmtp({ verifyAccessToken: accessTokenVerifier(op) });
 */
export function accessTokenVerifier(
  op: Pick<SandboxOP, "introspectionEndpoint" | "introspectionClient" | "apps">,
): (token: string, username: string) => Promise<{ username: string } | { reply: SandboxReply } | null> {
  return async (token, username) => {
    const owner = await introspectAccessToken(op, token);
    if (!owner.active) return null;
    if (owner.email) return { username: owner.email };
    if (owner.sub !== undefined || owner.clientId === undefined) return null;
    const granted = op.apps.mailboxes[owner.clientId] ?? [];
    return granted.some((mailbox) => mailbox.toLowerCase() === username.toLowerCase())
      ? { username }
      : {
          reply: {
            code: 535,
            message: "5.7.3 Authentication unsuccessful [app has no permission on the mailbox]",
          },
        };
  };
}

/**
 * Asks the OP whether an access token is active and whose it is (RFC 7662), as the sandbox SMTP
 * server does for AUTH XOAUTH2. Returns the subject and, for the sandbox's accounts, the email.
 * @see RFC 7662 section 2
 */
export async function introspectAccessToken(
  op: Pick<SandboxOP, "introspectionEndpoint" | "introspectionClient">,
  token: string,
): Promise<{ active: boolean; sub?: string; email?: string; scope?: string; clientId?: string }> {
  const response = await fetch(op.introspectionEndpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${Buffer.from(
        `${encodeURIComponent(op.introspectionClient.clientId)}:${encodeURIComponent(op.introspectionClient.clientSecret)}`,
      ).toString("base64")}`,
    },
    body: new URLSearchParams({ token, token_type_hint: "access_token" }).toString(),
  });
  if (!response.ok) throw new Error(`introspection failed with HTTP ${response.status}`);
  const body = (await response.json()) as Record<string, unknown>;
  if (body.active !== true) return { active: false };
  const sub = typeof body.sub === "string" ? body.sub : undefined;
  return {
    active: true,
    ...(sub !== undefined && { sub }),
    // The sandbox's account id is its login; a login that is an address is the account's email.
    ...(sub?.includes("@") && { email: sub }),
    ...(typeof body.scope === "string" && { scope: body.scope }),
    ...(typeof body.client_id === "string" && { clientId: body.client_id }),
  };
}

/** The token request's grant_type, once oidc-provider has parsed the request. */
function grantTypeOf(ctx: unknown): string | undefined {
  const grantType = (ctx as { oidc?: { params?: { grant_type?: unknown } } }).oidc?.params?.grant_type;
  return typeof grantType === "string" ? grantType : undefined;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
