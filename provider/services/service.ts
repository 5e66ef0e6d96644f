/**
 * The one small interface every identity service module implements (provider/services/<type>.ts):
 * read the live email setting, apply one, clear it, and ask the service to send its own test
 * email. The lifecycle, drift and import speak only this interface, so a module for another
 * service (Entrust IDaaS, ZITADEL, Auth0) needs no change anywhere else.
 */

/** How the service logs in to the SMTP server, with the secret (what is written). */
export type ServiceAuth =
  | { method: "basic"; username: string; password: string }
  | {
      /** OAuth client credentials: the service runs the grant itself and logs in with XOAUTH2. */
      method: "client-credentials";
      username: string;
      tokenUrl: string;
      clientId: string;
      clientSecret: string;
      scopes: string[];
    };

/** The email setting to store: a custom SMTP server (the built-in mail server is `clear()`). */
export interface ServiceEmailSetting {
  host: string;
  port: number;
  /** tls: implicit TLS (Keycloak "Enable SSL"); starttls: Keycloak "Enable StartTLS". */
  protocol: "tls" | "starttls";
  auth: ServiceAuth;
  from: { address: string; name?: string };
  replyTo?: string;
}

/** How the service logs in, as read back: never a secret, only whether one is stored. */
export type LiveServiceAuth =
  | { method: "none" }
  | { method: "basic"; username: string; passwordStored: boolean }
  | {
      method: "client-credentials";
      username: string;
      tokenUrl: string;
      clientId: string;
      scopes: string[];
      clientSecretStored: boolean;
    };

/** The live email setting. `configured: false`: the service has none (its settings are empty). */
export type LiveEmailSetting =
  | { configured: false }
  | {
      configured: true;
      host: string;
      port: number;
      /** plain: neither implicit TLS nor StartTLS, which no declaration can express. */
      protocol: "tls" | "starttls" | "plain";
      auth: LiveServiceAuth;
      from: { address?: string; name?: string };
      replyTo?: string;
    };

/** What the service's own test email reported. */
export interface ServiceTestReport {
  /** Where the service sent it (Keycloak: the calling admin account's email), when known. */
  to?: string;
}

/** A connection to one service, authenticated as its admin client. */
export interface IdentityServiceConnection {
  /** For messages: "Keycloak realm corp at https://sso.example.com". */
  readonly label: string;
  read(): Promise<LiveEmailSetting>;
  /** Writes the setting. Throws `service-write-failed` (saying what the realm was left with), or an access error. */
  apply(setting: ServiceEmailSetting): Promise<void>;
  /** Empties the email settings (the service then sends with nothing, or its built-in server). */
  clear(): Promise<void>;
  /**
   * Asks the service to send its own test email: with `setting` before it is saved, or, without
   * it, with what the service has stored (its stored secrets included). Throws
   * `service-test-failed` or `service-admin-email-missing`.
   */
  test(setting?: ServiceEmailSetting): Promise<ServiceTestReport>;
}

export interface ConnectServiceOptions {
  /** Per request (default 15 s). */
  timeoutMs?: number;
}
