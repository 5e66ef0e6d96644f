import type { ProblemCode } from "../declaration/problem-codes.js";
import gmail from "./gmail.json" with { type: "json" };
import office365 from "./office365.json" with { type: "json" };

/** Vendor facts, kept as data (hosts, ports, issuer, scopes, flows, extra authorization parameters). */
export interface Preset {
  name: PresetName;
  title: string;
  /** SMTP host names that belong to this vendor. */
  hosts: string[];
  smtp: { host: string; protocol: "tls" | "starttls"; port: number };
  allowedPorts: number[];
  allowedProtocols: Array<"tls" | "starttls">;
  issuer: string;
  /** The issuer of one tenant, `{tenantid}` standing for auth.tenantId (Microsoft: app tokens need it). */
  tenantIssuer?: string;
  /** Tenant names of issuers that serve many tenants and issue no app tokens (Microsoft: common, ...). */
  multiTenantIssuers?: string[];
  /** Issuer host names that belong to this vendor. */
  issuerHosts: string[];
  scopes: string[];
  /** Each scope the setting needs, with every spelling the vendor accepts for it (the first is the preferred one). */
  requiredScopes: RequiredScope[];
  /** Scopes that look right but cannot work, with why (compared case-insensitively). */
  rejectedScopes: RejectedScope[];
  /** The flows this vendor supports: delegated (loopback, device) and app-only (client-credentials, service-account). */
  flows: OAuthFlow[];
  /** The scopes of an app-only token (Microsoft: `.default` of Exchange Online; Google: the mail scope). */
  appScopes: string[];
  /** Extra parameters for the authorization request (Google: access_type=offline, prompt=consent). */
  authorizationParams: Record<string, string>;
  /** Whether every refresh returns a new refresh token that must be persisted (Microsoft). */
  rotatesRefreshTokens: boolean;
  requiresUsername: boolean;
  /** ID-token claims that may carry the SMTP username, in order of preference. */
  usernameClaims: string[];
  notes: string;
}

export type PresetName = "gmail" | "office365";

/** A scope the vendor requires, in any of its accepted spellings. */
export interface RequiredScope {
  anyOf: string[];
  /** What the scope is for, for the message. */
  why: string;
}

/** A scope the vendor refuses or that leads nowhere. */
export interface RejectedScope {
  scope: string;
  /** The problem code (default `<preset>-scopes`). */
  code?: ProblemCode;
  /** Why it does not work, completing "the scope S ...". */
  why: string;
}

export type OAuthFlow = "loopback" | "device" | "client-credentials" | "service-account";

export const PRESETS: Readonly<Record<PresetName, Preset>> = {
  gmail: gmail as Preset,
  office365: office365 as Preset,
};

/** The vendor whose SMTP host or issuer this is, whether or not a preset was declared. */
export function vendorOf(facts: { preset?: string; host?: string; issuer?: string }): Preset | undefined {
  if (facts.preset === "gmail" || facts.preset === "office365") return PRESETS[facts.preset];
  const host = facts.host?.toLowerCase();
  const issuerHost = hostOf(facts.issuer);
  return Object.values(PRESETS).find(
    (preset) =>
      (host !== undefined && preset.hosts.includes(host)) ||
      (issuerHost !== undefined && preset.issuerHosts.includes(issuerHost)),
  );
}

function hostOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}
