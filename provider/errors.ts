/**
 * Operational failures (network, TLS, OAuth, SMTP, secrets) carry a stable code from this one
 * registry: what the code means and what to do about it. Mistakes in a declaration are not
 * thrown: they are collected as {@link Problem}s by the validator.
 */
export const ERROR_CODES = {
  usage: { summary: "The command was called wrongly.", remedy: "Run `mailserver --help`." },
  "declaration-invalid": {
    summary: "The declaration has errors.",
    remedy: "Run `mailserver validate FILE` and fix what it reports.",
  },
  "secret-unresolved": {
    summary: "A secret reference could not be resolved.",
    remedy: "Set the environment variable or create the file that the reference names.",
  },
  "secret-needs-pulumi": {
    summary: "A { config: KEY } secret reference can only be resolved by the Pulumi program.",
    remedy: "Use { env: NAME } or { file: PATH } for the CLI, or run `pulumi up`.",
  },
  "issuer-unreachable": {
    summary: "The OAuth issuer could not be reached.",
    remedy:
      "Try again later; check the issuer URL, the network and the issuer's status page (`mailserver discover ISSUER_URL` shows whether it answers). A stored grant is kept: do not authorize again for this.",
  },
  "issuer-timeout": {
    summary: "The OAuth issuer did not answer in time.",
    remedy:
      "Try again later; check the issuer URL, the network and the issuer's status page (`mailserver discover ISSUER_URL` shows whether it answers). A stored grant is kept: do not authorize again for this.",
  },
  "issuer-error": {
    summary: "The issuer failed: a server error (HTTP 5xx) or a page that is not an OAuth JSON answer.",
    remedy:
      "Try again later and check the issuer's status page; if it persists, check that auth.issuer or auth.tokenEndpoint is the OAuth endpoint. The grant is kept: do not authorize again for this.",
  },
  "issuer-nonconformant": {
    summary: "The issuer's token response breaks RFC 6749 (5.1 or 5.2): a defect of the issuer.",
    remedy:
      "Report the quoted response to the issuer's operator; authorizing again does not help. A refresh token in that response was saved.",
  },
  "issuer-not-json": {
    summary: "The issuer's discovery document is not JSON.",
    remedy: "Check that the issuer URL is the OpenID Provider's issuer, not a web page.",
  },
  "issuer-mismatch": {
    summary: "The discovery document names another issuer.",
    remedy: "Use the exact issuer URL the provider publishes (see its discovery document).",
  },
  "endpoint-missing": {
    summary: "The issuer publishes no endpoint for this step.",
    remedy:
      "Declare the endpoint in auth (for example auth.deviceAuthorizationEndpoint) or choose another flow.",
  },
  "authorization-denied": {
    summary: "The person declined the authorization.",
    remedy: "Run `mailserver authorize FILE` again and approve the consent screen.",
  },
  "authorization-expired": {
    summary: "The authorization was not completed before the code expired.",
    remedy: "Run `mailserver authorize FILE` again and complete it sooner.",
  },
  "authorization-timeout": {
    summary: "Nobody completed the authorization in time.",
    remedy: "Run `mailserver authorize FILE` again, or raise --timeout.",
  },
  "authorization-required": {
    summary: "A new grant is needed and nobody is here to sign in.",
    remedy:
      "Run `mailserver authorize FILE --out .secrets/NAME.json` on a machine with a browser and reference it as auth.refreshToken: { file: ... }.",
  },
  "authorization-failed": {
    summary: "The OAuth authorization failed.",
    remedy:
      "Read the message from the issuer, fix the client registration, and run `mailserver authorize FILE` again.",
  },
  "device-flow-blocked": {
    summary: "The issuer blocked the device flow (for example Microsoft Conditional Access, AADSTS53003).",
    remedy: "Use the loopback flow: `mailserver authorize FILE --flow loopback`.",
  },
  "callback-port-in-use": {
    summary: "The loopback redirect port is already in use.",
    remedy: "Free the port, or use port 0 in auth.redirectUri to take an ephemeral one.",
  },
  "id-token-invalid": {
    summary: "The ID token failed validation.",
    remedy: "Check the client ID, the issuer and the clock, then authorize again.",
  },
  "username-missing": {
    summary: "The SMTP username must be entered: the ID token carries no email.",
    remedy: "Set auth.username (and from.address) in the declaration, or add the `email` scope.",
  },
  "grant-invalid": {
    summary: "The refresh token was rejected (invalid_grant).",
    remedy: "Run `mailserver authorize FILE --out FILE.json` to obtain a new grant.",
  },
  "grant-save-failed": {
    summary: "The grant file cannot be written (read-only, full, immutable, no permission, no folder).",
    remedy:
      "Make the grant file and its folder writable (the message names the path and the reason), then run the command again.",
  },
  "grant-locked": {
    summary: "Another process held the grant file's lock for too long.",
    remedy: "Wait for the other run to finish; if none runs, remove the FILE.lock folder next to the grant.",
  },
  "grant-not-replaceable": {
    summary:
      "The issuer may rotate refresh tokens, and auth.refreshToken ({ env } or { config }) cannot be written back.",
    remedy:
      "Keep the grant in a file (`mailserver authorize FILE --out FILE.json`, auth.refreshToken: { file: FILE.json }), or run through Pulumi, whose state keeps the newest token.",
  },
  "token-request-failed": {
    summary: "The token endpoint refused the request.",
    remedy: "Read the issuer's message; check the client ID, secret and scopes.",
  },
  "app-token-refused": {
    summary:
      "The token endpoint refused the application's own credentials (client credentials or a service account's JWT).",
    remedy:
      "Read the issuer's message; check the client secret or key, the scopes and the app's permissions, then run `mailserver authorize FILE`.",
  },
  "client-key-invalid": {
    summary: "The client assertion's private key or certificate cannot be used (auth.clientAssertion).",
    remedy:
      "Point auth.clientAssertion.privateKey.file at the PEM private key registered for the app, and certificate.file at its certificate.",
  },
  "service-account-key-invalid": {
    summary:
      "The service account key is not a JSON key with client_email, private_key, private_key_id and token_uri.",
    remedy:
      "Download a new JSON key for the service account (Google Cloud console > IAM > Service accounts > Keys) and reference it as auth.serviceAccountKey.",
  },
  "revocation-unsupported": {
    summary: "The issuer has no revocation endpoint.",
    remedy: "Revoke the grant in the provider's account settings.",
  },
  dns: { summary: "The SMTP host name does not resolve.", remedy: "Check smtp.host." },
  connect: {
    summary: "The SMTP server refused or dropped the connection.",
    remedy: "Check smtp.host, smtp.port and smtp.protocol, and that a firewall lets the connection through.",
  },
  timeout: {
    summary: "The SMTP server did not answer in time.",
    remedy:
      "Check smtp.host and smtp.port (an implicit-TLS port answers nothing to a plain client and vice versa).",
  },
  tls: {
    summary: "The TLS handshake or certificate check failed.",
    remedy:
      "Fix the server's certificate, or add its CA with smtp.tls.ca. Certificate checks cannot be switched off.",
  },
  "starttls-unavailable": {
    summary: "The server does not offer STARTTLS; no credential was sent.",
    remedy: "Use protocol: tls if the server offers implicit TLS, or fix the server.",
  },
  "auth-mechanism-unsupported": {
    summary: "The server offers none of the AUTH mechanisms this setting needs.",
    remedy: "Check the server's AUTH mechanisms (`mailserver verify FILE`) and auth.method.",
  },
  "auth-rejected": {
    summary: "The SMTP server rejected the credentials.",
    remedy: "Check the username and password or grant.",
  },
  "token-refresh-failed": {
    summary: "No access token could be obtained from the refresh token.",
    remedy: "Run `mailserver authorize FILE --out FILE.json` to obtain a new grant.",
  },
  "recipient-rejected": {
    summary: "The SMTP server rejected a recipient.",
    remedy: "Check testEmail.to.",
  },
  "send-failed": {
    summary: "The SMTP server did not accept the message.",
    remedy: "Read the server's reply; check from.address and the mailbox's send-as rights.",
  },
  "state-unreadable": {
    summary: "The recorded state file could not be read.",
    remedy: "Pass the output of `pulumi stack output --json --show-secrets` or `pulumi stack export`.",
  },
  "state-mismatch": {
    summary: "The recorded state names none of the declarations: it belongs to another stack or project.",
    remedy:
      "Export the state of the stack these declarations deploy: `pulumi stack output --json --show-secrets --stack NAME`.",
  },
  "endpoint-insecure": {
    summary: "An OAuth endpoint uses plain http on a host that is not loopback.",
    remedy:
      "Use the https URL of the endpoint (plain http is accepted only for 127.0.0.1, [::1] and localhost).",
  },
  "service-unreachable": {
    summary: "The identity service (service.url) could not be reached, or is not that service.",
    remedy: "Check service.url (the server root; Keycloak before 17 ends in /auth) and the network.",
  },
  "service-auth-failed": {
    summary: "The identity service refused the admin client's credentials.",
    remedy:
      "Check service.clientId, its secret and service.adminRealm; the client must be confidential with service accounts enabled.",
  },
  "service-forbidden": {
    summary: "The admin client's service account may not manage the realm.",
    remedy:
      "Give the client's service account the realm-management roles manage-realm and view-realm (Clients, the client, Service account roles).",
  },
  "service-realm-not-found": {
    summary: "The realm does not exist on the identity service.",
    remedy: "Check service.realm (and service.adminRealm); realm names are case-sensitive.",
  },
  "service-write-failed": {
    summary: "The identity service did not save the email settings.",
    remedy: "Read the service's reply in the message; the realm keeps the settings the message names.",
  },
  "service-test-failed": {
    summary: "The identity service could not send its own test email with the setting.",
    remedy:
      "The service's log has the reason; check that it reaches the SMTP server, trusts its certificate, and that the stored password or client secret still works.",
  },
  "service-admin-email-missing": {
    summary:
      "The identity service sends its test email to the admin account's email, and that account has none.",
    remedy:
      "Set an email on the admin client's service account user (Keycloak: Users, service-account-CLIENT_ID, Email).",
  },
  "service-setting-unsupported": {
    summary: "The service's live setting cannot be written as a declaration.",
    remedy:
      "Change the setting in the service (turn on SSL or StartTLS, and authentication), then import again.",
  },
  internal: {
    summary: "An internal error: this is a bug in pulumi-mailserver.",
    remedy: "Report it with the command you ran (the message contains no secrets).",
  },
} as const satisfies Record<string, { summary: string; remedy: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * Failures of the OAuth issuer itself (unreachable, slow, a server error, a non-conformant answer),
 * not of the grant or the client: the grant is kept and the remedy is to try again.
 */
export const ISSUER_FAILURES: ReadonlySet<string> = new Set<ErrorCode>([
  "issuer-unreachable",
  "issuer-timeout",
  "issuer-error",
  "issuer-nonconformant",
]);

export interface MailServerErrorOptions {
  /** The declaration field the failure is about, as a dotted path (`auth.issuer`). */
  field?: string;
  /** What to do; defaults to the registry's remedy for the code. */
  remedy?: string;
  /** Structured facts for JSON output (for example the SMTP reply code). Never secrets. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

/** An operational failure with a stable {@link ErrorCode}, a message that says what went wrong and a remedy. */
export class MailServerError extends Error {
  override readonly name = "MailServerError";
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly remedy: string;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: MailServerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.field = options.field;
    this.remedy = options.remedy ?? ERROR_CODES[code].remedy;
    this.details = options.details ?? {};
  }

  /** The one-line form shown to people: message, then what to do. */
  describe(): string {
    return `${this.message} (${this.code})\n  hint: ${this.remedy}`;
  }
}

export function isMailServerError(error: unknown): error is MailServerError {
  return error instanceof MailServerError;
}
