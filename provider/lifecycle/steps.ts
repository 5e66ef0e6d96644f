/**
 * The steps the lifecycle orchestrates, written by the OAuth and SMTP modules. They are loaded at
 * call time (a `check` or `diff` never loads openid-client or nodemailer) and are injectable, so
 * tests and benches can pass their own.
 */
import type { NormalizedCustomDeclaration, NormalizedOAuthAuth } from "../declaration/normalize.js";

export interface Endpoints {
  issuer?: string;
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  deviceAuthorizationEndpoint?: string;
  revocationEndpoint?: string;
}

export interface Grant {
  refreshToken: string;
  accessToken: string;
  scope: string[];
  obtainedAt: string;
  issuer?: string;
  clientId?: string;
  username?: string;
  email?: string | null;
  idTokenClaims?: Record<string, unknown>;
}

export interface RefreshedGrant {
  accessToken: string;
  refreshToken: string;
  rotated: boolean;
  expiresAt?: number | string | null;
  scope?: string[] | string;
  idTokenClaims?: Record<string, unknown>;
}

export interface SmtpCredentials {
  method: "basic" | "oauth";
  username: string;
  password?: string;
  accessToken?: string;
}

export interface VerifyReport {
  ok: boolean;
  host: string;
  port: number;
  protocol: string;
  tls: {
    version?: string | null;
    cipher?: string | null;
    subject?: string | null;
    issuer?: string | null;
    fingerprint256?: string | null;
    validTo?: string | null;
    daysLeft?: number | null;
  } | null;
  authMechanisms: string[];
  authenticatedAs: string | null;
  durationMs: number;
  error: { code: string; message: string; smtpCode?: number | null } | null;
}

export interface TestEmailReport {
  ok: boolean;
  messageId: string | null;
  accepted: string[];
  rejected: string[];
  response: string | null;
  durationMs: number;
  error: { code: string; message: string; smtpCode?: number | null } | null;
}

export interface LifecycleSteps {
  resolveEndpoints(auth: NormalizedOAuthAuth): Promise<Endpoints>;
  authorize(
    auth: NormalizedOAuthAuth,
    options: {
      clientSecret?: string;
      prompt: (line: string) => void;
      noBrowser?: boolean;
      timeoutMs?: number;
      fromAddress?: string;
    },
  ): Promise<Grant>;
  refreshGrant(
    auth: NormalizedOAuthAuth,
    options: { refreshToken: string; clientSecret?: string },
  ): Promise<RefreshedGrant>;
  revokeGrant(
    auth: NormalizedOAuthAuth,
    options: { refreshToken: string; clientSecret?: string },
  ): Promise<{ revoked: boolean; reason?: string }>;
  /** The SMTP username and From address from ID-token claims (declared values win). */
  identityFromClaims(
    claims: Record<string, unknown> | undefined,
    auth: NormalizedOAuthAuth,
    from?: { address?: string },
  ): { username: string; fromAddress?: string };
  verifySmtp(
    declaration: NormalizedCustomDeclaration,
    credentials: SmtpCredentials,
    baseDir: string,
  ): Promise<VerifyReport>;
  sendTestEmail(
    declaration: NormalizedCustomDeclaration,
    credentials: SmtpCredentials,
    baseDir: string,
    /** From address when the declaration has none (OAuth: the ID token's email). */
    fromAddress?: string,
  ): Promise<TestEmailReport>;
}

/** The real steps, loaded from the OAuth and SMTP modules when first needed. */
export async function defaultSteps(): Promise<LifecycleSteps> {
  const { realSteps } = await import("./real-steps.js");
  return realSteps();
}
