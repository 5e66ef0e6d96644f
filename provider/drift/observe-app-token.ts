/**
 * The grant step of observe for the app-only flows (client credentials, service account): there
 * is no grant to refresh, so it asks for a fresh app token - which proves the credentials, the
 * scope and (for a service account) the mailbox still work - and keeps nothing.
 */
import type { NormalizedOAuthAuth } from "../declaration/normalize.js";
import { secretResolver } from "../declaration/secrets.js";
import { isMailServerError } from "../errors.js";
import type { ObservedFacts, ObservedGrant } from "./facts.js";
import type { ObserveOptions, ObserveSteps } from "./observe.js";
import { HTTP_STEP_MS } from "./observe-deadline.js";
import { observedError, unresolved } from "./observe-error.js";

/** Failures of the declaration's own references and keys: configuration errors, not drift. */
const CONFIGURATION_CODES = new Set([
  "secret-unresolved",
  "secret-needs-pulumi",
  "client-key-invalid",
  "service-account-key-invalid",
]);

/** The field holding the app's credential, for findings. */
function appCredentialField(auth: NormalizedOAuthAuth): string {
  if (auth.flow === "service-account") return "auth.serviceAccountKey";
  return auth.clientAssertion ? "auth.clientAssertion" : "auth.clientSecret";
}

/** Obtains an app token for the SMTP login; a refusal becomes the grant's error. */
export async function observeAppToken(
  facts: ObservedFacts,
  auth: NormalizedOAuthAuth,
  steps: ObserveSteps,
  options: ObserveOptions,
  remainingMs: number,
): Promise<string | undefined> {
  const grant: ObservedGrant = { checked: false, ok: false };
  facts.grant = grant;
  const skip = (reason: string) => {
    grant.skipped = reason;
    facts.notes.push(`app token not requested: ${reason}`);
    return undefined;
  };
  if (options.grantCheck === "skip") return skip('grantCheck is "skip"');
  if (facts.discovery && !facts.discovery.ok) return skip("the issuer's configuration could not be fetched");
  grant.checked = true;
  try {
    const token = await steps.obtainAppToken(auth, {
      baseDir: options.baseDir,
      secret: secretResolver(options),
      ...(options.clientSecret !== undefined && { clientSecret: options.clientSecret }),
      ...(options.fetch && { fetch: options.fetch }),
      ...(options.now && { now: options.now }),
      timeoutMs: Math.min(HTTP_STEP_MS, Math.max(1, remainingMs)),
    });
    grant.ok = true;
    grant.scope = [...token.scope];
    return token.accessToken;
  } catch (error) {
    if (isMailServerError(error) && CONFIGURATION_CODES.has(error.code)) {
      grant.checked = false;
      return unresolved(facts, error, skip);
    }
    grant.error = observedError(error, appCredentialField(auth));
    return undefined;
  }
}
