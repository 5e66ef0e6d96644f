/**
 * `read` (`pulumi refresh`): observe the live facts - discovery endpoints, whether the grant still
 * refreshes, SMTP AUTH, the certificate - and return them with the recorded `inputs`, so that the
 * refreshed state carries a `drift` list and the next diff is honest: `pulumi preview --refresh
 * --expect-no-changes` fails while drift remains. A rotated refresh token is kept (never lose the
 * newest one): it goes into the state and back to its `file` reference.
 *
 * The drift module (observe/compare) is not part of this yet; these checks use the same steps as
 * create (resolveEndpoints, refreshGrant, verifySmtp) directly.
 */
import { resolve } from "node:path";
import type { MailServerDeclaration } from "../declaration/generated/declaration.js";
import { normalizeDeclaration } from "../declaration/normalize.js";
import { storeRotatedRefreshToken } from "../declaration/secrets.js";
import { isMailServerError } from "../errors.js";
import { digestOf } from "./grant.js";
import { inputsOf, type MailServerState, splitInputs } from "./state.js";
import type { LifecycleSteps } from "./steps.js";

export interface DriftFinding {
  code: string;
  severity: "error" | "warning";
  message: string;
  field?: string;
}

export interface ReadOptions {
  steps: LifecycleSteps;
  log?: (line: string) => void;
  now?: () => Date;
  cwd?: string;
  /** Days before the certificate's notAfter that count as expiring (default 21). */
  certWarnDays?: number;
}

export async function readMailServer(
  state: MailServerState,
  options: ReadOptions,
): Promise<{ props: MailServerState; inputs: Record<string, unknown> }> {
  const now = options.now ?? (() => new Date());
  const inputs = inputsOf(state as unknown as Record<string, unknown>) as Record<string, unknown>;
  const { declaration, baseDir } = splitInputs(state as unknown as Record<string, unknown>);
  if (declaration.server === "builtin" || !declaration.auth) {
    const { drift: _, ...rest } = state as MailServerState & { drift?: unknown };
    return { props: rest, inputs };
  }
  const normalized = normalizeDeclaration(declaration as MailServerDeclaration);
  if (normalized.server !== "custom") return { props: state, inputs };
  const absoluteBase = resolve(options.cwd ?? process.cwd(), baseDir);
  const findings: DriftFinding[] = [];
  const next: MailServerState = { ...state };
  let accessToken: string | undefined;

  if (normalized.auth.method === "oauth") {
    const auth = normalized.auth;
    try {
      const endpoints = await options.steps.resolveEndpoints(auth);
      const observed = {
        authorization: endpoints.authorizationEndpoint,
        token: endpoints.tokenEndpoint,
        deviceAuthorization: endpoints.deviceAuthorizationEndpoint,
        revocation: endpoints.revocationEndpoint,
      };
      for (const key of Object.keys(observed) as (keyof typeof observed)[]) {
        if (state.endpoints && observed[key] !== state.endpoints[key]) {
          findings.push({
            code: "endpoint-changed",
            severity: "error",
            field: `endpoints.${key}`,
            message: `the ${key} endpoint is now ${observed[key] ?? "absent"} (recorded: ${state.endpoints[key] ?? "absent"})`,
          });
        }
      }
      next.endpoints = JSON.parse(JSON.stringify(observed));
    } catch (error) {
      findings.push({
        code: "issuer-unreachable",
        severity: "error",
        field: "auth.issuer",
        message: messageOf(error),
      });
    }
    if (state.refreshToken) {
      try {
        const refreshed = await options.steps.refreshGrant(auth, {
          refreshToken: state.refreshToken,
          ...(state.clientSecret !== undefined && { clientSecret: state.clientSecret }),
        });
        accessToken = refreshed.accessToken;
        if (refreshed.rotated && refreshed.refreshToken !== state.refreshToken) {
          next.refreshToken = refreshed.refreshToken;
          if (
            auth.refreshToken &&
            (await storeRotatedRefreshToken(auth.refreshToken, refreshed.refreshToken, absoluteBase))
          ) {
            next.declaredGrantDigest = digestOf(refreshed.refreshToken);
          }
          if (next.transport && typeof next.transport.auth === "object") {
            next.transport = {
              ...next.transport,
              auth: { ...(next.transport.auth as object), refreshToken: refreshed.refreshToken },
            };
          }
        }
      } catch (error) {
        const revoked =
          isMailServerError(error) && ["grant-invalid", "token-refresh-failed"].includes(error.code);
        findings.push({
          code: revoked ? "grant-revoked" : "issuer-unreachable",
          severity: "error",
          field: "auth.refreshToken",
          message: revoked
            ? "the stored grant no longer refreshes (invalid_grant): authorize again"
            : messageOf(error),
        });
      }
    }
  }

  const credentials =
    normalized.auth.method === "basic"
      ? state.password === undefined
        ? undefined
        : { method: "basic" as const, username: normalized.auth.username, password: state.password }
      : accessToken === undefined
        ? undefined
        : { method: "oauth" as const, username: state.username ?? "", accessToken };
  if (credentials) {
    const report = await options.steps.verifySmtp(normalized, credentials, absoluteBase);
    const at = now().toISOString();
    next.lastVerifiedAt = at;
    next.verification = {
      ok: report.ok,
      at,
      ...(report.authenticatedAs && { authenticatedAs: report.authenticatedAs }),
      authMechanisms: report.authMechanisms,
      ...(report.tls?.version && { tlsVersion: report.tls.version }),
      durationMs: Math.round(report.durationMs),
      error: report.error,
    };
    if (!report.ok) {
      const code = report.error?.code;
      findings.push({
        code:
          code === "starttls-unavailable"
            ? "starttls-missing"
            : code === "auth-rejected"
              ? "auth-rejected"
              : "smtp-unreachable",
        severity: "error",
        message: report.error?.message ?? "SMTP verification failed",
      });
    }
    const fingerprint = report.tls?.fingerprint256 ?? undefined;
    if (
      fingerprint &&
      state.certificate?.fingerprint256 &&
      fingerprint !== state.certificate.fingerprint256
    ) {
      findings.push({
        code: "cert-changed",
        severity: "warning",
        message: "the SMTP server presents another certificate",
      });
    }
    if (report.tls?.fingerprint256) {
      next.certificate = {
        fingerprint256: report.tls.fingerprint256,
        ...(report.tls.validTo && { notAfter: report.tls.validTo }),
        ...(report.tls.subject && { subject: report.tls.subject }),
        ...(report.tls.issuer && { issuer: report.tls.issuer }),
      };
    }
    const daysLeft = report.tls?.daysLeft;
    if (typeof daysLeft === "number" && daysLeft < (options.certWarnDays ?? 21)) {
      findings.push({
        code: "cert-expiring",
        severity: "warning",
        message: `the certificate expires in ${daysLeft} days`,
      });
    }
  }
  const errors = findings.filter((finding) => finding.severity === "error");
  for (const finding of findings) {
    (options.log ?? console.log)(
      `${normalized.name}: ${finding.severity} ${finding.code}: ${finding.message}`,
    );
  }
  const props = { ...next, drift: errors } as MailServerState & { drift: DriftFinding[] };
  if (errors.length === 0) delete (props as { drift?: unknown }).drift;
  return { props, inputs };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
