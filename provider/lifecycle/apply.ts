/**
 * `create` and `update`: validate -> (OAuth) discovery -> grant (stored, declared, or a new
 * authorization) -> ID-token facts -> SMTP verify (AUTH) -> [required test email] -> [save into
 * the identity service] -> state. Nothing is returned, so nothing is saved, unless verification
 * passed; nothing is written into the service either.
 */
import { resolve } from "node:path";
import {
  isAppOnlyFlow,
  type NormalizedCustomDeclaration,
  type NormalizedOAuthAuth,
  normalizeDeclaration,
} from "../declaration/normalize.js";
import { describeErrors } from "../declaration/problem.js";
import { recordedIdentity, type SecretResolver, secretResolver } from "../declaration/secrets.js";
import { validateDeclarationValue } from "../declaration/validate.js";
import { MailServerError } from "../errors.js";
import { resolveUsername } from "../oauth/username.js";
import { obtainGrant } from "./grant.js";
import { saveIntoService, serviceSettingOf } from "./service.js";
import { inputsOf, type MailServerState, STATE_VERSION, splitInputs } from "./state.js";
import type { IssuerMetadata, LifecycleSteps, SmtpCredentials, VerifyReport } from "./steps.js";
import { errorCode, sendTestEmailOrThrow } from "./test-email.js";
import { transportOf } from "./transport.js";

export interface ApplyOptions {
  steps: LifecycleSteps;
  env?: Record<string, string | undefined>;
  log?: (line: string) => void;
  now?: () => Date;
  /** The project directory that baseDir is relative to (default process.cwd()). */
  cwd?: string;
}

/** A failed step, with the newest refresh token when the failed attempt rotated it. */
export class ApplyFailure extends Error {
  constructor(
    readonly failure: unknown,
    readonly rotatedRefreshToken?: string,
  ) {
    super(failure instanceof Error ? failure.message : String(failure));
  }
}

/** Applies the inputs. `previous` is the state being updated, when its grant may be kept. */
export async function applyMailServer(
  inputs: Record<string, unknown>,
  previous: MailServerState | undefined,
  options: ApplyOptions,
): Promise<MailServerState> {
  const now = options.now ?? (() => new Date());
  const log = options.log ?? ((line: string) => console.log(line));
  const { declaration: value, baseDir, secretValues } = splitInputs(inputs);
  const loaded = validateDeclarationValue(value);
  if (!loaded.declaration) {
    const name = String(value.name ?? "declaration");
    throw new MailServerError(
      "declaration-invalid",
      `${name}: ${describeErrors(name, loaded.problems).join("; ")}`,
    );
  }
  const normalized = normalizeDeclaration(loaded.declaration);
  const base: MailServerState = { ...inputsOf(inputs), stateVersion: STATE_VERSION };
  const absoluteBase = resolve(options.cwd ?? process.cwd(), baseDir);
  const secret = secretResolver({
    baseDir: absoluteBase,
    env: options.env,
    config: (key: string) => secretValues[key],
  });
  if (normalized.server === "builtin") {
    if (normalized.service) {
      const saved = await saveIntoService({ ...normalized, service: normalized.service }, undefined, {
        steps: options.steps,
        secret,
        log,
      });
      return { ...base, ...saved };
    }
    log(`${normalized.name}: the identity service sends with its built-in mail server`);
    return base;
  }

  let credentials: SmtpCredentials;
  let oauth: OAuthFacts | undefined;
  let password: string | undefined;
  if (normalized.auth.method === "basic") {
    password = await secret(normalized.auth.password, "auth.password");
    credentials = { method: "basic", username: normalized.auth.username, password };
  } else {
    const context = { ...options, absoluteBase, secret };
    oauth = isAppOnlyFlow(normalized.auth.flow)
      ? await appFacts(normalized, normalized.auth, context)
      : await oauthFacts(normalized, normalized.auth, previous, context);
    credentials = { method: "oauth", username: oauth.username, accessToken: oauth.accessToken };
  }

  const rotated = oauth?.refreshTokenChanged ? oauth.refreshToken : undefined;
  try {
    const report = await options.steps.verifySmtp(normalized, credentials, absoluteBase);
    if (!report.ok) throw verificationError(normalized.name, report);
    const at = now().toISOString();
    const state: MailServerState = {
      ...base,
      ...smtpFacts(normalized, report, at),
      username: credentials.username,
      ...(normalized.from.name !== undefined && { fromName: normalized.from.name }),
      ...((normalized.from.address ?? oauth?.fromAddress) !== undefined && {
        fromAddress: normalized.from.address ?? oauth?.fromAddress,
      }),
      ...(normalized.replyTo !== undefined && { replyTo: normalized.replyTo }),
      ...(password !== undefined && { password }),
      ...(oauth && {
        // Absent endpoints are null in the metadata and left out of the state.
        issuer: oauth.endpoints.issuer ?? undefined,
        endpoints: {
          authorization: oauth.endpoints.authorizationEndpoint ?? undefined,
          token: oauth.endpoints.tokenEndpoint ?? undefined,
          deviceAuthorization: oauth.endpoints.deviceAuthorizationEndpoint ?? undefined,
          revocation: oauth.endpoints.revocationEndpoint ?? undefined,
        },
        scopes: oauth.scope,
        grantedAt: oauth.grantedAt,
        refreshToken: oauth.refreshToken,
        // An app token is never stored: whoever needs one fetches a new one.
        accessToken: oauth.appOnly ? undefined : oauth.accessToken,
        ...(oauth.declaredDigest !== undefined && { declaredGrantDigest: oauth.declaredDigest }),
        ...(oauth.clientSecret !== undefined && { clientSecret: oauth.clientSecret }),
      }),
    };
    const auth = normalized.auth;
    const serviceAccountKey =
      auth.method === "oauth" && auth.flow === "service-account" && auth.serviceAccountKey
        ? await secret(auth.serviceAccountKey, "auth.serviceAccountKey")
        : undefined;
    state.transport = await transportOf(normalized, state, absoluteBase, serviceAccountKey);
    if (normalized.testEmail?.required) {
      const sent = await sendTestEmailOrThrow(options.steps, normalized, credentials, absoluteBase, {
        ...(state.fromAddress !== undefined && { fromAddress: state.fromAddress }),
        which: "the required test email",
        log,
      });
      state.lastTestEmail = {
        ok: true,
        at: now().toISOString(),
        ...(sent.messageId && { messageId: sent.messageId }),
      };
    }
    log(`${normalized.name}: verified ${state.host}:${state.port} (${state.protocol}) as ${state.username}`);
    if (normalized.service) {
      const tokenUrl = oauth?.endpoints.tokenEndpoint;
      const setting = serviceSettingOf(
        normalized,
        credentials,
        state.fromAddress,
        tokenUrl && oauth?.clientSecret !== undefined
          ? { tokenUrl, clientSecret: oauth.clientSecret }
          : undefined,
      );
      const saved = await saveIntoService({ ...normalized, service: normalized.service }, setting, {
        steps: options.steps,
        secret,
        log,
      });
      state.serviceClientSecret = saved.serviceClientSecret;
    }
    return stripUndefined(state);
  } catch (error) {
    throw new ApplyFailure(error, rotated);
  }
}

interface OAuthFacts {
  endpoints: IssuerMetadata;
  username: string;
  fromAddress?: string;
  accessToken: string;
  /** The delegated flows' refresh token; the app-only flows have none. */
  refreshToken?: string;
  refreshTokenChanged: boolean;
  scope: string[];
  grantedAt?: string;
  /** An app-only flow: no grant, no prompt, nothing stored but the facts. */
  appOnly?: boolean;
  declaredDigest?: string;
  clientSecret?: string;
}

async function oauthFacts(
  declaration: NormalizedCustomDeclaration,
  auth: NormalizedOAuthAuth,
  previous: MailServerState | undefined,
  context: ApplyOptions & { absoluteBase: string; secret: SecretResolver },
): Promise<OAuthFacts> {
  const clientSecret = auth.clientSecret
    ? await context.secret(auth.clientSecret, "auth.clientSecret")
    : undefined;
  const endpoints = await context.steps.resolveEndpoints(auth);
  const grant = await obtainGrant(context.steps, {
    name: declaration.name,
    auth,
    ...(clientSecret !== undefined && { clientSecret }),
    baseDir: context.absoluteBase,
    secret: context.secret,
    ...(previous && { previous }),
    ...(context.env && { env: context.env }),
    ...(context.log && { log: context.log }),
    ...(context.now && { now: context.now }),
  });
  // The one username resolution: declared, the grant's account (ID token, userinfo), then what
  // was recorded when the grant was made (this resource's state, or the authorize --out file).
  const recordedFile = await recordedIdentity(auth.refreshToken, context.absoluteBase);
  const identity = resolveUsername({
    declared: auth.username,
    token: grant.account,
    recorded: {
      username: previous?.username ?? recordedFile.username,
      email: previous?.fromAddress ?? recordedFile.email,
    },
  });
  const fromAddress = declaration.from.address ?? identity.fromAddress;
  return {
    endpoints,
    username: identity.username,
    ...(fromAddress !== null && { fromAddress }),
    accessToken: grant.accessToken,
    refreshToken: grant.refreshToken,
    refreshTokenChanged: grant.changed,
    scope: grant.scope,
    grantedAt: grant.grantedAt,
    ...(grant.declaredDigest !== undefined && { declaredDigest: grant.declaredDigest }),
    ...(clientSecret !== undefined && { clientSecret }),
  };
}

/**
 * The app-only flows (client credentials, service account): a fresh app token, never a prompt and
 * never a stored grant. The SMTP username is the declared mailbox, which is also the default From.
 */
async function appFacts(
  declaration: NormalizedCustomDeclaration,
  auth: NormalizedOAuthAuth,
  context: ApplyOptions & { absoluteBase: string; secret: SecretResolver },
): Promise<OAuthFacts> {
  if (!auth.username) throw new TypeError(`${declaration.name}: flow ${auth.flow} needs auth.username`);
  const clientSecret = auth.clientSecret
    ? await context.secret(auth.clientSecret, "auth.clientSecret")
    : undefined;
  const endpoints = await context.steps.resolveEndpoints(auth);
  const token = await context.steps.obtainAppToken(auth, {
    baseDir: context.absoluteBase,
    secret: context.secret,
    ...(clientSecret !== undefined && { clientSecret }),
  });
  return {
    // A service account's token endpoint is its key's, not an issuer's: it is not recorded, so
    // refresh does not compare what no issuer publishes.
    endpoints,
    username: auth.username,
    fromAddress: declaration.from.address ?? auth.username,
    accessToken: token.accessToken,
    refreshTokenChanged: false,
    scope: token.scope,
    appOnly: true,
    ...(clientSecret !== undefined && { clientSecret }),
  };
}

function smtpFacts(
  declaration: NormalizedCustomDeclaration,
  report: VerifyReport,
  at: string,
): Partial<MailServerState> {
  return {
    host: declaration.smtp.host,
    port: declaration.smtp.port,
    protocol: declaration.smtp.protocol,
    lastVerifiedAt: at,
    verification: {
      ok: report.ok,
      at,
      ...(report.authenticatedAs && { authenticatedAs: report.authenticatedAs }),
      authMechanisms: report.authMechanisms,
      ...(report.tls?.version && { tlsVersion: report.tls.version }),
      durationMs: Math.round(report.durationMs),
      error: null,
    },
    certificate: {
      ...(report.tls?.fingerprint256 && { fingerprint256: report.tls.fingerprint256 }),
      ...(report.tls?.validTo && { notAfter: report.tls.validTo }),
      ...(report.tls?.subject && { subject: report.tls.subject }),
      ...(report.tls?.issuer && { issuer: report.tls.issuer }),
    },
  };
}

function verificationError(name: string, report: VerifyReport): MailServerError {
  return new MailServerError(
    errorCode(report.error?.code, "auth-rejected"),
    `${name}: SMTP verification of ${report.host}:${report.port} failed: ${report.error?.message ?? "unknown reason"}; nothing was saved`,
    { details: { smtpCode: report.error?.smtpCode ?? null } },
  );
}

function stripUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
