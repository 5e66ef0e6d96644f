/**
 * The grant step of observe for the app-only flows (client credentials, service account): there
 * is no grant to refresh, so it asks for a fresh app token - which proves the credentials, the
 * scope and (for a service account) the mailbox still work - and keeps nothing.
 */
import type { NormalizedOAuthAuth } from "../declaration/normalize.js";
import { secretResolver } from "../declaration/secrets.js";
import { isMailServerError } from "../errors.js";
import type { ObservedFacts } from "./facts.js";
import type { ObserveOptions, ObserveSteps } from "./observe.js";
import { HTTP_STEP_MS } from "./observe-deadline.js";
import { observedError, unresolved } from "./observe-error.js";
import { beginGrantStep } from "./observe-grant.js";

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
  const { grant, skip, skipAtOnce } = beginGrantStep(facts, options, "app token not requested");
  if (skipAtOnce) return skip(skipAtOnce);
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
