/**
 * `observe`: the live facts of one declaration - the issuer's published endpoints, whether the
 * grant still refreshes, the SMTP server's TLS, STARTTLS, certificate and AUTH, and the email in a
 * fresh ID token. Shared by `mailserver drift` and the provider's `read` (one implementation).
 *
 * Two promises it keeps: it never consumes a rotating refresh token without saving the rotated
 * one (it writes it back to its own `file` reference, atomically, or hands it to the caller's
 * `persistRotated`, or it skips the grant check and says so), and it writes nothing else.
 */
import { performance } from "node:perf_hooks";
import {
  isAppOnlyFlow,
  type NormalizedCustomDeclaration,
  type NormalizedDeclaration,
  type NormalizedOAuthAuth,
} from "../declaration/normalize.js";
import { type AppToken, type ObtainAppTokenOptions, obtainAppToken } from "../oauth/app-token.js";
import { discoverIssuer, type IssuerMetadata } from "../oauth/discover.js";
import { type RefreshedGrant, type RefreshGrantOptions, refreshGrant } from "../oauth/tokens.js";
import { connectService } from "../services/index.js";
import {
  type CredentialsSource,
  type VerifyReport,
  type VerifySmtpOptions,
  verifySmtp,
} from "../smtp/verify.js";
import type { ObservedFacts } from "./facts.js";
import { observeAppToken } from "./observe-app-token.js";
import { timedOut } from "./observe-deadline.js";
import { declaredEndpoints, observeDiscovery } from "./observe-discovery.js";
import { observeGrant } from "./observe-grant.js";
import { observeService } from "./observe-service.js";
import { observeSmtp, smtpCredentials } from "./observe-smtp.js";

export type * from "./facts.js";

/** The network steps observe runs; injectable so the provider can pass its own. */
export interface ObserveSteps {
  discoverIssuer(
    issuer: string,
    options: { timeoutMs: number; fetch?: typeof fetch },
  ): Promise<IssuerMetadata>;
  refreshGrant(auth: NormalizedOAuthAuth, options: RefreshGrantOptions): Promise<RefreshedGrant>;
  /** The app-only flows' token (client credentials, service account). */
  obtainAppToken(auth: NormalizedOAuthAuth, options: ObtainAppTokenOptions): Promise<AppToken>;
  verifySmtp(
    decl: NormalizedCustomDeclaration,
    credentials: CredentialsSource,
    options: VerifySmtpOptions,
  ): Promise<VerifyReport>;
  connectService: typeof connectService;
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
  /** The identity service's admin client secret instead of service.clientSecret's (the provider: the one in state). */
  serviceClientSecret?: string;
  /** Ask the identity service to send its own test email with what it stores (it sends a message). */
  serviceTest?: boolean;
  /** Time for the whole declaration (default 20 s); each step gets at most what is left. */
  timeoutMs?: number;
  /** "skip": do not use the grant at all (then no XOAUTH2 login either). Default "refresh". */
  grantCheck?: "refresh" | "skip";
  /** Why the grant is skipped, for the note (with grantCheck "skip"). */
  grantSkipReason?: string;
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

export { ROTATED_NOT_SAVED } from "./observe-grant.js";

const DEFAULT_STEPS: ObserveSteps = {
  discoverIssuer: (issuer, options) => discoverIssuer(issuer, options),
  refreshGrant,
  obtainAppToken,
  verifySmtp,
  connectService,
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
  const budget = options.timeoutMs ?? DEFAULT_OBSERVE_TIMEOUT_MS;
  // The identity service is independent of the SMTP server: both are observed at once.
  const steps = { ...DEFAULT_STEPS, ...options.steps };
  const service = observeService(facts, decl, steps, options, budget);
  try {
    if (decl.server === "custom") await observeSetting(facts, decl, steps, options, started, budget);
    await service;
    return facts;
  } finally {
    facts.durationMs = Math.round(performance.now() - started);
  }
}

async function observeSetting(
  facts: ObservedFacts,
  decl: NormalizedCustomDeclaration,
  steps: ObserveSteps,
  options: ObserveOptions,
  started: number,
  budget: number,
): Promise<ObservedFacts> {
  const deadline = started + budget;
  const remaining = () => Math.floor(deadline - performance.now());
  const auth = decl.auth;

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
    if (isAppOnlyFlow(auth.flow)) {
      // No grant to share or rotate: nothing to lock.
      accessToken = await observeAppToken(facts, auth, steps, options, remaining());
    } else {
      const grantStep = () => observeGrant(facts, decl, auth, steps, options, remaining());
      accessToken = await (options.grantLock ? options.grantLock(grantStep) : grantStep());
    }
  }
  if (remaining() <= 0) return timedOut(facts, "smtp", budget);
  const credentials = await smtpCredentials(facts, decl, options, accessToken);
  await observeSmtp(facts, decl, credentials, steps, options, remaining(), budget);
  return facts;
}
