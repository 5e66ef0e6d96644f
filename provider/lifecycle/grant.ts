/**
 * Which grant a create or update uses: the stored one when issuer, client and scopes are
 * unchanged, the declared `auth.refreshToken` when the user brought a new one, else a new
 * authorization (device or loopback flow) when someone is there to complete it. A rotated refresh
 * token is written back to its `file` reference at once: the old one is spent.
 */
import { createHash } from "node:crypto";
import type { NormalizedOAuthAuth } from "../declaration/normalize.js";
import { type SecretResolver, secretFilePath, storeRotatedRefreshToken } from "../declaration/secrets.js";
import { isMailServerError, MailServerError } from "../errors.js";
import { claimsEmail, type TokenEmail } from "../oauth/username.js";
import { canPrompt, promptWriter } from "./prompt.js";
import type { MailServerState } from "./state.js";
import type { LifecycleSteps } from "./steps.js";

export interface UsableGrant {
  refreshToken: string;
  accessToken: string;
  scope: string[];
  grantedAt: string;
  idTokenClaims?: Record<string, unknown>;
  /** The email of the account the grant is for (ID token, else userinfo), when known. */
  account?: TokenEmail;
  /** Where it came from, for the diagnostics. */
  source: "stored" | "declared" | "authorized";
  /** The refresh token changed (rotation or new authorization): the state must be saved with it. */
  changed: boolean;
}

export interface ObtainGrantOptions {
  name: string;
  auth: NormalizedOAuthAuth;
  clientSecret?: string;
  /** Folder of the declaration: a `file` grant is written back there. */
  baseDir: string;
  /** Resolves the declaration's secret references (auth.refreshToken). */
  secret: SecretResolver;
  /** The previous state, when its grant may be reused (grant identity unchanged). */
  previous?: MailServerState;
  env?: Record<string, string | undefined>;
  log?: (line: string) => void;
  now?: () => Date;
  /** How long an interactive authorization may take (default 10 minutes). */
  authorizeTimeoutMs?: number;
}

export function digestOf(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export async function obtainGrant(
  steps: LifecycleSteps,
  options: ObtainGrantOptions,
): Promise<UsableGrant & { declaredDigest?: string }> {
  const { auth } = options;
  const ref = auth.refreshToken;
  // A grant file is used under its cross-process lock: its token is read, spent and replaced
  // while no other process (a CI drift job, another `pulumi up`) can spend it too.
  const tried =
    ref && "file" in ref
      ? await (await import("../oauth/grant-file.js")).withGrantFile(
          secretFilePath(ref, options.baseDir),
          ({ refreshToken, save }) =>
            tryKnownGrants(steps, options, refreshToken, async (token) => {
              await save(token);
              return true;
            }),
        )
      : await tryKnownGrants(
          steps,
          options,
          ref ? await options.secret(ref, "auth.refreshToken") : undefined,
          async () => false,
        );
  if ("grant" in tried) return tried.grant;
  const { lastFailure, declaredDigest } = tried;
  const { name } = options;
  const env = options.env ?? process.env;
  if (!canPrompt(env)) {
    const reason =
      lastFailure instanceof MailServerError
        ? `the grant was refused (${lastFailure.code})`
        : "no grant is stored or declared (auth.refreshToken)";
    throw new MailServerError(
      "authorization-required",
      `${name}: ${reason} and nobody is here to sign in (no terminal)`,
      {
        field: "auth.refreshToken",
        remedy: `Run \`mailserver authorize ${name}.yaml --out .secrets/${name}.json\` on a machine with a browser and reference the file as auth.refreshToken: { file: .secrets/${name}.json }.`,
      },
    );
  }
  const prompt = promptWriter({ env, ...(options.log && { log: options.log }) });
  prompt(`${name}: authorization needed (${auth.flow} flow); sign in as the mailbox that sends the mail:`);
  const grant = await steps.authorize(auth, {
    ...(options.clientSecret !== undefined && { clientSecret: options.clientSecret }),
    prompt: (line: string) => prompt(`${name}: ${line}`),
    noBrowser: true,
    timeoutMs: options.authorizeTimeoutMs ?? 10 * 60_000,
  });
  const written = await persistDeclared(options, grant.refreshToken);
  return {
    refreshToken: grant.refreshToken,
    accessToken: grant.accessToken,
    scope: grant.scope,
    grantedAt: grant.obtainedAt,
    ...(grant.idTokenClaims && { idTokenClaims: grant.idTokenClaims }),
    // authorize() resolved the username already: its account email, else that username.
    account: { email: grant.email ?? grant.username, source: "id-token" },
    source: "authorized",
    changed: true,
    ...(written
      ? { declaredDigest: digestOf(grant.refreshToken) }
      : declaredDigest !== undefined && { declaredDigest }),
  };
}

/**
 * Refreshes the stored grant, else the declared one (`declared`, read by the caller: under the
 * grant file's lock when it is a file). A rotated token goes to `saveDeclared` (true when written).
 */
async function tryKnownGrants(
  steps: LifecycleSteps,
  options: ObtainGrantOptions,
  declared: string | undefined,
  saveDeclared: (refreshToken: string) => Promise<boolean>,
): Promise<
  | { grant: UsableGrant & { declaredDigest?: string } }
  | { lastFailure: unknown; declaredDigest: string | undefined }
> {
  const { auth, previous } = options;
  const now = options.now ?? (() => new Date());
  const declaredDigest = declared === undefined ? undefined : digestOf(declared);
  const candidates: { token: string; source: "stored" | "declared" }[] = [];
  // The user brought a different token than the one stored with the state: they re-authorized.
  const stored = previous?.refreshToken;
  const declaredIsNew =
    declared !== undefined && declared !== stored && declaredDigest !== previous?.declaredGrantDigest;
  if (stored && !declaredIsNew) candidates.push({ token: stored, source: "stored" });
  if (declared !== undefined && declared !== stored) candidates.push({ token: declared, source: "declared" });

  let lastFailure: unknown;
  for (const candidate of candidates) {
    try {
      // A rotated token goes back to its file before the answer is judged: the old one may be dead.
      let written = false;
      const refreshed = await steps.refreshGrant(auth, {
        refreshToken: candidate.token,
        ...(options.clientSecret !== undefined && { clientSecret: options.clientSecret }),
        saveRefreshToken: async (token) => {
          written = await saveDeclared(token);
        },
      });
      const refreshToken = refreshed.rotated ? refreshed.refreshToken : candidate.token;
      if (refreshToken !== candidate.token && !refreshed.saved) written = await saveDeclared(refreshToken);
      const grant = {
        refreshToken,
        accessToken: refreshed.accessToken,
        scope: refreshed.scope.length > 0 ? refreshed.scope : (previous?.scopes ?? auth.scopes),
        grantedAt: (candidate.source === "stored" && previous?.grantedAt) || now().toISOString(),
        ...(refreshed.idTokenClaims && { idTokenClaims: refreshed.idTokenClaims }),
        account: refreshed.accountEmail ?? claimsEmail(refreshed.idTokenClaims, auth),
        source: candidate.source,
        changed: refreshToken !== previous?.refreshToken,
        ...(written
          ? { declaredDigest: digestOf(refreshToken) }
          : declaredDigest !== undefined && { declaredDigest }),
      };
      return { grant };
    } catch (error) {
      // Only a dead grant moves on to the next candidate; a network failure is reported as is.
      if (!isMailServerError(error) || !["grant-invalid", "token-refresh-failed"].includes(error.code))
        throw error;
      lastFailure = error;
    }
  }
  return { lastFailure, declaredDigest };
}

/** Writes the newest refresh token back where auth.refreshToken points, when that is a file. */
async function persistDeclared(options: ObtainGrantOptions, refreshToken: string): Promise<boolean> {
  if (!options.auth.refreshToken) return false;
  return storeRotatedRefreshToken(options.auth.refreshToken, refreshToken, options.baseDir);
}
