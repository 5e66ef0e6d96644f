import {
  isAppOnlyFlow,
  type NormalizedCustomDeclaration,
  type NormalizedOAuthAuth,
} from "./declaration/normalize.js";
import {
  describeSecretReference,
  recordedIdentity,
  secretResolver,
  storeRotatedRefreshToken,
} from "./declaration/secrets.js";
import { ISSUER_FAILURES, isMailServerError, MailServerError } from "./errors.js";
import type { AppToken } from "./oauth/app-token.js";
import type { RefreshedGrant, RefreshGrantOptions } from "./oauth/tokens.js";
import { claimsEmail, resolveUsername } from "./oauth/username.js";
import type { SmtpCredentials } from "./smtp/session.js";

export type { SmtpCredentials } from "./smtp/session.js";

export interface ResolveSmtpCredentialsOptions {
  /** Folder of the declaration: `file` references are relative to it. */
  baseDir: string;
  env?: Record<string, string | undefined>;
  /** Resolves `config` references (only the Pulumi program has one). */
  config?: (key: string) => string | undefined;
  /** A refresh token that overrides auth.refreshToken (for example the newest one from Pulumi state). */
  refreshToken?: string;
  fetch?: typeof fetch;
  /** The refresh-token grant; injectable for tests of rare failures. Default: provider/oauth's. */
  refreshGrant?: (auth: NormalizedOAuthAuth, options: RefreshGrantOptions) => Promise<RefreshedGrant>;
}

/** The grant behind OAuth credentials. `refreshToken` is secret: the caller keeps the newest one. */
export interface ResolvedGrant {
  refreshToken: string;
  rotated: boolean;
  /** Whether the rotated token was written back to auth.refreshToken's file. */
  persisted: boolean;
  scope: string[];
  expiresAt: string | null;
  idTokenClaims?: Record<string, unknown>;
  /** The From Address the grant implies: from.address, else the ID token's email. */
  fromAddress: string | null;
}

export interface ResolvedSmtpCredentials {
  credentials: SmtpCredentials;
  grant?: ResolvedGrant;
  /** The app-only flows: what the token endpoint granted (the token itself is in `credentials`). */
  appToken?: Omit<AppToken, "accessToken">;
  /** The app-only flows' From Address: from.address, else the mailbox it sends as. */
  fromAddress?: string;
}

/**
 * Resolves what the SMTP login needs. Basic: the password reference. OAuth: the client secret and
 * refresh token references, then a refresh-token grant for a fresh access token; a token that the
 * issuer rotated is written back when it came from a `{ file }` reference (otherwise the caller
 * must persist `grant.refreshToken`, e.g. in Pulumi state). The username is auth.username, else
 * the ID token's email, else the `username` an `authorize --out` file recorded. The app-only
 * flows (client credentials, service account) get a fresh app token instead, for auth.username.
 *
 * @example
 * const { credentials } = await resolveSmtpCredentials(decl, { baseDir: dirname(file) });
 * const report = await verifySmtp(decl, credentials, { baseDir: dirname(file) });
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-6 refreshing an access token
 */
export async function resolveSmtpCredentials(
  decl: NormalizedCustomDeclaration,
  options: ResolveSmtpCredentialsOptions,
): Promise<ResolvedSmtpCredentials> {
  const secret = secretResolver(options);
  const { auth } = decl;
  if (auth.method === "basic") {
    const password = await secret(auth.password, "auth.password");
    return { credentials: { method: "basic", username: auth.username, password } };
  }

  if (isAppOnlyFlow(auth.flow)) return appCredentials(decl, auth, options);

  let refreshToken = options.refreshToken;
  if (refreshToken === undefined) {
    if (!auth.refreshToken) {
      throw new MailServerError(
        "authorization-required",
        `declaration ${decl.name} has no auth.refreshToken`,
        {
          field: "auth.refreshToken",
        },
      );
    }
    refreshToken = await secret(auth.refreshToken, "auth.refreshToken");
  }
  const clientSecret = auth.clientSecret ? await secret(auth.clientSecret, "auth.clientSecret") : undefined;

  // A rotated token is written back before anything else is judged: the old one may be dead.
  let persisted = false;
  const ref = options.refreshToken === undefined ? auth.refreshToken : undefined;
  let refreshed: RefreshedGrant;
  try {
    // Loaded here, not at the top: Basic auth never pays for loading the OAuth client.
    const grantStep = options.refreshGrant ?? (await import("./oauth/tokens.js")).refreshGrant;
    refreshed = await grantStep(auth, {
      refreshToken,
      ...(clientSecret !== undefined && { clientSecret }),
      ...(options.fetch && { fetch: options.fetch }),
      ...(ref && {
        saveRefreshToken: async (token: string) => {
          persisted = await storeRotatedRefreshToken(ref, token, options.baseDir);
        },
      }),
    });
  } catch (error) {
    throw tokenRefreshFailed(error, auth, options.refreshToken !== undefined);
  }
  if (refreshed.rotated && !refreshed.saved && ref) {
    // A refresh step that does not save by itself (an injected one).
    persisted = await storeRotatedRefreshToken(ref, refreshed.refreshToken, options.baseDir);
  }

  // The one username resolution: declared, the token's account (ID token, userinfo), recorded.
  const identity = resolveUsername({
    declared: auth.username,
    token: refreshed.accountEmail ?? claimsEmail(refreshed.idTokenClaims, auth),
    recorded: await recordedIdentity(auth.refreshToken, options.baseDir),
  });
  return {
    credentials: { method: "oauth", username: identity.username, accessToken: refreshed.accessToken },
    grant: {
      refreshToken: refreshed.refreshToken,
      rotated: refreshed.rotated,
      persisted,
      scope: refreshed.scope,
      expiresAt: refreshed.expiresAt,
      ...(refreshed.idTokenClaims && { idTokenClaims: refreshed.idTokenClaims }),
      fromAddress: decl.from.address ?? identity.fromAddress,
    },
  };
}

function tokenRefreshFailed(error: unknown, auth: NormalizedOAuthAuth, fromState: boolean): MailServerError {
  const where = fromState ? "the stored grant" : `auth.refreshToken (${describeReference(auth)})`;
  // The issuer's own failure keeps its code: the grant is fine and the remedy is to try again.
  const code =
    isMailServerError(error) && ISSUER_FAILURES.has(error.code) ? error.code : "token-refresh-failed";
  const reason = !isMailServerError(error)
    ? "the token request failed"
    : code === error.code
      ? error.message
      : `${error.message} (${error.code})`;
  return new MailServerError(code, `no access token from ${where}: ${reason}`, {
    field: "auth.refreshToken",
    ...(isMailServerError(error) && { remedy: error.remedy, details: { cause: error.code } }),
    cause: error,
  });
}

function describeReference(auth: NormalizedOAuthAuth): string {
  return auth.refreshToken ? describeSecretReference(auth.refreshToken) : "none";
}

/**
 * The app-only flows: a fresh app token (never stored), and auth.username - the mailbox to send
 * as - as the XOAUTH2 user.
 */
async function appCredentials(
  decl: NormalizedCustomDeclaration,
  auth: NormalizedOAuthAuth,
  options: ResolveSmtpCredentialsOptions,
): Promise<ResolvedSmtpCredentials> {
  if (!auth.username)
    throw new TypeError(`declaration ${decl.name}: flow ${auth.flow} needs auth.username: validate it first`);
  // Loaded here, not at the top: Basic auth never pays for loading the OAuth client.
  const { obtainAppToken } = await import("./oauth/app-token.js");
  const { accessToken, ...granted } = await obtainAppToken(auth, {
    baseDir: options.baseDir,
    secret: secretResolver(options),
    ...(options.fetch && { fetch: options.fetch }),
  });
  return {
    credentials: { method: "oauth", username: auth.username, accessToken },
    appToken: granted,
    fromAddress: decl.from.address ?? auth.username,
  };
}
