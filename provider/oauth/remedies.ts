/**
 * The OAuth errors people actually hit, each with what it means and what to do. Microsoft's
 * AADSTS codes (in `error_description`) are more specific than the OAuth `error`, so they match
 * first. The issuer's own description is quoted (it never holds a token); tokens are never quoted.
 */
import { type ErrorCode, MailServerError } from "../errors.js";

/**
 * The OAuth step an error came from: it can change what an error means (AADSTS53003; Google's
 * unauthorized_client for a service account).
 */
export type OAuthFlow = "device" | "loopback" | "refresh" | "client-credentials" | "service-account";

/** The app-only steps: their rows apply only when the step is named, and every refusal is app-token-refused. */
const APP_ONLY_STEPS: ReadonlySet<OAuthFlow> = new Set(["client-credentials", "service-account"]);

export interface OAuthRemedy {
  /** An OAuth `error` value (RFC 6749 5.2, RFC 8628 3.5) or a Microsoft `AADSTS` code. */
  match: string;
  /** The steps where people meet it and where this row applies (all when absent). */
  flows?: readonly OAuthFlow[];
  code: ErrorCode;
  /** What the error means, in the terms of the person fixing it. */
  meaning: string;
  remedy: string;
}

const ENTRA_APP = "Entra ID > App registrations > the app";
const AUTHORIZE_AGAIN = "Run `mailserver authorize FILE --out FILE.json` for a new grant.";

/**
 * Microsoft identity platform errors, by the AADSTS code in `error_description`: the codes people
 * hit in the device flow, the loopback flow and refreshing a grant.
 * @see https://learn.microsoft.com/entra/identity-platform/reference-error-codes
 */
export const MICROSOFT_REMEDIES: readonly OAuthRemedy[] = [
  {
    match: "AADSTS7000215",
    code: "token-request-failed",
    meaning: "the client secret is wrong (its Value was expected, not its Secret ID) or has expired",
    remedy: `Create a new client secret (${ENTRA_APP} > Certificates & secrets), copy its Value, and update where auth.clientSecret points.`,
  },
  {
    match: "AADSTS700027",
    flows: ["client-credentials"],
    code: "app-token-refused",
    meaning:
      "the client assertion was refused: its certificate is not registered for the app, or it is expired or signed with another key",
    remedy: `Upload the certificate of auth.clientAssertion.privateKey to the app (${ENTRA_APP} > Certificates & secrets > Certificates) and declare it as auth.clientAssertion.certificate (its thumbprint is sent as x5t).`,
  },
  {
    match: "AADSTS1002012",
    flows: ["client-credentials"],
    code: "app-token-refused",
    meaning: "an app-only token request must ask for RESOURCE/.default, not for single permissions",
    remedy:
      "Set auth.scopes to https://outlook.office365.com/.default (preset office365 does this for flow client-credentials).",
  },
  {
    match: "AADSTS53003",
    flows: ["device"],
    code: "device-flow-blocked",
    meaning:
      "Conditional Access blocked the sign-in (Microsoft recommends that tenants block the device code flow)",
    remedy:
      "Use the loopback flow with a browser: `mailserver authorize FILE --flow loopback` (or set auth.flow: loopback).",
  },
  {
    match: "AADSTS53003",
    flows: ["loopback", "refresh"],
    code: "authorization-failed",
    meaning: "a Conditional Access policy blocked the sign-in or the token",
    remedy:
      "Find the policy in Entra ID > Sign-in logs (the failed sign-in's Conditional Access tab), and have an administrator allow this app, this location or this device for the mailbox.",
  },
  {
    match: "AADSTS50076",
    code: "authorization-failed",
    meaning: "multi-factor authentication is required by Conditional Access",
    remedy:
      "Sign in interactively so the person can complete MFA: `mailserver authorize FILE --flow loopback`; a stored grant obtained without MFA will not do.",
  },
  {
    match: "AADSTS50079",
    code: "authorization-failed",
    meaning: "the account must register for multi-factor authentication first",
    remedy:
      "Have the person sign in once at https://aka.ms/mfasetup, then run `mailserver authorize FILE --flow loopback`.",
  },
  {
    match: "AADSTS65001",
    code: "authorization-failed",
    meaning: "consent is missing: nobody consented to the app's permissions (SMTP.Send) in this tenant",
    remedy:
      "Have the person consent in the browser, or an administrator grant admin consent for the app (Entra ID > Enterprise applications > Permissions), then authorize again.",
  },
  {
    match: "AADSTS700016",
    code: "authorization-failed",
    meaning: "the application (auth.clientId) was not found in the tenant signed in to",
    remedy:
      "Check auth.clientId, and that the app is multi-tenant or registered in the tenant of auth.issuer/auth.tenantId.",
  },
  {
    match: "AADSTS7000218",
    flows: ["device", "loopback", "refresh"],
    code: "token-request-failed",
    meaning:
      "the app registration is not a public client, so Microsoft wants a client secret or assertion (the request body must contain client_assertion or client_secret)",
    remedy: `Turn on "Allow public client flows" (${ENTRA_APP} > Authentication > Advanced settings), or declare the app's secret as auth.clientSecret.`,
  },
  {
    match: "AADSTS700025",
    flows: ["loopback", "refresh"],
    code: "token-request-failed",
    meaning: "the app is a public client, so a client secret must not be sent",
    remedy: "Remove auth.clientSecret from the declaration (a public client has none).",
  },
  {
    match: "AADSTS50011",
    flows: ["loopback"],
    code: "authorization-failed",
    meaning: "the redirect URI is not registered for the app",
    remedy: `Add http://localhost as a redirect URI of the platform "Mobile and desktop applications" (${ENTRA_APP} > Authentication), and declare auth.redirectUri: http://localhost/callback (Microsoft ignores the port of loopback URIs).`,
  },
  {
    match: "AADSTS54005",
    flows: ["loopback"],
    code: "authorization-failed",
    meaning:
      "the authorization code was already redeemed (a code works once: a reloaded page or another tool used it)",
    remedy: "Run `mailserver authorize FILE` again, and let only this command receive the redirect.",
  },
  {
    match: "AADSTS50020",
    flows: ["device", "loopback"],
    code: "authorization-failed",
    meaning: "the account that signed in is not a user of the app's tenant",
    remedy:
      "Sign in as the mailbox that sends (an account of the tenant), or use the mailbox's tenant: auth.tenantId or its tenant-specific issuer.",
  },
  {
    match: "AADSTS50105",
    flows: ["device", "loopback"],
    code: "authorization-failed",
    meaning: "the app requires user assignment and this account is not assigned to it",
    remedy:
      "Assign the mailbox's account to the app: Entra ID > Enterprise applications > the app > Users and groups.",
  },
  {
    match: "AADSTS50194",
    code: "authorization-failed",
    meaning: "the app is single-tenant, so the multi-tenant issuer (common) cannot be used",
    remedy:
      "Use the tenant's issuer (https://login.microsoftonline.com/TENANT_ID/v2.0) or declare auth.tenantId.",
  },
  {
    match: "AADSTS90002",
    code: "authorization-failed",
    meaning: "the tenant in the issuer URL does not exist",
    remedy:
      "Check auth.tenantId or the tenant in auth.issuer (the Directory (tenant) ID of the app's overview page).",
  },
  {
    match: "AADSTS70011",
    code: "authorization-failed",
    meaning: "a requested scope is not valid for Microsoft",
    remedy:
      "Check auth.scopes: https://outlook.office365.com/SMTP.Send (or https://outlook.office.com/SMTP.Send), openid, email and offline_access.",
  },
  {
    match: "AADSTS500011",
    code: "authorization-failed",
    meaning: "the resource of a scope (Exchange Online) was not found in the tenant",
    remedy:
      "Check that the tenant has Exchange Online and that the scope is spelled https://outlook.office365.com/SMTP.Send.",
  },
  {
    match: "AADSTS70008",
    flows: ["refresh"],
    code: "grant-invalid",
    meaning: "the refresh token expired or was revoked",
    remedy: AUTHORIZE_AGAIN,
  },
  {
    match: "AADSTS700082",
    flows: ["refresh"],
    code: "grant-invalid",
    meaning: "the refresh token expired after 90 days without use",
    remedy: `${AUTHORIZE_AGAIN} Refreshing it at least monthly (mailserver drift on a schedule) keeps it alive.`,
  },
  {
    match: "AADSTS50173",
    flows: ["refresh"],
    code: "grant-invalid",
    meaning: "the grant was revoked, for example because the account's password changed",
    remedy: AUTHORIZE_AGAIN,
  },
  {
    match: "AADSTS70043",
    flows: ["refresh"],
    code: "grant-invalid",
    meaning: "the refresh token expired because of a Conditional Access sign-in frequency policy",
    remedy: `${AUTHORIZE_AGAIN} The policy decides how long a grant lasts; an administrator can exclude this app.`,
  },
];

/**
 * The OAuth errors of RFC 6749 and RFC 8628, for any issuer.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 * @see https://www.rfc-editor.org/rfc/rfc8628#section-3.5
 */
export const OAUTH_ERROR_REMEDIES: readonly OAuthRemedy[] = [
  {
    match: "invalid_grant",
    flows: ["service-account"],
    code: "app-token-refused",
    meaning:
      "the signed JWT was refused: expired or not yet valid (check this machine's clock), the wrong audience, or auth.username is not a mailbox the service account may act as",
    remedy:
      "Check the clock, that auth.username is a user of the Workspace domain, and that the key in auth.serviceAccountKey is still active (Google Cloud console > IAM > Service accounts > Keys).",
  },
  {
    match: "unauthorized_client",
    flows: ["service-account"],
    code: "app-token-refused",
    meaning:
      "the service account may not act for mailboxes with this scope: domain-wide delegation is not granted for it",
    remedy:
      "Google Workspace Admin console > Security > Access and data control > API controls > Domain-wide delegation: add the service account's client ID with the scope https://mail.google.com/.",
  },
  {
    match: "unauthorized_client",
    flows: ["client-credentials"],
    code: "app-token-refused",
    meaning: "the client is not allowed the client credentials grant",
    remedy:
      "Allow the client credentials grant in the client registration (Microsoft: an app registration with a secret or certificate; Keycloak: 'Service accounts roles' on the client).",
  },
  {
    match: "invalid_grant",
    code: "grant-invalid",
    meaning:
      "the grant was rejected: the refresh token was revoked, expired, or already used (rotated away); a Google app left in 'Testing' publishing status issues refresh tokens that die after 7 days",
    remedy:
      "Run `mailserver authorize FILE --out FILE.json` for a new grant. Google: publish the OAuth consent screen ('In production') so refresh tokens stop expiring after 7 days.",
  },
  {
    match: "invalid_client",
    code: "token-request-failed",
    meaning: "client authentication failed: unknown client ID, or a wrong, missing or expired client secret",
    remedy:
      "Check auth.clientId and auth.clientSecret (a public client has no secret; a confidential one needs its current secret).",
  },
  {
    match: "invalid_scope",
    code: "authorization-failed",
    meaning: "the issuer rejected a requested scope",
    remedy:
      "Check auth.scopes: Google rejects offline_access and its device flow does not allow https://mail.google.com/; Microsoft needs https://outlook.office365.com/SMTP.Send and offline_access.",
  },
  {
    match: "unauthorized_client",
    code: "authorization-failed",
    meaning: "the client is not allowed to use this grant type",
    remedy:
      "Allow the flow in the client registration (Microsoft: 'Allow public client flows' for the device flow; Google: a 'Desktop app' client for the loopback flow).",
  },
  {
    match: "server_error",
    code: "issuer-error",
    meaning: "the issuer failed while handling the request (RFC 6749 4.1.2.1)",
    remedy:
      "Try again later and check the issuer's status page. The grant is kept: do not authorize again for this.",
  },
  {
    match: "temporarily_unavailable",
    code: "issuer-error",
    meaning: "the issuer is overloaded or down for maintenance (RFC 6749 4.1.2.1)",
    remedy:
      "Try again later and check the issuer's status page. The grant is kept: do not authorize again for this.",
  },
  {
    match: "access_denied",
    code: "authorization-denied",
    meaning: "the person (or a policy) declined the authorization",
    remedy: "Run `mailserver authorize FILE` again and approve the consent screen.",
  },
  {
    match: "expired_token",
    code: "authorization-expired",
    meaning: "the device code expired before anyone approved it",
    remedy: "Run `mailserver authorize FILE` again and enter the code sooner.",
  },
];

/** Every remedy row: Microsoft's AADSTS codes first (more specific than the OAuth error). */
export const OAUTH_REMEDIES: readonly OAuthRemedy[] = [...MICROSOFT_REMEDIES, ...OAUTH_ERROR_REMEDIES];

/** An OAuth error response as openid-client reports it. */
export interface OAuthErrorBody {
  error: string;
  error_description?: string | undefined;
}

/** Where an error happened, when that decides its remedy. */
export interface OAuthErrorContext {
  flow?: OAuthFlow;
}

/**
 * The remedy entry for an OAuth error: its AADSTS code's row for this flow first, else its
 * OAuth error's; undefined for an unknown error (the registry's generic remedy applies).
 */
export function remedyFor(body: OAuthErrorBody, context: OAuthErrorContext = {}): OAuthRemedy | undefined {
  const aadsts = /AADSTS\d+/.exec(body.error_description ?? "")?.[0];
  const fits = (entry: OAuthRemedy) =>
    !entry.flows ||
    (context.flow === undefined
      ? !entry.flows.every((flow) => APP_ONLY_STEPS.has(flow))
      : entry.flows.includes(context.flow));
  return (
    (aadsts && OAUTH_REMEDIES.find((entry) => entry.match === aadsts && fits(entry))) ||
    OAUTH_REMEDIES.find((entry) => entry.match === body.error && fits(entry))
  );
}

/**
 * Turns an issuer's OAuth error into a MailServerError with a remedy.
 * @param step what was being done, for the message ("the device authorization request")
 */
export function oauthFailure(
  body: OAuthErrorBody,
  step: string,
  cause?: unknown,
  context: OAuthErrorContext = {},
): MailServerError {
  const entry = remedyFor(body, context);
  const description = body.error_description ? `: ${firstLine(body.error_description)}` : "";
  const meaning = entry ? ` - ${entry.meaning}` : "";
  // The app-only flows have no person to send back to authorize: one code for every refusal.
  const appOnly = context.flow !== undefined && APP_ONLY_STEPS.has(context.flow);
  return new MailServerError(
    // invalid_grant always finds its entry (an AADSTS code matches first only when it has one).
    appOnly && entry?.code !== "issuer-error" ? "app-token-refused" : (entry?.code ?? "authorization-failed"),
    `${step} failed with ${body.error}${description}${meaning}`,
    {
      ...(entry && { remedy: entry.remedy }),
      details: { error: body.error, ...(entry && /^AADSTS/.test(entry.match) && { aadsts: entry.match }) },
      ...(cause !== undefined && { cause }),
    },
  );
}

function firstLine(text: string): string {
  const line = text.split(/\r?\n/)[0] ?? "";
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

/**
 * Turns whatever openid-client threw during a step into a MailServerError: the issuer's OAuth
 * error with its remedy, a failed ID-token check, or a network failure from the fetch seam.
 * Messages are built from error codes and claim names only, never from a token.
 */
export function toMailServerError(
  error: unknown,
  step: string,
  context: OAuthErrorContext = {},
): MailServerError {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current; depth++) {
    if (current instanceof MailServerError) return current;
    const body = current as { error?: unknown; error_description?: unknown };
    if (typeof body.error === "string" && current instanceof Error) {
      return oauthFailure(
        {
          error: body.error,
          ...(typeof body.error_description === "string" && { error_description: body.error_description }),
        },
        step,
        current,
        context,
      );
    }
    current = (current as { cause?: unknown }).cause;
  }
  const code = String((error as { code?: unknown })?.code ?? "");
  const detail = [
    (error as Error)?.message,
    ((error as { cause?: Error })?.cause as Error | undefined)?.message,
  ]
    .filter((text): text is string => typeof text === "string" && text.length > 0)
    .join(": ");
  if (/JWT|JWS|OAUTH_KEY_SELECTION/.test(`${code} ${detail}`)) {
    return new MailServerError("id-token-invalid", `the ID token from ${step} failed validation: ${detail}`, {
      details: { check: code },
    });
  }
  if (code === "OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED" || /"iss"/.test(detail)) {
    return new MailServerError(
      "authorization-failed",
      `${step}: the response names another issuer (${detail})`,
      {
        details: { check: code },
      },
    );
  }
  if (code === "OAUTH_TIMEOUT") return new MailServerError("issuer-timeout", `${step} timed out`);
  return new MailServerError("authorization-failed", `${step} failed: ${detail || "unexpected response"}`, {
    details: { check: code },
  });
}
