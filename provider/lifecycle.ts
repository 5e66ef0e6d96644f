/**
 * The dynamic provider's implementation: check, diff, create, read, update, delete. Orchestration
 * only; the one place that knows Pulumi's result shapes, and (with cli/main.ts) the only place
 * that catches: a failure reaches the engine as one message with its remedy, never a stack trace
 * and never a secret.
 *
 * The serialized shim (./shim.ts) stored in every resource's state calls these six functions with
 * these arguments: keep them, and keep reading every older `stateVersion`.
 * @see https://www.pulumi.com/docs/iac/concepts/resources/dynamic-providers/
 */
import type { dynamic } from "@pulumi/pulumi";
import { isMailServerError } from "./errors.js";
import { ApplyFailure, applyMailServer } from "./lifecycle/apply.js";
import { checkInputs } from "./lifecycle/check.js";
import { deleteMailServer } from "./lifecycle/delete.js";
import { describeDiff, diffMailServer } from "./lifecycle/diff.js";
import { readMailServer } from "./lifecycle/read.js";
import { type MailServerState, splitInputs, upgradeState } from "./lifecycle/state.js";
import { defaultSteps, type LifecycleSteps } from "./lifecycle/steps.js";

export { STATE_VERSION } from "./lifecycle/state.js";

let stepsOverride: LifecycleSteps | undefined;

/** Replaces the OAuth/SMTP steps (tests, benches). Pass undefined to restore the real ones. */
export function useSteps(steps: LifecycleSteps | undefined): void {
  stepsOverride = steps;
}

async function steps(): Promise<LifecycleSteps> {
  return stepsOverride ?? defaultSteps();
}

export async function check(
  _olds: Record<string, unknown>,
  news: Record<string, unknown>,
): Promise<dynamic.CheckResult> {
  return guard("check", news, async () => {
    const report = checkInputs(news);
    const name = String(news.name ?? "mail server");
    for (const warning of report.warnings) console.log(`${name}: warning: ${warning}`);
    return { inputs: report.inputs, failures: report.failures };
  });
}

export async function diff(
  _id: string,
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): Promise<dynamic.DiffResult> {
  return guard("diff", news, async () => {
    const result = diffMailServer(olds, news);
    const line = describeDiff(String(news.name ?? olds.name ?? "mail server"), result);
    if (line) console.log(line);
    return {
      changes: result.changes,
      ...(result.replaces.length > 0 && { replaces: result.replaces }),
    };
  });
}

export async function create(inputs: Record<string, unknown>): Promise<dynamic.CreateResult> {
  return guard("create", inputs, async () => {
    const state = await apply(inputs, undefined);
    return { id: String(state.name), outs: state };
  });
}

export async function read(id: string, props: Record<string, unknown>): Promise<dynamic.ReadResult> {
  return guard("read", props, async () => {
    const state = upgradeState(props);
    const { props: observed, inputs } = await readMailServer(state);
    return { id, props: observed, inputs };
  });
}

export async function update(
  id: string,
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): Promise<dynamic.UpdateResult> {
  return guard("update", news, async () => {
    const previous = upgradeState(olds);
    const renewal = diffMailServer(olds, news).grantRenewal;
    try {
      const state = await apply(news, renewal.length === 0 ? previous : undefined);
      return { outs: state };
    } catch (error) {
      // The attempt spent the stored refresh token (rotation): keep the previous state with the
      // newest token, so the working grant is not lost, and report the failure.
      if (error instanceof ApplyFailure && error.rotatedRefreshToken) {
        throw new PartialFailure(describe(error.failure), id, {
          ...olds,
          refreshToken: error.rotatedRefreshToken,
        });
      }
      throw error;
    }
  });
}

async function deleteResource(_id: string, props: Record<string, unknown>): Promise<void> {
  return guard("delete", props, async () => {
    await deleteMailServer(upgradeState(props), { steps: await steps() });
  });
}

export { deleteResource as delete };

async function apply(
  inputs: Record<string, unknown>,
  previous: MailServerState | undefined,
): Promise<MailServerState> {
  return applyMailServer(inputs, previous, { steps: await steps() });
}

/**
 * The failure the engine sees. The 3.248 host prints `${error}: ${error.stack}` for some methods:
 * the stack is emptied so people read the message and its remedy only.
 */
export class ProviderFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "mailserver";
    this.stack = "";
  }
}

/** A failed update whose state must still be saved (ErrorResourceInitFailed: id + properties). */
class PartialFailure extends ProviderFailure {
  constructor(
    message: string,
    readonly id: string,
    readonly properties: Record<string, unknown>,
  ) {
    super(message);
  }
  readonly reasons = [this.message];
}

async function guard<T>(step: string, props: Record<string, unknown>, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ProviderFailure) throw error;
    const failure = error instanceof ApplyFailure ? error.failure : error;
    const name = String(splitInputs(props).declaration.name ?? "mail server");
    const message = describe(failure);
    throw new ProviderFailure(
      message.startsWith(`${name}:`) ? message : `${name}: ${step} failed: ${message}`,
    );
  }
}

function describe(error: unknown): string {
  if (isMailServerError(error)) return error.describe();
  if (error instanceof TypeError || error instanceof RangeError)
    return `${error.message} (internal: a bug in pulumi-mailserver)`;
  return error instanceof Error ? error.message : String(error);
}
