/**
 * `read` (`pulumi refresh`): observe the live facts - discovery endpoints, whether the grant still
 * refreshes, SMTP TLS and AUTH, the certificate, the identity service's live setting - with the same `observe` and `compare` as
 * `mailserver drift` (one implementation), and return them with the recorded `inputs`, so that the
 * refreshed state carries a `drift` list and the next diff is honest: `pulumi preview --refresh
 * --expect-no-changes` fails while drift remains.
 *
 * The engine also calls read in previews (`pulumi preview --refresh`, the preview that `pulumi
 * refresh` and `pulumi up --refresh` show first) and never saves what a preview's read returns.
 * So a refresh token that the issuer may rotate is only spent when the rotated one can be saved
 * somewhere a preview keeps: the grant's `file` reference (written first, then the state). The next
 * read or update takes the file's token when it is newer than the state's. A grant kept only in the
 * state is not refreshed by read at such an issuer (a note says so): spending it would lose it.
 */
import { resolve } from "node:path";
import type { MailServerDeclaration } from "../declaration/generated/declaration.js";
import {
  mayRotateRefreshTokens,
  type NormalizedCustomDeclaration,
  normalizeDeclaration,
} from "../declaration/normalize.js";
import { resolveSecret, secretFilePath, storeRotatedRefreshToken } from "../declaration/secrets.js";
import { compare, DEFAULT_CERT_WARN_DAYS, type Finding } from "../drift/compare.js";
import { observe } from "../drift/observe.js";
import { checkGrantWritable } from "../oauth/grant-file.js";
import { inputsWithLive } from "../services/live-declaration.js";
import { serviceMismatches } from "../services/mismatches.js";
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
  if (!declaration.service && (declaration.server === "builtin" || !declaration.auth))
    return { props: next, inputs };
  const normalized = normalizeDeclaration(declaration as MailServerDeclaration);
  const absoluteBase = resolve(options.cwd ?? process.cwd(), baseDir);

  const grant = normalized.server === "custom" ? await grantToCheck(normalized, state, absoluteBase) : {};
  const observed = await observe(normalized, {
    baseDir: absoluteBase,
    ...(grant.refreshToken !== undefined && { refreshToken: grant.refreshToken }),
    ...(grant.skip !== undefined && { grantCheck: "skip" as const, grantSkipReason: grant.skip }),
    ...(state.clientSecret !== undefined && { clientSecret: state.clientSecret }),
    ...(state.password !== undefined && { password: state.password }),
    // A service account key may be a { config } reference: its value came with the inputs.
    config: (key: string) => secretValues[key],
    ...(state.serviceClientSecret !== undefined && { serviceClientSecret: state.serviceClientSecret }),
    ...(options.now && { now: options.now }),
    persistRotated: async (refreshToken) => {
      // The file first: the engine does not save a preview's read, the file keeps the token.
      if (grant.file && (await storeRotatedRefreshToken(grant.file, refreshToken, absoluteBase))) {
        next.declaredGrantDigest = digestOf(refreshToken);
      }
      next.refreshToken = refreshToken;
      if (next.transport && typeof next.transport.auth === "object") {
        next.transport = { ...next.transport, auth: { ...(next.transport.auth as object), refreshToken } };
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
  // The service's live setting as inputs: an edit in its admin console shows in the next preview.
  const live = observed.service?.live;
  const liveInputs = live ? inputsWithLive(inputs, live, serviceMismatches(normalized, live)) : inputs;
  return { props: errors.length > 0 ? { ...next, drift: errors } : next, inputs: liveInputs };
}

/**
 * The refresh token read may check, and where a rotated one goes: the `file` reference's token
 * when it is newer than the state's (a preview's read rotated it there; or someone authorized
 * again), else the state's. Says why not when checking could lose the grant (see the file comment).
 */
async function grantToCheck(
  normalized: NormalizedCustomDeclaration,
  state: MailServerState,
  baseDir: string,
): Promise<{ refreshToken?: string; file?: { file: string }; skip?: string }> {
  const auth = normalized.auth;
  if (auth.method !== "oauth") return {};
  const stored = state.refreshToken;
  const declared = auth.refreshToken;
  const mayRotate = mayRotateRefreshTokens(normalized);
  if (!declared || !("file" in declared)) {
    if (stored === undefined || !mayRotate) return { ...(stored !== undefined && { refreshToken: stored }) };
    return {
      skip: "the issuer may rotate refresh tokens, and a grant kept only in Pulumi state cannot be refreshed safely here (a preview does not save the rotated token): declare auth.refreshToken: { file } (mailserver authorize FILE --out FILE.json) to have it checked",
    };
  }
  const path = secretFilePath(declared, baseDir);
  const writable = await checkGrantWritable(path).then(
    () => true,
    () => false,
  );
  if (mayRotate && !writable) {
    return {
      skip: `the issuer may rotate refresh tokens and file:${declared.file} cannot be rewritten, so a rotated one could not be kept`,
    };
  }
  const inFile = await resolveSecret(declared, { baseDir, field: "auth.refreshToken" }).catch(
    () => undefined,
  );
  const fileIsNewer =
    inFile !== undefined && inFile !== stored && digestOf(inFile) !== state.declaredGrantDigest;
  const refreshToken = fileIsNewer || stored === undefined ? inFile : stored;
  return { ...(refreshToken !== undefined && { refreshToken }), file: declared };
}
