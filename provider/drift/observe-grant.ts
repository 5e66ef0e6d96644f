/**
 * The grant step of observe: refreshes the grant when that is safe, and keeps the rotated refresh
 * token (written back to its own `file` reference, or handed to the caller's `persistRotated`).
 */
import {
  mayRotateRefreshTokens,
  type NormalizedCustomDeclaration,
  type NormalizedOAuthAuth,
  type SecretReference,
} from "../declaration/normalize.js";
import {
  describeSecretReference,
  recordedIdentity,
  secretFilePath,
  secretResolver,
} from "../declaration/secrets.js";
import { isMailServerError } from "../errors.js";
import type { RefreshedGrant } from "../oauth/tokens.js";
import { claimsEmail } from "../oauth/username.js";
import type { ObservedFacts, ObservedGrant } from "./facts.js";
import type { ObserveOptions, ObserveSteps } from "./observe.js";
import { HTTP_STEP_MS } from "./observe-deadline.js";
import { observedError, unresolved } from "./observe-error.js";

/** The grant error of a rotated refresh token that could not be saved (the stored one is likely dead). */
export const ROTATED_NOT_SAVED = "rotated-token-not-saved";

/**
 * Starts the grant step of either kind (a stored grant, an app token): records its facts, gives the
 * `skip` that notes why it did not run (after `notePrefix`), and says whether it must skip at once
 * (the caller asked so, or the issuer's configuration could not be fetched).
 */
export function beginGrantStep(
  facts: ObservedFacts,
  options: ObserveOptions,
  notePrefix: string,
): { grant: ObservedGrant; skip: (reason: string) => undefined; skipAtOnce: string | undefined } {
  const grant: ObservedGrant = { checked: false, ok: false };
  facts.grant = grant;
  const skip = (reason: string) => {
    grant.skipped = reason;
    facts.notes.push(`${notePrefix}: ${reason}`);
    return undefined;
  };
  const skipAtOnce =
    options.grantCheck === "skip"
      ? (options.grantSkipReason ?? 'grantCheck is "skip"')
      : facts.discovery && !facts.discovery.ok
        ? "the issuer's configuration could not be fetched"
        : undefined;
  return { grant, skip, skipAtOnce };
}

/** Refreshes the grant when that is safe; returns the access token for the SMTP login. */
export async function observeGrant(
  facts: ObservedFacts,
  decl: NormalizedCustomDeclaration,
  auth: NormalizedOAuthAuth,
  steps: ObserveSteps,
  options: ObserveOptions,
  remainingMs: number,
): Promise<string | undefined> {
  const { grant, skip, skipAtOnce } = beginGrantStep(facts, options, "grant not checked");
  if (skipAtOnce) return skip(skipAtOnce);
  const ref = auth.refreshToken;
  if (options.refreshToken === undefined && !ref) {
    return skip(
      "auth.refreshToken is not declared (a grant kept only in Pulumi state is checked by `pulumi preview --refresh`)",
    );
  }

  const where =
    options.refreshToken !== undefined || !ref
      ? "the refresh token given by the caller"
      : describeSecretReference(ref);
  const secret = secretResolver(options);
  let refreshToken: string;
  let clientSecret = options.clientSecret;
  try {
    refreshToken = options.refreshToken ?? (await secret(ref as SecretReference, "auth.refreshToken"));
    if (clientSecret === undefined && auth.clientSecret) {
      clientSecret = await secret(auth.clientSecret, "auth.clientSecret");
    }
  } catch (error) {
    return unresolved(facts, error, skip);
  }

  // Rotation: the old token dies when it is used, so a refresh is only safe if the new one can be kept.
  // A grant file is used under its cross-process lock, with its write prepared before the refresh.
  const grantFile =
    options.refreshToken === undefined && ref && "file" in ref
      ? secretFilePath(ref, options.baseDir)
      : undefined;
  if (!options.persistRotated && mayRotateRefreshTokens(decl)) {
    if (!grantFile) {
      return skip(
        `the issuer may rotate refresh tokens and ${where} cannot be written back: keep the grant in a file (mailserver authorize FILE --out FILE.json) to check it`,
      );
    }
  }
  if (ref && "file" in ref && options.refreshToken === undefined) {
    const authorizedAs = await recordedIdentity(ref, options.baseDir);
    if (Object.keys(authorizedAs).length > 0) grant.authorizedAs = authorizedAs;
  }

  // Saved as soon as the issuer's answer carries it, before the answer is judged.
  let saveFailure: unknown;
  const saver = (toFile?: (token: string) => Promise<void>) => async (token: string) => {
    try {
      if (options.persistRotated) await options.persistRotated(token);
      else if (toFile) await toFile(token);
      else throw new Error("nowhere to save it");
      grant.persisted = true;
    } catch (error) {
      grant.persisted = false;
      saveFailure = error;
    }
  };
  const spend = async (token: string, save: (token: string) => Promise<void>) => {
    grant.checked = true;
    const refreshed = await steps.refreshGrant(auth, {
      refreshToken: token,
      ...(clientSecret !== undefined && { clientSecret }),
      ...(options.fetch && { fetch: options.fetch }),
      timeoutMs: Math.min(HTTP_STEP_MS, Math.max(1, remainingMs)),
      saveRefreshToken: save,
    });
    if (refreshed.rotated && !refreshed.saved && saveFailure === undefined)
      await save(refreshed.refreshToken);
    return refreshed;
  };
  let refreshed: RefreshedGrant;
  try {
    if (grantFile) {
      const { withGrantFile } = await import("../oauth/grant-file.js");
      refreshed = await withGrantFile(grantFile, (locked) => spend(locked.refreshToken, saver(locked.save)));
    } else {
      refreshed = await spend(refreshToken, saver());
    }
  } catch (error) {
    // The file could not be locked or prepared: nothing was spent, the grant was not checked.
    if (!grant.checked && isMailServerError(error)) return skip(`${error.message} (${error.code})`);
    grant.error =
      saveFailure === undefined ? observedError(error, "auth.refreshToken") : notSaved(saveFailure);
    return undefined;
  }
  grant.ok = true;
  grant.scope = [...refreshed.scope];
  // The account's email as the username resolution sees it (ID token, else userinfo).
  grant.email = (refreshed.accountEmail ?? claimsEmail(refreshed.idTokenClaims, auth)).email;
  grant.rotated = refreshed.rotated;
  if (saveFailure !== undefined) {
    grant.ok = false;
    grant.error = notSaved(saveFailure);
  }
  return refreshed.accessToken;

  function notSaved(error: unknown) {
    return {
      code: ROTATED_NOT_SAVED,
      field: "auth.refreshToken",
      message: `the issuer rotated the refresh token, but the new one could not be saved to ${where} (${
        (error as NodeJS.ErrnoException).code ?? (error as Error).message
      }): the stored one may no longer work`,
    };
  }
}
