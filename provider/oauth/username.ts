/**
 * Who the SMTP login is for: one resolution, used by authorize, verify/test-email, the Pulumi
 * lifecycle and drift. In order: the declared `auth.username`; the email of the account the
 * tokens are for (the ID token's email claims, else the userinfo endpoint called with the access
 * token); the identity recorded when the grant was made. OIDC Core 12.2 lets a refresh answer omit
 * the ID token, and an ID token may carry no email, so the later sources are needed in the field.
 */
import type { NormalizedOAuthAuth } from "../declaration/normalize.js";
import { MailServerError } from "../errors.js";
import { emailFromClaims } from "./id-token.js";

/** Where the account's email came from. */
export type EmailSource = "id-token" | "userinfo";

export interface TokenEmail {
  email: string | null;
  source: EmailSource | null;
  /** The token response had no ID token (OIDC Core 12.2 allows that for a refresh). */
  noIdToken?: boolean;
  /** Why userinfo gave nothing, when it was asked (for the username-missing message). */
  userinfoProblem?: string;
}

/** The email in ID-token claims alone (a refresh step that does not ask userinfo). */
export function claimsEmail(
  claims: Record<string, unknown> | undefined,
  auth: Pick<NormalizedOAuthAuth, "usernameClaims">,
): TokenEmail {
  const email = claims ? emailFromClaims(claims, auth.usernameClaims) : null;
  return email
    ? { email, source: "id-token" }
    : { email: null, source: null, ...(!claims && { noIdToken: true }) };
}

/** Where the SMTP username came from. */
export type UsernameSource = "declared" | EmailSource | "recorded";

export interface UsernameSources {
  /** `auth.username`. */
  declared?: string | undefined;
  /** The email of the account the tokens are for (see {@link tokenEmail}). */
  token?: TokenEmail | undefined;
  /** What was recorded when the grant was made (an `authorize --out` file, the Pulumi state). */
  recorded?: { username?: string | undefined; email?: string | undefined } | undefined;
}

/**
 * The SMTP username from the first source that has one; `username-missing` only when all are absent.
 * @example
 * resolveUsername({ declared: undefined, token: { email: null, source: null }, recorded: { username: "ops@contoso.com" } })
 * // { username: "ops@contoso.com", source: "recorded", fromAddress: "ops@contoso.com" }
 */
export function resolveUsername(sources: UsernameSources): {
  username: string;
  source: UsernameSource;
  /** The From Address it implies: the account's email, else the recorded one, else an address-like username. */
  fromAddress: string | null;
} {
  const fromAddress = (username: string) =>
    sources.token?.email ?? sources.recorded?.email ?? (username.includes("@") ? username : null);
  const found = (username: string, source: UsernameSource) => ({
    username,
    source,
    fromAddress: fromAddress(username),
  });
  if (sources.declared) return found(sources.declared, "declared");
  const { token, recorded } = sources;
  if (token?.email && token.source) return found(token.email, token.source);
  const remembered = recorded?.username ?? recorded?.email;
  if (remembered) return found(remembered, "recorded");
  const tried = [
    "auth.username is not declared",
    token?.noIdToken ? "there is no ID token" : "the ID token carries no email",
    ...(token?.userinfoProblem ? [token.userinfoProblem] : []),
    "no identity was recorded with the grant",
  ];
  throw new MailServerError("username-missing", `the SMTP username must be entered: ${tried.join("; ")}`, {
    field: "auth.username",
  });
}

/** The SMTP username, the From Address and the account's email, as the mail server page shows them. */
export interface Identity {
  /** The SMTP username: declared `auth.username`, else the email from the ID token. */
  username: string;
  /** The From Address: declared `from.address`, else the email from the ID token; null when neither. */
  fromAddress: string | null;
  /** The email from the ID token (Microsoft: email, then preferred_username, then upn); null when absent. */
  email: string | null;
}

/**
 * The identity from ID-token claims alone, by the same resolution (declared values win; else the
 * first of `auth.usernameClaims` that holds an address); `username-missing` when neither.
 * @example
 * identityFromClaims({ email: "ops@contoso.com" }, auth) // { username: "ops@contoso.com", fromAddress: "ops@contoso.com", email: "ops@contoso.com" }
 * @see OpenID Connect Core 1.0 section 5.1 (standard claims)
 */
export function identityFromClaims(
  claims: Record<string, unknown> | undefined,
  auth: Pick<NormalizedOAuthAuth, "username" | "usernameClaims">,
  declaredFrom?: string,
): Identity {
  const token = claimsEmail(claims, auth);
  const resolved = resolveUsername({ declared: auth.username, token });
  return {
    username: resolved.username,
    fromAddress: declaredFrom ?? resolved.fromAddress,
    email: token.email,
  };
}
