/**
 * The service step of observe: log in to the identity service that stores the setting, read its
 * live email setting and, when asked (`serviceTest`: it sends a message), have it send its own
 * test email with what it stores - the one way to learn that a stored secret no longer works,
 * since the service masks it.
 */
import type { NormalizedDeclaration } from "../declaration/normalize.js";
import { secretResolver } from "../declaration/secrets.js";
import type { ObservedFacts } from "./facts.js";
import type { ObserveOptions, ObserveSteps } from "./observe.js";
import { observedError, unresolved } from "./observe-error.js";

export async function observeService(
  facts: ObservedFacts,
  decl: NormalizedDeclaration,
  steps: Pick<ObserveSteps, "connectService">,
  options: ObserveOptions,
  timeoutMs: number,
): Promise<void> {
  const service = decl.service;
  if (!service) return;
  let secret = options.serviceClientSecret;
  if (secret === undefined) {
    try {
      secret = await secretResolver(options)(service.clientSecret, "service.clientSecret");
    } catch (error) {
      unresolved(facts, error, (reason) =>
        facts.notes.push(`the identity service was not checked: ${reason}`),
      );
      return;
    }
  }
  try {
    const connection = await steps.connectService(service, secret, { timeoutMs });
    facts.service = { label: connection.label, live: await connection.read() };
    if (options.serviceTest) {
      try {
        const report = await connection.test();
        facts.service.test = { ok: true, ...report };
      } catch (error) {
        facts.service.test = { ok: false, error: observedError(error, "service") };
      }
    }
  } catch (error) {
    facts.service = { error: observedError(error, "service") };
  }
}
