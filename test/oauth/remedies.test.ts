import { describe, expect, it } from "vitest";
import { OAUTH_REMEDIES, oauthFailure, remedyFor } from "../../provider/oauth/index.js";

describe("OAuth error remedies", () => {
  it.each([
    [
      { error: "invalid_grant", error_description: "Token has been expired or revoked." },
      "grant-invalid",
      /7 days/,
    ],
    [
      { error: "invalid_client", error_description: "Unauthorized" },
      "token-request-failed",
      /auth\.clientSecret/,
    ],
    [{ error: "invalid_scope" }, "authorization-failed", /Google rejects offline_access/],
    [{ error: "unauthorized_client" }, "authorization-failed", /Allow public client flows/],
    [
      {
        error: "invalid_grant",
        error_description: "AADSTS53003: Access has been blocked by Conditional Access policies.",
      },
      "device-flow-blocked",
      /--flow loopback/,
    ],
    [
      {
        error: "invalid_grant",
        error_description: "AADSTS50076: Due to a configuration change made by your administrator...",
      },
      "authorization-failed",
      /complete MFA/,
    ],
    [
      {
        error: "interaction_required",
        error_description: "AADSTS50079: The user is required to use multi-factor authentication.",
      },
      "authorization-failed",
      /aka\.ms\/mfasetup/,
    ],
    [
      {
        error: "invalid_grant",
        error_description: "AADSTS65001: The user or administrator has not consented to use the application.",
      },
      "authorization-failed",
      /admin consent/,
    ],
    [
      {
        error: "unauthorized_client",
        error_description: "AADSTS700016: Application with identifier 'x' was not found in the directory.",
      },
      "authorization-failed",
      /multi-tenant/,
    ],
    [{ error: "server_error" }, "issuer-error", /^Try again later/],
    [{ error: "temporarily_unavailable" }, "issuer-error", /^Try again later/],
    [{ error: "access_denied" }, "authorization-denied", /approve the consent screen/],
    [{ error: "expired_token" }, "authorization-expired", /enter the code sooner/],
  ])("%j -> %s with its remedy", (body, code, remedy) => {
    const error = oauthFailure(body, "the step");
    expect(error.code).toBe(code);
    expect(error.remedy).toMatch(remedy);
    expect(error.message).toMatch(new RegExp(`^the step failed with ${body.error}`));
  });

  it("matches AADSTS codes before the OAuth error", () => {
    expect(remedyFor({ error: "invalid_grant", error_description: "AADSTS65001: consent" })?.match).toBe(
      "AADSTS65001",
    );
  });

  it("covers every entry of the table", () => {
    expect(OAUTH_REMEDIES.map((entry) => entry.match)).toEqual([
      "AADSTS53003",
      "AADSTS50076",
      "AADSTS50079",
      "AADSTS65001",
      "AADSTS700016",
      "invalid_grant",
      "invalid_client",
      "invalid_scope",
      "unauthorized_client",
      "server_error",
      "temporarily_unavailable",
      "access_denied",
      "expired_token",
    ]);
  });

  it("falls back to the registry's remedy for an unknown error", () => {
    const error = oauthFailure({ error: "unheard_of" }, "the step");
    expect(error.code).toBe("authorization-failed");
    expect(error.describe()).toContain("hint: Read the message from the issuer");
  });
});
