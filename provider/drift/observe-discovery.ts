/** The discovery step of observe: the endpoints the issuer publishes, and the ones the declaration uses. */
import type { NormalizedOAuthAuth } from "../declaration/normalize.js";
import type { ObservedEndpoints, ObservedFacts } from "./facts.js";
import type { ObserveOptions, ObserveSteps } from "./observe.js";
import { HTTP_STEP_MS } from "./observe-deadline.js";
import { observedError } from "./observe-error.js";

/** Fetches the issuer's discovery document; a failure becomes `facts.discovery.error`. */
export async function observeDiscovery(
  facts: ObservedFacts,
  auth: NormalizedOAuthAuth & { issuer: string },
  steps: ObserveSteps,
  options: ObserveOptions,
  remainingMs: number,
): Promise<void> {
  try {
    const metadata = await steps.discoverIssuer(auth.issuer, {
      timeoutMs: Math.min(HTTP_STEP_MS, remainingMs),
      ...(options.fetch && { fetch: options.fetch }),
    });
    const published = compact({
      authorization: metadata.authorizationEndpoint ?? undefined,
      token: metadata.tokenEndpoint ?? undefined,
      deviceAuthorization: metadata.deviceAuthorizationEndpoint ?? undefined,
      revocation: metadata.revocationEndpoint ?? undefined,
    });
    facts.discovery = {
      issuer: auth.issuer,
      ok: true,
      ...(metadata.issuer && { publishedIssuer: metadata.issuer }),
      published,
    };
    facts.endpoints = declaredEndpoints(auth, published);
  } catch (error) {
    facts.discovery = { issuer: auth.issuer, ok: false, error: observedError(error, "auth.issuer") };
  }
}

/** The endpoints the declaration uses: those it declares, else those the issuer publishes. */
export function declaredEndpoints(
  auth: NormalizedOAuthAuth,
  published: ObservedEndpoints,
): ObservedEndpoints {
  return compact({
    authorization: auth.authorizationEndpoint ?? published.authorization,
    token: auth.tokenEndpoint ?? published.token,
    deviceAuthorization: auth.deviceAuthorizationEndpoint ?? published.deviceAuthorization,
    revocation: auth.revocationEndpoint ?? published.revocation,
  });
}

function compact<T extends Record<string, string | undefined>>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as T;
}
