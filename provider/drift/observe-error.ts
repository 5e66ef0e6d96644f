/** How observe records an operational failure: as a fact with a stable code and the declaration field it concerns. */
import { isMailServerError } from "../errors.js";
import type { ObservedError, ObservedFacts } from "./facts.js";

/** A secret that could not be resolved: a `config` reference is a note (the CLI has no Pulumi), anything else a configuration error. */
export function unresolved<T>(facts: ObservedFacts, error: unknown, skip: (reason: string) => T): T {
  if (!isMailServerError(error)) throw error;
  if (error.code === "secret-needs-pulumi")
    return skip(`${error.message} (run \`pulumi preview --refresh\` instead)`);
  facts.configErrors.push(observedError(error, error.field ?? "auth"));
  return skip(error.message);
}

export function observedError(error: unknown, field: string): ObservedError {
  if (error instanceof TypeError) throw error;
  if (isMailServerError(error)) {
    const smtpCode = error.details.smtpCode;
    return {
      code: error.code,
      message: error.message,
      field: error.field ?? field,
      ...(typeof smtpCode === "number" && { smtpCode }),
    };
  }
  return { code: "internal", message: (error as Error)?.message ?? String(error), field };
}
