/**
 * `read` (`pulumi refresh`): observe the live facts - discovery endpoints, whether the grant still
 * refreshes, SMTP TLS and AUTH, the certificate - with the same `observe` and `compare` as
 * `mailserver drift` (one implementation), and return them with the recorded `inputs`, so that the
 * refreshed state carries a `drift` list and the next diff is honest: `pulumi preview --refresh
 * --expect-no-changes` fails while drift remains. A rotated refresh token is kept (never lose the
 * newest one): it goes into the state and back to its `file` reference.
 */
import { resolve } from "node:path";
import type { MailServerDeclaration } from "../declaration/generated/declaration.js";
import { normalizeDeclaration } from "../declaration/normalize.js";
import { storeRotatedRefreshToken } from "../declaration/secrets.js";
import { compare, DEFAULT_CERT_WARN_DAYS, type Finding } from "../drift/compare.js";
import { observe } from "../drift/observe.js";
import { digestOf } from "./grant.js";
import { inputsOf, type MailServerState, splitInputs } from "./state.js";

export interface ReadOptions {
  log?: (line: string) => void;
  now?: () => Date;
  cwd?: string;
  /** Days before the certificate's notAfter that count as expiring (default 21). */
  certWarnDays?: number;
}

export async function readMailServer(
  state: MailServerState,
  options: ReadOptions = {},
): Promise<{ props: MailServerState; inputs: Record<string, unknown> }> {
  const inputs = inputsOf(state as unknown as Record<string, unknown>) as Record<string, unknown>;
  const { declaration, baseDir, secretValues } = splitInputs(state as unknown as Record<string, unknown>);
  const { drift: _previousDrift, ...next } = state;
  if (declaration.server === "builtin" || !declaration.auth) return { props: next, inputs };
  const normalized = normalizeDeclaration(declaration as MailServerDeclaration);
  if (normalized.server !== "custom") return { props: next, inputs };
  const absoluteBase = resolve(options.cwd ?? process.cwd(), baseDir);

  const observed = await observe(normalized, {
    baseDir: absoluteBase,
    ...(state.refreshToken !== undefined && { refreshToken: state.refreshToken }),
    ...(state.clientSecret !== undefined && { clientSecret: state.clientSecret }),
    ...(state.password !== undefined && { password: state.password }),
    // A service account key may be a { config } reference: its value came with the inputs.
    config: (key: string) => secretValues[key],
    ...(options.now && { now: options.now }),
    persistRotated: async (refreshToken) => {
      next.refreshToken = refreshToken;
      if (next.transport && typeof next.transport.auth === "object") {
        next.transport = { ...next.transport, auth: { ...(next.transport.auth as object), refreshToken } };
      }
      const declared = normalized.auth.method === "oauth" ? normalized.auth.refreshToken : undefined;
      if (declared && (await storeRotatedRefreshToken(declared, refreshToken, absoluteBase))) {
        next.declaredGrantDigest = digestOf(refreshToken);
      }
    },
  });
  const findings = compare({
    declared: normalized,
    recorded: state,
    observed,
    certWarnDays: options.certWarnDays ?? DEFAULT_CERT_WARN_DAYS,
  });

  if (observed.endpoints) next.endpoints = { ...observed.endpoints };
  const smtp = observed.smtp;
  if (smtp?.reached) {
    next.lastVerifiedAt = observed.observedAt;
    next.verification = {
      ok: smtp.error === undefined,
      at: observed.observedAt,
      ...(smtp.authenticatedAs && { authenticatedAs: smtp.authenticatedAs }),
      authMechanisms: smtp.authMechanisms,
      ...(smtp.tls?.version && { tlsVersion: smtp.tls.version }),
      durationMs: Math.round(smtp.durationMs),
      error: smtp.error
        ? { code: smtp.error.code, message: smtp.error.message, smtpCode: smtp.error.smtpCode ?? null }
        : null,
    };
  }
  if (smtp?.tls?.fingerprint256) {
    next.certificate = {
      fingerprint256: smtp.tls.fingerprint256,
      ...(smtp.tls.validTo && { notAfter: smtp.tls.validTo }),
      ...(smtp.tls.subject && { subject: smtp.tls.subject }),
      ...(smtp.tls.issuer && { issuer: smtp.tls.issuer }),
    };
  }
  const log = options.log ?? console.log;
  for (const finding of findings)
    log(`${normalized.name}: ${finding.severity} ${finding.code}: ${finding.message}`);
  for (const note of observed.notes) log(`${normalized.name}: note: ${note}`);
  const errors: Finding[] = findings.filter((finding) => finding.severity === "error");
  return { props: errors.length > 0 ? { ...next, drift: errors } : next, inputs };
}
