// One case per row of the OAuth remedy tables (Microsoft's AADSTS codes per flow, and RFC 6749 /
// RFC 8628 errors): the error as the issuer words it gets that row's code and remedy.
import { describe, expect, it } from "vitest";
import {
  MICROSOFT_REMEDIES,
  OAUTH_ERROR_REMEDIES,
  OAUTH_REMEDIES,
  type OAuthFlow,
  oauthFailure,
  remedyFor,
} from "../../provider/oauth/remedies.js";

interface Case {
  body: { error: string; error_description?: string };
  /** The flow it happens in (the row's flows decide the remedy). */
  flow?: OAuthFlow;
  code: string;
  remedy: RegExp;
}

const aad = (code: string, text: string, error = "invalid_grant") => ({
  error,
  error_description: `${code}: ${text}\r\nTrace ID: 0f1e2d3c-0000-0000-0000-000000000000\r\nTimestamp: 2026-11-30 09:00:00Z`,
});

/** Keyed by the row: its match and the flows it is for. */
const MICROSOFT_CASES: Record<string, Case> = {
  AADSTS7000215: {
    body: aad(
      "AADSTS7000215",
      "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
      "invalid_client",
    ),
    code: "token-request-failed",
    remedy: /Certificates & secrets\), copy its Value/,
  },
  "AADSTS700027 client-credentials": {
    body: aad(
      "AADSTS700027",
      "The certificate with identifier used to sign the client assertion is not registered on application.",
      "invalid_client",
    ),
    flow: "client-credentials",
    code: "app-token-refused",
    remedy: /auth\.clientAssertion\.certificate \(its thumbprint is sent as x5t\)/,
  },
  "AADSTS1002012 client-credentials": {
    body: aad(
      "AADSTS1002012",
      "The provided value for scope https://outlook.office365.com/SMTP.Send is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.",
      "invalid_scope",
    ),
    flow: "client-credentials",
    code: "app-token-refused",
    remedy: /https:\/\/outlook\.office365\.com\/\.default/,
  },
  "AADSTS53003 device": {
    body: aad("AADSTS53003", "Access has been blocked by Conditional Access policies.", "access_denied"),
    flow: "device",
    code: "device-flow-blocked",
    remedy: /--flow loopback/,
  },
  "AADSTS53003 loopback,refresh": {
    body: aad("AADSTS53003", "Access has been blocked by Conditional Access policies."),
    flow: "refresh",
    code: "authorization-failed",
    remedy: /Sign-in logs/,
  },
  AADSTS50076: {
    body: aad("AADSTS50076", "Due to a configuration change made by your administrator, you must use MFA."),
    code: "authorization-failed",
    remedy: /complete MFA/,
  },
  AADSTS50079: {
    body: aad(
      "AADSTS50079",
      "The user is required to use multi-factor authentication.",
      "interaction_required",
    ),
    code: "authorization-failed",
    remedy: /aka\.ms\/mfasetup/,
  },
  AADSTS65001: {
    body: aad("AADSTS65001", "The user or administrator has not consented to use the application."),
    code: "authorization-failed",
    remedy: /admin consent/,
  },
  AADSTS700016: {
    body: aad(
      "AADSTS700016",
      "Application with identifier 'x' was not found in the directory.",
      "unauthorized_client",
    ),
    code: "authorization-failed",
    remedy: /multi-tenant/,
  },
  "AADSTS7000218 device,loopback,refresh": {
    body: aad(
      "AADSTS7000218",
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      "invalid_client",
    ),
    flow: "device",
    code: "token-request-failed",
    remedy: /Allow public client flows/,
  },
  "AADSTS700025 loopback,refresh": {
    body: aad(
      "AADSTS700025",
      "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
      "invalid_client",
    ),
    flow: "loopback",
    code: "token-request-failed",
    remedy: /Remove auth\.clientSecret/,
  },
  "AADSTS50011 loopback": {
    body: aad(
      "AADSTS50011",
      "The redirect URI 'http://127.0.0.1:5123/callback' specified in the request does not match.",
      "invalid_request",
    ),
    flow: "loopback",
    code: "authorization-failed",
    remedy: /Mobile and desktop applications/,
  },
  "AADSTS54005 loopback": {
    body: aad(
      "AADSTS54005",
      "OAuth2 Authorization code was already redeemed, please retry with a new valid code.",
    ),
    flow: "loopback",
    code: "authorization-failed",
    remedy: /only this command receive the redirect/,
  },
  "AADSTS50020 device,loopback": {
    body: aad(
      "AADSTS50020",
      "User account 'x@gmail.com' from identity provider 'live.com' does not exist in tenant 'Contoso'.",
    ),
    flow: "loopback",
    code: "authorization-failed",
    remedy: /an account of the tenant/,
  },
  "AADSTS50105 device,loopback": {
    body: aad(
      "AADSTS50105",
      "Your administrator has configured the application to block users unless they are specifically granted access.",
    ),
    flow: "device",
    code: "authorization-failed",
    remedy: /Users and groups/,
  },
  AADSTS50194: {
    body: aad(
      "AADSTS50194",
      "Application 'x' is not configured as a multi-tenant application.",
      "invalid_request",
    ),
    code: "authorization-failed",
    remedy: /tenant's issuer/,
  },
  AADSTS90002: {
    body: aad("AADSTS90002", "Tenant 'contoso.example' not found.", "invalid_request"),
    code: "authorization-failed",
    remedy: /Directory \(tenant\) ID/,
  },
  AADSTS70011: {
    body: aad(
      "AADSTS70011",
      "The provided value for the input parameter 'scope' is not valid.",
      "invalid_scope",
    ),
    code: "authorization-failed",
    remedy: /outlook\.office\.com\/SMTP\.Send/,
  },
  AADSTS500011: {
    body: aad(
      "AADSTS500011",
      "The resource principal named https://outlook.office365.com was not found in the tenant.",
      "invalid_resource",
    ),
    code: "authorization-failed",
    remedy: /has Exchange Online/,
  },
  "AADSTS70008 refresh": {
    body: aad(
      "AADSTS70008",
      "The provided authorization code or refresh token has expired due to inactivity.",
    ),
    flow: "refresh",
    code: "grant-invalid",
    remedy: /mailserver authorize FILE --out FILE\.json/,
  },
  "AADSTS700082 refresh": {
    body: aad(
      "AADSTS700082",
      "The refresh token has expired due to inactivity. The token was issued on 2026-08-01.",
    ),
    flow: "refresh",
    code: "grant-invalid",
    remedy: /at least monthly/,
  },
  "AADSTS50173 refresh": {
    body: aad(
      "AADSTS50173",
      "The provided grant has expired due to it being revoked, a fresh auth token is needed.",
    ),
    flow: "refresh",
    code: "grant-invalid",
    remedy: /mailserver authorize FILE --out FILE\.json/,
  },
  "AADSTS70043 refresh": {
    body: aad(
      "AADSTS70043",
      "The refresh token has expired or is invalid due to sign-in frequency checks by conditional access.",
    ),
    flow: "refresh",
    code: "grant-invalid",
    remedy: /exclude this app/,
  },
};

const OAUTH_CASES: Record<string, Case> = {
  "invalid_grant service-account": {
    body: {
      error: "invalid_grant",
      error_description:
        "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
    },
    flow: "service-account",
    code: "app-token-refused",
    remedy: /Check the clock/,
  },
  "unauthorized_client service-account": {
    body: {
      error: "unauthorized_client",
      error_description:
        "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
    },
    flow: "service-account",
    code: "app-token-refused",
    remedy: /Domain-wide delegation: add the service account's client ID/,
  },
  "unauthorized_client client-credentials": {
    body: { error: "unauthorized_client", error_description: "unauthorized_client" },
    flow: "client-credentials",
    code: "app-token-refused",
    remedy: /Service accounts roles/,
  },
  invalid_grant: {
    body: { error: "invalid_grant", error_description: "Token has been expired or revoked." },
    code: "grant-invalid",
    remedy: /7 days/,
  },
  invalid_client: {
    body: { error: "invalid_client", error_description: "Unauthorized" },
    code: "token-request-failed",
    remedy: /auth\.clientSecret/,
  },
  invalid_scope: {
    body: { error: "invalid_scope" },
    code: "authorization-failed",
    remedy: /Google rejects offline_access/,
  },
  unauthorized_client: {
    body: { error: "unauthorized_client" },
    code: "authorization-failed",
    remedy: /Allow public client flows/,
  },
  server_error: { body: { error: "server_error" }, code: "issuer-error", remedy: /^Try again later/ },
  temporarily_unavailable: {
    body: { error: "temporarily_unavailable" },
    code: "issuer-error",
    remedy: /^Try again later/,
  },
  access_denied: {
    body: { error: "access_denied" },
    code: "authorization-denied",
    remedy: /approve the consent screen/,
  },
  expired_token: {
    body: { error: "expired_token" },
    code: "authorization-expired",
    remedy: /enter the code sooner/,
  },
};

const key = (entry: { match: string; flows?: readonly string[] }) =>
  entry.flows ? `${entry.match} ${entry.flows.join(",")}` : entry.match;

describe("OAuth remedy tables", () => {
  it("have one case here per row: Microsoft's AADSTS table and the RFC errors' table", () => {
    expect(Object.keys(MICROSOFT_CASES).sort()).toEqual(MICROSOFT_REMEDIES.map(key).sort());
    expect(Object.keys(OAUTH_CASES).sort()).toEqual(OAUTH_ERROR_REMEDIES.map(key).sort());
    expect(OAUTH_REMEDIES).toEqual([...MICROSOFT_REMEDIES, ...OAUTH_ERROR_REMEDIES]);
  });

  for (const [row, c] of Object.entries({ ...MICROSOFT_CASES, ...OAUTH_CASES })) {
    it(`${row}: the issuer's words get the row's code and remedy`, () => {
      const entry = remedyFor(c.body, c.flow ? { flow: c.flow } : {});
      expect(entry && key(entry)).toBe(row);
      const error = oauthFailure(c.body, "the step", undefined, c.flow ? { flow: c.flow } : {});
      expect(error.code).toBe(c.code);
      expect(error.remedy).toMatch(c.remedy);
      expect(error.message).toMatch(new RegExp(`^the step failed with ${c.body.error}`));
      // Only the description's first line is quoted (no trace IDs), and the meaning follows.
      expect(error.message).not.toMatch(/Trace ID/);
    });
  }

  it("applies the app-only rows only in their step, and makes every app-only refusal app-token-refused", () => {
    expect(oauthFailure({ error: "invalid_grant" }, "s").remedy).toMatch(/mailserver authorize/);
    expect(oauthFailure({ error: "unauthorized_client" }, "s").remedy).toMatch(/Allow public client flows/);
    const secret = oauthFailure({ error: "invalid_client" }, "s", undefined, { flow: "client-credentials" });
    expect(secret).toMatchObject({ code: "app-token-refused", details: { error: "invalid_client" } });
    expect(secret.remedy).toMatch(/auth\.clientSecret/);
    // The issuer's own failure stays issuer-error: nothing is wrong with the app.
    expect(oauthFailure({ error: "server_error" }, "s", undefined, { flow: "service-account" }).code).toBe(
      "issuer-error",
    );
  });

  it("matches AADSTS codes before the OAuth error", () => {
    expect(remedyFor({ error: "invalid_grant", error_description: "AADSTS65001: consent" })?.match).toBe(
      "AADSTS65001",
    );
  });

  it("gives AADSTS53003 the device flow's remedy only in the device flow", () => {
    const body = aad("AADSTS53003", "Access has been blocked by Conditional Access policies.");
    expect(oauthFailure(body, "s", undefined, { flow: "device" }).code).toBe("device-flow-blocked");
    expect(oauthFailure(body, "s", undefined, { flow: "loopback" }).code).toBe("authorization-failed");
    expect(oauthFailure(body, "s", undefined, { flow: "refresh" }).remedy).not.toMatch(/--flow loopback/);
  });

  it("falls back to the OAuth error's row for an unknown AADSTS code, and to the registry's remedy for an unknown error", () => {
    expect(remedyFor(aad("AADSTS9999999", "Something new.", "invalid_client"))?.match).toBe("invalid_client");
    const error = oauthFailure({ error: "unheard_of" }, "the step");
    expect(error.code).toBe("authorization-failed");
    expect(error.describe()).toContain("hint: Read the message from the issuer");
  });
});
