/**
 * What `observe` saw for one declaration: plain data, no secret (no token, no password), so it can
 * be printed, stored in Pulumi state and compared. Operational failures are facts here, not
 * exceptions: a dead server is an answer to "what does the live setting look like?".
 */
import type { LiveEmailSetting } from "../services/service.js";
import type { TlsFacts } from "../smtp/session-facts.js";

/** A failure as observed: the step's stable error code (provider/errors.ts) and its message. */
export interface ObservedError {
  code: string;
  message: string;
  /** The declaration field it is about (`auth.issuer`), when known. */
  field?: string;
  /** The SMTP reply code, for SMTP failures. */
  smtpCode?: number | null;
}

/** OAuth endpoints, named as in Pulumi state (`endpoints.token`). */
export interface ObservedEndpoints {
  authorization?: string;
  token?: string;
  deviceAuthorization?: string;
  revocation?: string;
}

export interface ObservedDiscovery {
  /** The issuer URL discovery started from (the declared one). */
  issuer: string;
  ok: boolean;
  /** The issuer the discovery document names. */
  publishedIssuer?: string;
  /** The endpoints the issuer publishes (before declared overrides). */
  published?: ObservedEndpoints;
  error?: ObservedError;
}

export interface ObservedGrant {
  /** Whether a refresh-token grant was attempted. */
  checked: boolean;
  /** Why it was not (rotation that could not be saved, no grant declared, grantCheck "skip"). */
  skipped?: string;
  ok: boolean;
  /** The issuer returned a new refresh token... */
  rotated?: boolean;
  /** ...and it was saved (to the `file` reference, or by the caller's persistRotated). */
  persisted?: boolean;
  /** Scopes the issuer granted on this refresh. */
  scope?: string[];
  /** The address in the refreshed ID token (by the vendor's username claims), null when none. */
  email?: string | null;
  /** What `mailserver authorize --out` recorded next to the token (username, email), if it did. */
  authorizedAs?: { username?: string; email?: string };
  error?: ObservedError;
}

export interface ObservedSmtp {
  /** A session was opened (TCP, TLS, EHLO). */
  reached: boolean;
  tls: TlsFacts | null;
  authMechanisms: string[];
  /** Whether credentials were tried (false when none were available: see `authSkipped`). */
  authChecked: boolean;
  authSkipped?: string;
  /** The username sent with AUTH (not a secret). */
  username?: string;
  authenticatedAs: string | null;
  durationMs: number;
  error?: ObservedError;
}

/** The identity service that stores the setting (`service`): its live setting, and its own test email. */
export interface ObservedService {
  /** "Keycloak realm corp at https://sso.example.com". */
  label?: string;
  /** The live email setting (no secret: only whether one is stored). */
  live?: LiveEmailSetting;
  /** Why it could not be read (unreachable, admin client refused, no rights, no realm). */
  error?: ObservedError;
  /** With `serviceTest`: the service sent its test email with what it stores, or why it could not. */
  test?: { ok: boolean; to?: string; error?: ObservedError };
}

export interface ObservedFacts {
  name: string;
  server: "custom" | "builtin";
  observedAt: string;
  durationMs: number;
  discovery?: ObservedDiscovery;
  /** The endpoints in use: the published ones overridden by the declared ones. */
  endpoints?: ObservedEndpoints;
  grant?: ObservedGrant;
  smtp?: ObservedSmtp;
  service?: ObservedService;
  /** The per-declaration timeout ran out during this step; later steps did not run. */
  timedOut?: { step: "discovery" | "grant" | "smtp"; afterMs: number };
  /**
   * Configuration mistakes that stopped a check (an unset env reference, an unreadable file
   * reference): not drift, but nothing to compare either. `mailserver drift` exits 2 on them.
   */
  configErrors: ObservedError[];
  /** What was not checked, and why, in words for people. */
  notes: string[];
}
