import type { NormalizedCustomDeclaration } from "../declaration/normalize.js";
import { type ReportError, runReport } from "./report.js";
import { type SmtpCredentials, SmtpSession, type SmtpSessionOptions } from "./session.js";
import type { TlsFacts } from "./session-facts.js";

/** What `mailserver verify --format json` prints (a contract: keep the keys). */
export interface VerifyReport {
  ok: boolean;
  host: string;
  port: number;
  protocol: "tls" | "starttls";
  /** Null when no TLS session was established. */
  tls: TlsFacts | null;
  authMechanisms: string[];
  /** The username the server accepted; null unless AUTH succeeded. */
  authenticatedAs: string | null;
  durationMs: number;
  error: ReportError | null;
}

/** Credentials as resolveSmtpCredentials returns them, with the From Address an OAuth grant implies. */
export interface ResolvedCredentialsLike {
  credentials: SmtpCredentials;
  grant?: { fromAddress: string | null };
  /** The app-only flows' From Address (they have no grant). */
  fromAddress?: string;
}

/**
 * Credentials, or a way to get them (for OAuth a token refresh, which may fail with
 * token-refresh-failed: the failure then lands in the report like any other).
 */
export type CredentialsSource = SmtpCredentials | (() => Promise<SmtpCredentials | ResolvedCredentialsLike>);

/** Runs a credentials source; returns the credentials and the grant's From Address, if any. */
export async function obtainCredentials(
  source: CredentialsSource,
): Promise<{ credentials: SmtpCredentials; fromAddress?: string }> {
  const value = typeof source === "function" ? await source() : source;
  if ("credentials" in value) {
    const fromAddress = value.grant?.fromAddress ?? value.fromAddress;
    return { credentials: value.credentials, ...(fromAddress && { fromAddress }) };
  }
  return { credentials: value };
}

export type VerifySmtpOptions = SmtpSessionOptions;

/**
 * Proves the SMTP login works: connect, TLS, EHLO, AUTH, QUIT - no message. Operational failures
 * do not throw: they come back as `ok: false` with a classified `error`, together with what was
 * seen before the failure (the certificate, the AUTH mechanisms), because drift detection and the
 * provider read the report either way. Only programmer errors throw.
 *
 * @example
 * const report = await verifySmtp(decl, { method: "basic", username: "me@example.com", password });
 * if (!report.ok) console.error(report.error?.code, report.error?.message);
 * @see https://www.rfc-editor.org/rfc/rfc4954 SMTP AUTH
 */
export async function verifySmtp(
  decl: NormalizedCustomDeclaration,
  credentials: CredentialsSource,
  options: VerifySmtpOptions = {},
): Promise<VerifyReport> {
  const report: VerifyReport = {
    ok: false,
    host: decl.smtp.host,
    port: decl.smtp.port,
    protocol: decl.smtp.protocol,
    tls: null,
    authMechanisms: [],
    authenticatedAs: null,
    durationMs: 0,
    error: null,
  };
  return runReport(report, decl, "auth", async () => {
    const session = await SmtpSession.open(decl, options);
    try {
      report.tls = session.tls;
      report.authMechanisms = session.authMechanisms;
      const resolved = await obtainCredentials(credentials);
      report.authenticatedAs = await session.authenticate(resolved.credentials);
    } finally {
      session.close();
    }
  });
}
