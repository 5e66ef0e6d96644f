import type { SecretReference } from "./declaration/generated/declaration.js";
import {
  isAppOnlyFlow,
  mayRotateRefreshTokens,
  type NormalizedCustomDeclaration,
  type NormalizedOAuthAuth,
} from "./declaration/normalize.js";
import {
  describeSecretReference,
  recordedIdentity,
  secretFilePath,
  secretResolver,
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

  // The token to spend: the caller's (Pulumi state, which keeps the newest), else the declared one.
  const ref = options.refreshToken === undefined ? auth.refreshToken : undefined;
  if (options.refreshToken === undefined && !ref) {
    throw new MailServerError("authorization-required", `declaration ${decl.name} has no auth.refreshToken`, {
      field: "auth.refreshToken",
    });
  }
  if (ref && !("file" in ref) && mayRotateRefreshTokens(decl)) {
    // Refused before the refresh: the issuer could retire this token, and its new one would have
    // nowhere to go (an { env } or { config } value cannot be written back).
    throw new MailServerError(
      "grant-not-replaceable",
      `auth.refreshToken (${describeSecretReference(ref)}) cannot be written back, and the issuer may rotate refresh tokens: refreshing it would spend the token and lose the grant`,
      { field: "auth.refreshToken" },
    );
  }
  const clientSecret = auth.clientSecret ? await secret(auth.clientSecret, "auth.clientSecret") : undefined;
  // Loaded here, not at the top: Basic auth never pays for loading the OAuth client.
  const grantStep = options.refreshGrant ?? (await import("./oauth/tokens.js")).refreshGrant;

  // A rotated token is written back before anything else is judged: the old one may be dead.
  let persisted = false;
  const refresh = async (refreshToken: string, save?: (token: string) => Promise<void>) => {
    let refreshed: RefreshedGrant;
    try {
      refreshed = await grantStep(auth, {
        refreshToken,
        ...(clientSecret !== undefined && { clientSecret }),
        ...(options.fetch && { fetch: options.fetch }),
        ...(save && {
          saveRefreshToken: async (token: string) => {
            await save(token);
            persisted = true;
          },
        }),
      });
    } catch (error) {
      throw tokenRefreshFailed(error, auth, options.refreshToken !== undefined);
    }
    if (refreshed.rotated && !refreshed.saved && save) {
      // A refresh step that does not save by itself (an injected one).
      await save(refreshed.refreshToken);
      persisted = true;
    }
    return refreshed;
  };
  let refreshed: RefreshedGrant;
  if (ref && "file" in ref) {
    // A grant file: locked across processes while its token is read, spent and replaced.
    const { withGrantFile } = await import("./oauth/grant-file.js");
    refreshed = await withGrantFile(secretFilePath(ref, options.baseDir), ({ refreshToken, save }) =>
      refresh(refreshToken, save),
    );
  } else {
    refreshed = await refresh(
      options.refreshToken ?? (await secret(ref as SecretReference, "auth.refreshToken")),
    );
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

/** Failures that are not the grant's: a grant file that cannot be stored or is locked. */
const STORAGE_FAILURES = new Set<string>(["grant-save-failed", "grant-locked", "secret-unresolved"]);

function tokenRefreshFailed(error: unknown, auth: NormalizedOAuthAuth, fromState: boolean): MailServerError {
  if (isMailServerError(error) && STORAGE_FAILURES.has(error.code)) return error;
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
