/**
 * `observe`: the live facts of one declaration - the issuer's published endpoints, whether the
 * grant still refreshes, the SMTP server's TLS, STARTTLS, certificate and AUTH, and the email in a
 * fresh ID token. Shared by `mailserver drift` and the provider's `read` (one implementation).
 *
 * Two promises it keeps: it never consumes a rotating refresh token without saving the rotated
 * one (it writes it back to its own `file` reference, atomically, or hands it to the caller's
 * `persistRotated`, or it skips the grant check and says so), and it writes nothing else.
 */
import { access, constants, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { performance } from "node:perf_hooks";
import type {
  NormalizedCustomDeclaration,
  NormalizedDeclaration,
  NormalizedOAuthAuth,
  SecretReference,
} from "../declaration/normalize.js";
import {
  describeSecretReference,
  resolveSecret,
  secretFilePath,
  storeRotatedRefreshToken,
} from "../declaration/secrets.js";
import { isMailServerError, MailServerError } from "../errors.js";
import { discoverIssuer, type IssuerMetadata } from "../oauth/discover.js";
import { emailFromClaims } from "../oauth/id-token.js";
import { type RefreshedGrant, type RefreshGrantOptions, refreshGrant } from "../oauth/tokens.js";
import type { SmtpCredentials } from "../smtp/session.js";
import {
  type CredentialsSource,
  type VerifyReport,
  type VerifySmtpOptions,
  verifySmtp,
} from "../smtp/verify.js";
import type {
  ObservedEndpoints,
  ObservedError,
  ObservedFacts,
  ObservedGrant,
  ObservedSmtp,
} from "./facts.js";

export type * from "./facts.js";

/** The network steps observe runs; injectable so the provider can pass its own. */
export interface ObserveSteps {
  discoverIssuer(
    issuer: string,
    options: { timeoutMs: number; fetch?: typeof fetch },
  ): Promise<IssuerMetadata>;
  refreshGrant(auth: NormalizedOAuthAuth, options: RefreshGrantOptions): Promise<RefreshedGrant>;
  verifySmtp(
    decl: NormalizedCustomDeclaration,
    credentials: CredentialsSource,
    options: VerifySmtpOptions,
  ): Promise<VerifyReport>;
}

export interface ObserveOptions {
  /** Folder of the declaration: `file` references and smtp.tls.ca are relative to it. */
  baseDir: string;
  /** Environment for `env` references (default: process.env). */
  env?: Record<string, string | undefined>;
  /** Resolves `config` references (only the Pulumi program has them; without it they are skipped with a note). */
  config?: (key: string) => string | undefined;
  /** The refresh token to check instead of auth.refreshToken's (the provider: the one in state). */
  refreshToken?: string;
  /** The client secret instead of auth.clientSecret's. */
  clientSecret?: string;
  /** The SMTP password instead of auth.password's. */
  password?: string;
  /** Time for the whole declaration (default 20 s); each step gets at most what is left. */
  timeoutMs?: number;
  /** "skip": do not use the grant at all (then no XOAUTH2 login either). Default "refresh". */
  grantCheck?: "refresh" | "skip";
  /**
   * Saves a rotated refresh token (the provider: into state and its file). When given, it replaces
   * the default write-back to auth.refreshToken's `file`; a rejected promise is reported as a
   * grant that could not be kept.
   */
  persistRotated?: (refreshToken: string) => Promise<void>;
  /**
   * Runs the grant step (read the token, refresh, write the rotated one back) under the caller's
   * lock: declarations that share a grant file must take turns, or the second would use a token
   * the first just rotated away. `mailserver drift` locks per grant file.
   */
  grantLock?: <T>(step: () => Promise<T>) => Promise<T>;
  fetch?: typeof fetch;
  now?: () => Date;
  steps?: Partial<ObserveSteps>;
}

/** Per-declaration time allowed by default: every step's own timeout fits in it. */
export const DEFAULT_OBSERVE_TIMEOUT_MS = 20_000;
const HTTP_STEP_MS = 10_000;
/** Time granted past the deadline before an SMTP step that ignores its timeouts is abandoned. */
const SMTP_GRACE_MS = 2_000;

/** The grant error of a rotated refresh token that could not be saved (the stored one is likely dead). */
export const ROTATED_NOT_SAVED = "rotated-token-not-saved";

const DEFAULT_STEPS: ObserveSteps = {
  discoverIssuer: (issuer, options) => discoverIssuer(issuer, options),
  refreshGrant,
  verifySmtp,
};

/**
 * Observes one declaration. Never throws for operational failures (unreachable issuer, revoked
 * grant, dead SMTP server, unset secret): they become facts, and `compare` turns facts into
 * findings. The discovery document is fetched once per issuer per process.
 *
 * @example
 * const facts = await observe(normalizeDeclaration(declaration), { baseDir: dirname(file) });
 * const findings = compare({ declared, observed: facts, certWarnDays: 21 });
 * @see RFC 8414 section 3 (discovery), RFC 6749 section 6 (refresh), RFC 3207 (STARTTLS), RFC 8314 (implicit TLS)
 */
export async function observe(decl: NormalizedDeclaration, options: ObserveOptions): Promise<ObservedFacts> {
  const started = performance.now();
  const now = options.now ?? (() => new Date());
  const facts: ObservedFacts = {
    name: decl.name,
    server: decl.server,
    observedAt: now().toISOString(),
    durationMs: 0,
    configErrors: [],
    notes: [],
  };
  if (decl.server === "builtin") return facts;
  const steps = { ...DEFAULT_STEPS, ...options.steps };
  const deadline = started + (options.timeoutMs ?? DEFAULT_OBSERVE_TIMEOUT_MS);
  const remaining = () => Math.floor(deadline - performance.now());
  const budget = options.timeoutMs ?? DEFAULT_OBSERVE_TIMEOUT_MS;
  const auth = decl.auth;

  try {
    if (auth.method === "oauth") {
      if (auth.issuer !== undefined) {
        if (remaining() <= 0) return timedOut(facts, "discovery", budget);
        await observeDiscovery(facts, { ...auth, issuer: auth.issuer }, steps, options, remaining());
        if (facts.discovery?.error?.code === "issuer-timeout" && remaining() <= 0)
          facts.timedOut = { step: "discovery", afterMs: budget };
      } else {
        facts.endpoints = declaredEndpoints(auth, {});
      }
    }
    let accessToken: string | undefined;
    if (auth.method === "oauth") {
      if (remaining() <= 0) return timedOut(facts, "grant", budget);
      const grantStep = () => observeGrant(facts, decl, auth, steps, options, remaining());
      accessToken = await (options.grantLock ? options.grantLock(grantStep) : grantStep());
    }
    if (remaining() <= 0) return timedOut(facts, "smtp", budget);
    const credentials = await smtpCredentials(facts, decl, options, accessToken);
    await observeSmtp(facts, decl, credentials, steps, options, remaining(), budget);
    return facts;
  } finally {
    facts.durationMs = Math.round(performance.now() - started);
  }
}

function timedOut(
  facts: ObservedFacts,
  step: "discovery" | "grant" | "smtp",
  afterMs: number,
): ObservedFacts {
  facts.timedOut = { step, afterMs };
  facts.notes.push(`the ${step} check did not run: the declaration's ${afterMs / 1000} s were used up`);
  return facts;
}

async function observeDiscovery(
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

/** Refreshes the grant when that is safe; returns the access token for the SMTP login. */
async function observeGrant(
  facts: ObservedFacts,
  decl: NormalizedCustomDeclaration,
  auth: NormalizedOAuthAuth,
  steps: ObserveSteps,
  options: ObserveOptions,
  remainingMs: number,
): Promise<string | undefined> {
  const grant: ObservedGrant = { checked: false, ok: false };
  facts.grant = grant;
  const skip = (reason: string) => {
    grant.skipped = reason;
    facts.notes.push(`grant not checked: ${reason}`);
    return undefined;
  };
  if (options.grantCheck === "skip") return skip('grantCheck is "skip"');
  if (facts.discovery && !facts.discovery.ok) return skip("the issuer's configuration could not be fetched");
  const ref = auth.refreshToken;
  if (options.refreshToken === undefined && !ref) {
    return skip(
      "auth.refreshToken is not declared (a grant kept only in Pulumi state is checked by `pulumi preview --refresh`)",
    );
  }

  const where =
    options.refreshToken !== undefined || !ref
      ? "the refresh token given by the caller"
      : describeSecretReference(ref);
  const secretOptions = {
    baseDir: options.baseDir,
    ...(options.env && { env: options.env }),
    ...(options.config && { config: options.config }),
  };
  let refreshToken: string;
  let clientSecret = options.clientSecret;
  try {
    refreshToken =
      options.refreshToken ??
      (await resolveSecret(ref as SecretReference, { ...secretOptions, field: "auth.refreshToken" }));
    if (clientSecret === undefined && auth.clientSecret) {
      clientSecret = await resolveSecret(auth.clientSecret, { ...secretOptions, field: "auth.clientSecret" });
    }
  } catch (error) {
    return unresolved(facts, error, skip);
  }

  // Rotation: the old token dies when it is used, so a refresh is only safe if the new one can be kept.
  const knownNotRotating = decl.vendor !== undefined && !auth.rotatesRefreshTokens;
  let writeBack: SecretReference | undefined;
  if (!options.persistRotated && !knownNotRotating) {
    if (options.refreshToken === undefined && ref && "file" in ref) {
      const writable = await canRewrite(secretFilePath(ref, options.baseDir));
      if (writable !== true) {
        return skip(
          `${where} cannot be rewritten (${writable}), so a rotated refresh token could not be saved`,
        );
      }
      writeBack = ref;
    } else {
      return skip(
        `the issuer may rotate refresh tokens and ${where} cannot be written back: keep the grant in a file (mailserver authorize FILE --out FILE.json) to check it`,
      );
    }
  }
  if (ref && "file" in ref && options.refreshToken === undefined) {
    const authorizedAs = await authorizeFileIdentity(secretFilePath(ref, options.baseDir));
    if (authorizedAs) grant.authorizedAs = authorizedAs;
  }

  grant.checked = true;
  let refreshed: RefreshedGrant;
  try {
    refreshed = await steps.refreshGrant(auth, {
      refreshToken,
      ...(clientSecret !== undefined && { clientSecret }),
      ...(options.fetch && { fetch: options.fetch }),
      timeoutMs: Math.min(HTTP_STEP_MS, Math.max(1, remainingMs)),
    });
  } catch (error) {
    grant.error = observedError(error, "auth.refreshToken");
    return undefined;
  }
  grant.ok = true;
  grant.scope = [...refreshed.scope];
  grant.email = refreshed.idTokenClaims
    ? emailFromClaims(refreshed.idTokenClaims, auth.usernameClaims)
    : null;
  grant.rotated = refreshed.rotated;
  if (refreshed.rotated) {
    try {
      if (options.persistRotated) await options.persistRotated(refreshed.refreshToken);
      else if (writeBack) await storeRotatedRefreshToken(writeBack, refreshed.refreshToken, options.baseDir);
      else throw new Error("nowhere to save it");
      grant.persisted = true;
    } catch (error) {
      grant.persisted = false;
      grant.ok = false;
      grant.error = {
        code: ROTATED_NOT_SAVED,
        field: "auth.refreshToken",
        message: `the issuer rotated the refresh token, but the new one could not be saved to ${where} (${
          (error as NodeJS.ErrnoException).code ?? (error as Error).message
        }): the stored one may no longer work`,
      };
    }
  }
  return refreshed.accessToken;
}

async function smtpCredentials(
  facts: ObservedFacts,
  decl: NormalizedCustomDeclaration,
  options: ObserveOptions,
  accessToken: string | undefined,
): Promise<SmtpCredentials | string> {
  const auth = decl.auth;
  if (auth.method === "basic") {
    if (options.password !== undefined)
      return { method: "basic", username: auth.username, password: options.password };
    try {
      const password = await resolveSecret(auth.password, {
        baseDir: options.baseDir,
        ...(options.env && { env: options.env }),
        ...(options.config && { config: options.config }),
        field: "auth.password",
      });
      return { method: "basic", username: auth.username, password };
    } catch (error) {
      return unresolved(facts, error, (reason) => reason) ?? "auth.password could not be resolved";
    }
  }
  if (accessToken === undefined) return "no access token (the grant was not refreshed)";
  const grant = facts.grant;
  const username =
    auth.username ?? grant?.email ?? grant?.authorizedAs?.username ?? grant?.authorizedAs?.email ?? undefined;
  if (!username) return "no SMTP username: auth.username is not declared and the ID token carries no email";
  return { method: "oauth", username, accessToken };
}

async function observeSmtp(
  facts: ObservedFacts,
  decl: NormalizedCustomDeclaration,
  credentials: SmtpCredentials | string,
  steps: ObserveSteps,
  options: ObserveOptions,
  remainingMs: number,
  budget: number,
): Promise<void> {
  // Every SMTP timeout is cut to what is left, so a server that never answers ends on time.
  const t = decl.smtp.timeouts;
  const bounded: NormalizedCustomDeclaration = {
    ...decl,
    smtp: {
      ...decl.smtp,
      timeouts: {
        connectionMs: Math.min(t.connectionMs, remainingMs),
        greetingMs: Math.min(t.greetingMs, remainingMs),
        socketMs: Math.min(t.socketMs, remainingMs),
      },
    },
  };
  const skipReason = typeof credentials === "string" ? credentials : undefined;
  // Without credentials the session still runs up to AUTH: TLS, STARTTLS and the certificate are checked.
  const source: CredentialsSource =
    typeof credentials === "string"
      ? () =>
          Promise.reject(new MailServerError("authorization-required", `AUTH not checked: ${credentials}`))
      : credentials;
  const verifying = steps.verifySmtp(bounded, source, {
    baseDir: options.baseDir,
    ...(options.now && { now: options.now }),
  });
  let guard: NodeJS.Timeout | undefined;
  const abandoned = new Promise<"timeout">((resolve) => {
    guard = setTimeout(() => resolve("timeout"), remainingMs + SMTP_GRACE_MS);
  });
  verifying.catch(() => undefined);
  const report = await Promise.race([verifying, abandoned]).finally(() => clearTimeout(guard));
  if (report === "timeout") {
    facts.timedOut = { step: "smtp", afterMs: budget };
    facts.smtp = {
      reached: false,
      tls: null,
      authMechanisms: [],
      authChecked: false,
      authenticatedAs: null,
      durationMs: remainingMs + SMTP_GRACE_MS,
      error: {
        code: "timeout",
        field: "smtp.host",
        message: `${decl.smtp.host}:${decl.smtp.port} did not finish the SMTP session within ${budget / 1000} s`,
      },
    };
    return;
  }
  const notAttempted = skipReason !== undefined && report.error?.code === "authorization-required";
  const error = notAttempted ? undefined : report.error;
  const smtp: ObservedSmtp = {
    reached: !error || !["dns", "connect", "timeout", "tls"].includes(error.code),
    tls: report.tls,
    authMechanisms: report.authMechanisms,
    authChecked: skipReason === undefined,
    ...(typeof credentials !== "string" && { username: credentials.username }),
    authenticatedAs: report.authenticatedAs,
    durationMs: report.durationMs,
    ...(error && {
      error: {
        code: error.code,
        message: error.message,
        smtpCode: error.smtpCode,
        field: smtpField(error.code),
      },
    }),
  };
  if (skipReason !== undefined) {
    smtp.authSkipped = skipReason;
    if (smtp.reached) facts.notes.push(`SMTP AUTH not checked: ${skipReason}`);
  }
  if (error?.code === "timeout" && remainingMs < Math.max(t.connectionMs, t.greetingMs)) {
    facts.timedOut = { step: "smtp", afterMs: budget };
  }
  facts.smtp = smtp;
}

function smtpField(code: string): string {
  switch (code) {
    case "tls":
      return "smtp.tls";
    case "starttls-unavailable":
      return "smtp.protocol";
    case "auth-rejected":
      return "auth.username";
    case "auth-mechanism-unsupported":
      return "auth.method";
    case "dns":
      return "smtp.host";
    default:
      return "smtp.port";
  }
}

/** A secret that could not be resolved: a `config` reference is a note (the CLI has no Pulumi), anything else a configuration error. */
function unresolved<T>(facts: ObservedFacts, error: unknown, skip: (reason: string) => T): T {
  if (!isMailServerError(error)) throw error;
  if (error.code === "secret-needs-pulumi")
    return skip(`${error.message} (run \`pulumi preview --refresh\` instead)`);
  facts.configErrors.push(observedError(error, error.field ?? "auth"));
  return skip(error.message);
}

function observedError(error: unknown, field: string): ObservedError {
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

function declaredEndpoints(auth: NormalizedOAuthAuth, published: ObservedEndpoints): ObservedEndpoints {
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

/** true, or why the file cannot be replaced (the write-back is a rename in its folder). */
async function canRewrite(path: string): Promise<true | string> {
  try {
    await access(path, constants.R_OK | constants.W_OK);
    await access(dirname(path), constants.W_OK);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? "not writable";
  }
}

/** The username and email that `mailserver authorize --out` recorded next to the token. */
async function authorizeFileIdentity(
  path: string,
): Promise<{ username?: string; email?: string } | undefined> {
  try {
    const grant = JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
    const identity = {
      ...(typeof grant.username === "string" && { username: grant.username }),
      ...(typeof grant.email === "string" && { email: grant.email }),
    };
    return Object.keys(identity).length > 0 ? identity : undefined;
  } catch {
    return undefined;
  }
}
