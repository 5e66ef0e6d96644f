/** The time budget of one observation: how long each network step may take, and what a used-up budget records. */
import type { ObservedFacts } from "./facts.js";

/** The longest an HTTP step (discovery, refresh) may take, even with more of the budget left. */
export const HTTP_STEP_MS = 10_000;

/** Records that a step did not run because the declaration's time was used up. */
export function timedOut(
  facts: ObservedFacts,
  step: "discovery" | "grant" | "smtp",
  afterMs: number,
): ObservedFacts {
  facts.timedOut = { step, afterMs };
  facts.notes.push(`the ${step} check did not run: the declaration's ${afterMs / 1000} s were used up`);
  return facts;
}
