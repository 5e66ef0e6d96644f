/**
 * What the mail server page reads from the ID token: the SMTP username and the From Address.
 * The token itself is validated by openid-client (signature, iss, aud, exp, nonce) in the grant
 * step; this module derives facts from its claims, pins a Microsoft tenant, and drops what is not
 * worth keeping.
 */
import type { NormalizedOAuthAuth } from "../declaration/normalize.js";
import { MailServerError } from "../errors.js";

export interface Identity {
  /** The SMTP username: declared `auth.username`, else the email from the ID token. */
  username: string;
  /** The From Address: declared `from.address`, else the email from the ID token; null when neither. */
  fromAddress: string | null;
  /** The email from the ID token (Microsoft: email, then preferred_username, then upn); null when absent. */
  email: string | null;
}

/** Claims that are one-time values or hashes of tokens: not worth storing. */
const DROPPED_CLAIMS = new Set(["nonce", "at_hash", "c_hash", "s_hash", "rt_hash", "sid", "jti"]);

/**
 * Derives the SMTP username and From Address. Declared values win; else the first claim of
 * `auth.usernameClaims` that holds an address. Neither: the SMTP username must be entered.
 * @example
 * identityFromClaims({ email: "ops@contoso.com" }, auth) // { username: "ops@contoso.com", fromAddress: "ops@contoso.com", email: "ops@contoso.com" }
 * @see OpenID Connect Core 1.0 section 5.1 (standard claims)
 */
export function identityFromClaims(
  claims: Record<string, unknown> | undefined,
  auth: Pick<NormalizedOAuthAuth, "username" | "usernameClaims">,
  declaredFrom?: string,
): Identity {
  const email = emailFromClaims(claims ?? {}, auth.usernameClaims);
  const username = auth.username ?? email;
  if (!username) {
    const looked = auth.usernameClaims.join(", ");
    throw new MailServerError(
      "username-missing",
      claims
        ? `the ID token carries no email (looked for ${looked}) and auth.username is not declared: the SMTP username must be entered`
        : "there is no ID token and auth.username is not declared: the SMTP username must be entered",
      { field: "auth.username" },
    );
  }
  const fromAddress = declaredFrom ?? email ?? (username.includes("@") ? username : null);
  return { username, fromAddress, email };
}

/** The first of `names` whose claim is a string that looks like an address. */
export function emailFromClaims(claims: Record<string, unknown>, names: readonly string[]): string | null {
  for (const name of names) {
    const value = claims[name];
    if (typeof value === "string" && /^[^\s@]+@[^\s@]+$/.test(value)) return value;
  }
  return null;
}

/**
 * With `auth.tenantId` declared, only that tenant's ID tokens pass. The issuer is already pinned
 * to the tenant for `{tenantid}` issuers (see client.ts); this also catches a `tid` of another
 * tenant under a tenant-specific issuer.
 */
export function checkTenant(
  claims: Record<string, unknown> | undefined,
  auth: Pick<NormalizedOAuthAuth, "tenantId">,
): void {
  if (!auth.tenantId || !claims) return;
  if (claims.tid !== undefined && claims.tid !== auth.tenantId) {
    throw new MailServerError(
      "id-token-invalid",
      `the ID token is from tenant ${JSON.stringify(claims.tid)}, but auth.tenantId is ${JSON.stringify(auth.tenantId)}`,
      { field: "auth.tenantId", details: { tid: claims.tid } },
    );
  }
}

/** The claims worth keeping with a grant: identity facts, not one-time values or token hashes. */
export function nonSecretClaims(claims: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!claims) return {};
  return Object.fromEntries(Object.entries(claims).filter(([name]) => !DROPPED_CLAIMS.has(name)));
}
