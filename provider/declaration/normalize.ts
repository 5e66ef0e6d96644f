import { type OAuthFlow, PRESETS, type Preset, type PresetName, vendorOf } from "../presets/index.js";
import type {
  BasicAuthentication,
  ClientAssertion,
  IdentityService,
  MailServerDeclaration,
  OAuthAuthentication,
  SecretReference,
} from "./generated/declaration.js";

export type { OAuthFlow } from "../presets/index.js";
export type { ClientAssertion, MailServerDeclaration, SecretReference } from "./generated/declaration.js";

/** The flows that need no person: the application obtains its own token whenever it needs one. */
const APP_ONLY_FLOWS = ["client-credentials", "service-account"] as const;

/** Whether the flow is app-only (client credentials, service account): no refresh token, no prompt. */
export function isAppOnlyFlow(flow: OAuthFlow | undefined): flow is (typeof APP_ONLY_FLOWS)[number] {
  return (APP_ONLY_FLOWS as readonly string[]).includes(flow ?? "");
}

/**
 * Whether the issuer may hand out a new refresh token on use (so the old one dies): unknown
 * issuers may, and so do the vendors whose preset says so (Microsoft); Google does not.
 */
export function mayRotateRefreshTokens(decl: {
  vendor?: PresetName;
  auth: { method: string; rotatesRefreshTokens?: boolean };
}): boolean {
  return (
    decl.vendor === undefined || (decl.auth.method === "oauth" && decl.auth.rotatesRefreshTokens === true)
  );
}

export const DEFAULT_PORTS = { tls: 465, starttls: 587 } as const;
export const DEFAULT_SMTP_TIMEOUTS = { connectionMs: 10_000, greetingMs: 10_000, socketMs: 30_000 } as const;

export interface NormalizedSmtp {
  host: string;
  protocol: "tls" | "starttls";
  port: number;
  /** Extra trust anchors: a PEM file relative to the declaration's folder. */
  caFile?: string;
  servername?: string;
  timeouts: { connectionMs: number; greetingMs: number; socketMs: number };
}

export interface NormalizedBasicAuth {
  method: "basic";
  username: string;
  password: SecretReference;
}

export interface NormalizedOAuthAuth {
  method: "oauth";
  issuer?: string;
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  deviceAuthorizationEndpoint?: string;
  revocationEndpoint?: string;
  /** The client ID; "" with flow service-account, whose key file names the client. */
  clientId: string;
  clientSecret?: SecretReference;
  /** Flow client-credentials: private_key_jwt client authentication (RFC 7523 section 2.2). */
  clientAssertion?: ClientAssertion;
  scopes: string[];
  flow: OAuthFlow;
  redirectUri?: string;
  tenantId?: string;
  username?: string;
  refreshToken?: SecretReference;
  /** Flow service-account: the service account's JSON key. */
  serviceAccountKey?: SecretReference;
  /** Extra authorization request parameters from the vendor's preset. */
  authorizationParams: Record<string, string>;
  /** The vendor rotates refresh tokens on every use: the newest one must be persisted. */
  rotatesRefreshTokens: boolean;
  /** ID-token claims that may carry the SMTP username, in order of preference. */
  usernameClaims: string[];
}

export interface NormalizedTestEmail {
  to: string[];
  subject?: string;
  onDeploy: boolean;
  required: boolean;
}

/** The identity service that stores the setting (`service`), with adminRealm defaulted. */
export interface NormalizedService {
  type: IdentityService["type"];
  /** The base URL without a trailing slash. */
  url: string;
  realm: string;
  /** Where the admin client is registered (default: realm). */
  adminRealm: string;
  clientId: string;
  clientSecret: SecretReference;
}

interface NormalizedCommon {
  version: 1;
  name: string;
  testEmail?: NormalizedTestEmail;
  service?: NormalizedService;
}

export interface NormalizedBuiltinDeclaration extends NormalizedCommon {
  server: "builtin";
}

export interface NormalizedCustomDeclaration extends NormalizedCommon {
  server: "custom";
  /** The vendor, declared by `preset` or recognised from the host or issuer. */
  vendor?: PresetName;
  smtp: NormalizedSmtp;
  auth: NormalizedBasicAuth | NormalizedOAuthAuth;
  from: { name?: string; address?: string };
  /** Undefined when replies are disabled (omitted or ""). */
  replyTo?: string;
}

/** A declaration with its preset and defaults applied: what the lifecycle steps work from. */
export type NormalizedDeclaration = NormalizedBuiltinDeclaration | NormalizedCustomDeclaration;

/** Splits a space-separated scope string; keeps a list as it is, without duplicates. */
export function scopeList(scopes: string | string[] | undefined): string[] {
  const list = typeof scopes === "string" ? scopes.split(/\s+/) : (scopes ?? []);
  return [...new Set(list.filter((scope) => scope.length > 0))];
}

/**
 * Applies the preset and the defaults. The input must already be valid (see validateDeclaration):
 * normalizing an invalid declaration is a programmer's error.
 */
export function normalizeDeclaration(declaration: MailServerDeclaration): NormalizedDeclaration {
  const testEmail = declaration.testEmail && {
    to: [...declaration.testEmail.to],
    ...(declaration.testEmail.subject !== undefined && { subject: declaration.testEmail.subject }),
    onDeploy: declaration.testEmail.onDeploy ?? true,
    required: declaration.testEmail.required ?? false,
  };
  const service = declaration.service && normalizeService(declaration.service);
  const common = {
    version: 1 as const,
    name: declaration.name,
    ...(testEmail && { testEmail }),
    ...(service && { service }),
  };
  if (declaration.server === "builtin") return { ...common, server: "builtin" };

  const preset = declaration.preset ? PRESETS[declaration.preset] : undefined;
  if (!declaration.auth)
    throw new TypeError(`declaration ${declaration.name} has no auth: validate it first`);
  const smtp = normalizeSmtp(declaration, preset);
  const vendor = vendorOf({
    ...(declaration.preset && { preset: declaration.preset }),
    host: smtp.host,
    ...(declaration.auth.method === "oauth" && { issuer: declaration.auth.issuer ?? preset?.issuer }),
  });
  const auth =
    declaration.auth.method === "basic"
      ? normalizeBasic(declaration.auth)
      : normalizeOAuth(declaration.auth, preset, vendor);
  const replyTo = declaration.replyTo === "" ? undefined : declaration.replyTo;
  return {
    ...common,
    server: "custom",
    ...(vendor && { vendor: vendor.name }),
    smtp,
    auth,
    from: { ...declaration.from },
    ...(replyTo !== undefined && { replyTo }),
  };
}

function normalizeSmtp(declaration: MailServerDeclaration, preset: Preset | undefined): NormalizedSmtp {
  const declared = declaration.smtp ?? {};
  const host = declared.host ?? preset?.smtp.host;
  if (host === undefined)
    throw new TypeError(`declaration ${declaration.name} has no smtp.host: validate it first`);
  const protocol = declared.protocol ?? preset?.smtp.protocol ?? "tls";
  const port =
    declared.port ??
    (preset && protocol === preset.smtp.protocol ? preset.smtp.port : undefined) ??
    DEFAULT_PORTS[protocol];
  return {
    host,
    protocol,
    port,
    ...(declared.tls?.ca && { caFile: declared.tls.ca.file }),
    ...(declared.tls?.servername && { servername: declared.tls.servername }),
    timeouts: { ...DEFAULT_SMTP_TIMEOUTS, ...declared.timeouts },
  };
}

function normalizeService(service: IdentityService): NormalizedService {
  return {
    type: service.type,
    url: service.url.replace(/\/+$/, ""),
    realm: service.realm,
    adminRealm: service.adminRealm ?? service.realm,
    clientId: service.clientId,
    clientSecret: service.clientSecret,
  };
}

function normalizeBasic(auth: BasicAuthentication): NormalizedBasicAuth {
  return { method: "basic", username: auth.username, password: auth.password };
}

function normalizeOAuth(
  auth: OAuthAuthentication,
  preset: Preset | undefined,
  vendor: Preset | undefined,
): NormalizedOAuthAuth {
  const { method: _method, scopes, flow, issuer, clientId, ...rest } = auth;
  const appOnly = isAppOnlyFlow(flow);
  const resolvedIssuer = issuer ?? presetIssuer(auth, preset);
  return {
    ...rest,
    method: "oauth",
    clientId: clientId ?? "",
    ...(resolvedIssuer !== undefined && { issuer: resolvedIssuer }),
    scopes:
      scopes === undefined ? [...((appOnly ? preset?.appScopes : preset?.scopes) ?? [])] : scopeList(scopes),
    flow: flow ?? "loopback",
    authorizationParams: { ...vendor?.authorizationParams },
    rotatesRefreshTokens: vendor?.rotatesRefreshTokens ?? false,
    usernameClaims: [...(vendor?.usernameClaims ?? ["email"])],
  };
}

/**
 * The preset's issuer for this flow: none for a service account (its key names the token
 * endpoint), the tenant's own issuer for client credentials when the vendor has one (Microsoft's
 * multi-tenant issuers issue no app tokens), else the preset's.
 */
function presetIssuer(auth: OAuthAuthentication, preset: Preset | undefined): string | undefined {
  if (auth.flow === "service-account") return undefined;
  if (auth.flow === "client-credentials" && preset?.tenantIssuer && auth.tenantId)
    return preset.tenantIssuer.replace("{tenantid}", auth.tenantId);
  return preset?.issuer;
}
