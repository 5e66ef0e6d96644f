/**
 * The userinfo step of the username resolution (./username.ts): asked only when the ID token
 * names no email. Kept apart so that the resolution itself loads no OAuth client.
 */
import * as oidc from "openid-client";
import type { NormalizedOAuthAuth } from "../declaration/normalize.js";
import { emailFromClaims } from "./id-token.js";
import type { TokenEmail } from "./username.js";

/**
 * The email of the account the tokens are for: the first of `auth.usernameClaims` in the ID token
 * that holds an address, else (only when `needed`) the same claims from the userinfo endpoint,
 * called with the access token. A failing userinfo request is not an error here: the caller has
 * one more source (the identity recorded with the grant).
 * @see OpenID Connect Core 1.0 section 5.3 (UserInfo endpoint), 12.2 (refresh response)
 */
export async function tokenEmail(
  config: oidc.Configuration,
  auth: Pick<NormalizedOAuthAuth, "usernameClaims">,
  tokens: { accessToken: string; claims?: Record<string, unknown> | undefined },
  needed: boolean,
): Promise<TokenEmail> {
  const fromIdToken = tokens.claims ? emailFromClaims(tokens.claims, auth.usernameClaims) : null;
  if (fromIdToken) return { email: fromIdToken, source: "id-token" };
  const none = { email: null, source: null, ...(!tokens.claims && { noIdToken: true }) };
  if (!needed) return none;
  if (!config.serverMetadata().userinfo_endpoint) {
    return { ...none, userinfoProblem: "the issuer publishes no userinfo endpoint" };
  }
  try {
    const sub = tokens.claims?.sub;
    const userinfo = await oidc.fetchUserInfo(
      config,
      tokens.accessToken,
      typeof sub === "string" ? sub : oidc.skipSubjectCheck,
    );
    const email = emailFromClaims(userinfo as Record<string, unknown>, auth.usernameClaims);
    return email
      ? { email, source: "userinfo" }
      : { ...none, userinfoProblem: `userinfo carries none of ${auth.usernameClaims.join(", ")}` };
  } catch (error) {
    // Messages of openid-client and of the fetch seam name hosts and fields, never the token.
    return { ...none, userinfoProblem: `userinfo failed: ${(error as Error).message}` };
  }
}
