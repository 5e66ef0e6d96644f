/**
 * `delete`: the identity service goes back to its built-in mail server. With a `service`, its
 * email settings are cleared first; when that fails the delete fails (the service would otherwise
 * go on sending with a setting nobody manages), and nothing else is done. The refresh token is
 * revoked where the issuer has a revocation endpoint (RFC 7009); a failed revocation warns, it
 * never blocks the delete (the grant would otherwise outlive a setting nobody can delete).
 * @see https://www.rfc-editor.org/rfc/rfc7009
 */
import { resolve } from "node:path";
import type { MailServerDeclaration } from "../declaration/generated/declaration.js";
import { isAppOnlyFlow, normalizeDeclaration } from "../declaration/normalize.js";
import { secretResolver } from "../declaration/secrets.js";
import { isMailServerError } from "../errors.js";
import { saveIntoService } from "./service.js";
import type { MailServerState } from "./state.js";
import { splitInputs } from "./state.js";
import type { LifecycleSteps } from "./steps.js";

export interface DeleteOptions {
  steps: LifecycleSteps;
  env?: Record<string, string | undefined>;
  /** The project directory that baseDir is relative to (default process.cwd()). */
  cwd?: string;
  log?: (line: string) => void;
  warn?: (line: string) => void;
}

export interface DeleteReport {
  revoked: boolean;
  reason?: string;
}

export async function deleteMailServer(
  state: MailServerState,
  options: DeleteOptions,
): Promise<DeleteReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const warn = options.warn ?? ((line: string) => console.warn(line));
  const { declaration, baseDir, secretValues } = splitInputs(state as unknown as Record<string, unknown>);
  const name = String(declaration.name ?? "mail server");
  let report: DeleteReport = { revoked: false, reason: "no grant" };
  const normalized =
    declaration.service || (declaration.server !== "builtin" && declaration.auth)
      ? normalizeDeclaration(declaration as MailServerDeclaration)
      : undefined;
  if (normalized?.service) {
    const fromEnvOrFile = secretResolver({
      baseDir: resolve(options.cwd ?? process.cwd(), baseDir),
      env: options.env,
      config: (key: string) => secretValues[key],
    });
    const stored = state.serviceClientSecret;
    try {
      await saveIntoService({ ...normalized, service: normalized.service }, undefined, {
        steps: options.steps,
        secret: (ref, field) => (stored !== undefined ? Promise.resolve(stored) : fromEnvOrFile(ref, field)),
        log,
      });
    } catch (error) {
      // A realm that is gone has no settings left to clear.
      if (!isMailServerError(error) || error.code !== "service-realm-not-found") throw error;
      warn(`${name}: ${error.message}: nothing to clear`);
    }
  }
  if (
    normalized?.server === "custom" &&
    normalized.auth.method === "oauth" &&
    isAppOnlyFlow(normalized.auth.flow)
  ) {
    // Client credentials and service accounts leave no grant behind: each token expired on its own.
    report = { revoked: false, reason: `flow ${normalized.auth.flow} keeps no grant: nothing to revoke` };
  } else if (normalized?.server === "custom" && normalized.auth.method === "oauth" && state.refreshToken) {
    try {
      const revocation = await options.steps.revokeGrant(normalized.auth, {
        refreshToken: state.refreshToken,
        ...(state.clientSecret !== undefined && { clientSecret: state.clientSecret }),
      });
      report = {
        revoked: revocation.revoked,
        ...(revocation.reason !== undefined && { reason: revocation.reason }),
      };
      if (!revocation.revoked)
        warn(
          `${name}: the grant was not revoked (${revocation.reason ?? "no reason given"}): revoke it in the provider's account settings`,
        );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      report = { revoked: false, reason: message };
      warn(
        `${name}: revoking the grant failed (${message}); the setting is deleted anyway: revoke the grant in the provider's account settings`,
      );
    }
  }
  log(
    `${name}: deleted; the identity service goes back to its built-in mail server${report.revoked ? " (grant revoked)" : ""}`,
  );
  return report;
}
