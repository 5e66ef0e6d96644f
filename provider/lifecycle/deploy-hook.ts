/**
 * The post-deploy hook: sends the test email after a create or update, in the program process,
 * with the new outputs. Pulumi only warns when an after-hook fails, which is the wanted behaviour
 * for `testEmail.onDeploy`; `testEmail.required` sends inside create/update instead (see apply.ts).
 * It uses the access token of the deploy (an output) and never the refresh token: spending a
 * rotating refresh token here would lose the newest one, which only the provider may save. The
 * app-only flows store no token: the hook fetches a new one.
 */
import { resolve } from "node:path";
import type { MailServerDeclaration } from "../declaration/generated/declaration.js";
import { isAppOnlyFlow, normalizeDeclaration } from "../declaration/normalize.js";
import { secretResolver } from "../declaration/secrets.js";
import { declarationOf, type MailServerState } from "./state.js";
import { defaultSteps, type LifecycleSteps, type TestEmailReport } from "./steps.js";
import { sendTestEmailOrThrow } from "./test-email.js";

export interface DeployHookOptions {
  resourceName?: string;
  steps?: LifecycleSteps;
  log?: (line: string) => void;
  cwd?: string;
}

/** Sends the test email for the outputs of a deploy; returns undefined when there is nothing to send. */
export async function sendDeployTestEmail(
  outputs: Record<string, unknown>,
  options: DeployHookOptions = {},
): Promise<TestEmailReport | undefined> {
  const log = options.log ?? ((line: string) => console.log(line));
  const state = (await plainValues(outputs)) as unknown as MailServerState;
  const testEmail = state.testEmail;
  if (!testEmail || testEmail.onDeploy === false || testEmail.required === true) return undefined;
  const declaration = declarationOf(state as unknown as Record<string, unknown>) as MailServerDeclaration;
  const name = declaration.name ?? options.resourceName ?? "mail server";
  const normalized = normalizeDeclaration(declaration);
  if (normalized.server !== "custom") {
    log(`${name}: built-in mail server: send the test email from the identity service's console`);
    return undefined;
  }
  const steps = options.steps ?? (await defaultSteps());
  const baseDir = resolve(
    options.cwd ?? process.cwd(),
    typeof state.baseDir === "string" ? state.baseDir : ".",
  );
  const auth = normalized.auth;
  const credentials =
    auth.method === "basic"
      ? {
          method: "basic" as const,
          username: state.username ?? auth.username,
          password: state.password ?? "",
        }
      : isAppOnlyFlow(auth.flow)
        ? // No app token is stored: fetch one, as the identity service would.
          {
            method: "oauth" as const,
            username: state.username ?? auth.username ?? "",
            accessToken: (
              await steps.obtainAppToken(auth, {
                baseDir,
                secret: secretResolver({ baseDir, config: (key) => state.secretValues?.[key] }),
                ...(state.clientSecret !== undefined && { clientSecret: state.clientSecret }),
              })
            ).accessToken,
          }
        : { method: "oauth" as const, username: state.username ?? "", accessToken: state.accessToken ?? "" };
  return sendTestEmailOrThrow(steps, normalized, credentials, baseDir, {
    ...(state.fromAddress !== undefined && { fromAddress: state.fromAddress }),
    which: "the post-deploy test email",
    log,
  });
}

/** Hook arguments carry secrets as Outputs: wait for their plain values (top level only, as the SDK wraps them). */
async function plainValues(outputs: Record<string, unknown>): Promise<Record<string, unknown>> {
  const entries = await Promise.all(
    Object.entries(outputs).map(async ([key, value]) => [key, await plainValue(value)] as const),
  );
  return Object.fromEntries(entries);
}

function plainValue(value: unknown): Promise<unknown> {
  const output = value as { apply?: (f: (v: unknown) => unknown) => unknown } | null;
  if (
    output &&
    typeof output === "object" &&
    typeof output.apply === "function" &&
    "__pulumiOutput" in output
  ) {
    return new Promise((done) => {
      output.apply?.((inner) => {
        done(inner);
        return inner;
      });
    });
  }
  return Promise.resolve(value);
}
