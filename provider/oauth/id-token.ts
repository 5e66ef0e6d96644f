/**
 * What the mail server page reads from the ID token: the SMTP username and the From Address.
 * The token itself is validated by openid-client (signature, iss, aud, exp, nonce) in the grant
 * step; this module derives facts from its claims, pins a Microsoft tenant, and drops what is not
 * worth keeping.
 */
import type { NormalizedOAuthAuth } from "../declaration/normalize.js";
import { MailServerError } from "../errors.js";

/** Claims that are one-time values or hashes of tokens: not worth storing. */
const DROPPED_CLAIMS = new Set(["nonce", "at_hash", "c_hash", "s_hash", "rt_hash", "sid", "jti"]);

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
