/** The SMTP step of observe: the credentials for AUTH, and the session's TLS, STARTTLS, certificate and AUTH. */
import type { NormalizedCustomDeclaration } from "../declaration/normalize.js";
import { secretResolver } from "../declaration/secrets.js";
import { MailServerError } from "../errors.js";
import type { SmtpCredentials } from "../smtp/session.js";
import type { CredentialsSource } from "../smtp/verify.js";
import type { ObservedFacts, ObservedSmtp } from "./facts.js";
import type { ObserveOptions, ObserveSteps } from "./observe.js";
import { unresolved } from "./observe-error.js";

/** Time granted past the deadline before an SMTP step that ignores its timeouts is abandoned. */
const SMTP_GRACE_MS = 2_000;

/** The SMTP credentials, or why there are none (then the session stops before AUTH). */
export async function smtpCredentials(
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
      const password = await secretResolver(options)(auth.password, "auth.password");
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

/** Runs the SMTP session within what is left of the budget; the result becomes `facts.smtp`. */
export async function observeSmtp(
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
