import { describe, expect, it } from "vitest";
import { authorize, identityFromClaims, nonSecretClaims } from "../../provider/oauth/index.js";
import { fakeAuth, rejection } from "../helpers/op-auth.js";
import { type FakeIssuer, startFakeIssuer } from "../helpers/op-fake.js";

/** A browser that follows the issuer's redirect to the loopback listener. */
const browser = async (url: string) => {
  const redirect = await fetch(url, { redirect: "manual" });
  void fetch(redirect.headers.get("location") ?? "").catch(() => undefined);
};

/** Runs the loopback flow against an issuer whose token endpoint returns the ID token `claims` builds. */
async function authorizeWith(
  claims: (base: {
    iss: string;
    aud: string;
    nonce: string;
    iat: number;
    exp: number;
  }) => Record<string, unknown>,
  options: { badSignature?: boolean; username?: string } = {},
) {
  const fake: FakeIssuer = await startFakeIssuer({
    token: async (_request, self) => {
      const now = Math.floor(Date.now() / 1000);
      const base = {
        iss: self.issuer,
        aud: "fake-client",
        nonce: self.lastAuthorization()?.nonce ?? "",
        iat: now,
        exp: now + 600,
      };
      const idToken = await self.idToken(
        { sub: "u1", ...claims(base) },
        options.badSignature ? self.otherKey : undefined,
      );
      return { json: { access_token: "at", token_type: "Bearer", refresh_token: "rt", id_token: idToken } };
    },
  });
  try {
    return await authorize(fakeAuth(fake.issuer, options.username ? { username: options.username } : {}), {
      prompt: () => undefined,
      openBrowser: browser,
    });
  } finally {
    await fake.stop();
  }
}

describe("ID token validation (signature, aud, nonce, exp) through openid-client", () => {
  it("accepts a valid ID token and reads the email", async () => {
    const grant = await authorizeWith((base) => ({ ...base, email: "ops@example.test" }));
    expect(grant).toMatchObject({ username: "ops@example.test", email: "ops@example.test" });
    expect(grant.idTokenClaims).not.toHaveProperty("nonce");
  });

  it.each([
    [
      "a bad signature",
      (base: Record<string, unknown>) => base,
      { badSignature: true },
      /signature verification failed/,
    ],
    ["a wrong audience", (base: Record<string, unknown>) => ({ ...base, aud: "someone-else" }), {}, /"aud"/],
    ["a wrong nonce", (base: Record<string, unknown>) => ({ ...base, nonce: "replayed" }), {}, /"nonce"/],
    [
      "an expired token",
      (base: Record<string, unknown>) => ({
        ...base,
        iat: (base.iat as number) - 7200,
        exp: (base.iat as number) - 3600,
      }),
      {},
      /"exp"/,
    ],
  ])("rejects %s with id-token-invalid", async (_name, claims, options, detail) => {
    const error = await rejection(
      authorizeWith((base) => ({ ...claims(base), email: "ops@example.test" }), options),
    );
    expect(error.code).toBe("id-token-invalid");
    expect(error.message).toMatch(detail);
    expect(error.message).not.toMatch(/eyJ/); // no JWT in the message
  });

  it("fails with username-missing without an email claim or a declared username", async () => {
    const error = await rejection(authorizeWith((base) => base));
    expect(error.code).toBe("username-missing");
    const grant = await authorizeWith((base) => base, { username: "declared@example.test" });
    expect(grant.username).toBe("declared@example.test");
  });
});

describe("identityFromClaims", () => {
  const microsoft = { usernameClaims: ["email", "preferred_username", "upn"] };
  it.each([
    [{ email: "a@contoso.com", preferred_username: "b@contoso.com" }, "a@contoso.com"],
    [{ preferred_username: "b@contoso.com", upn: "c@contoso.com" }, "b@contoso.com"],
    [{ preferred_username: "not-an-address", upn: "c@contoso.com" }, "c@contoso.com"],
  ])("Microsoft: email, then preferred_username, then upn (%j)", (claims, email) => {
    expect(identityFromClaims(claims, microsoft)).toEqual({ username: email, fromAddress: email, email });
  });

  it("lets declared username and from address win", () => {
    expect(
      identityFromClaims(
        { email: "token@x.test" },
        { username: "smtp-user", usernameClaims: ["email"] },
        "from@x.test",
      ),
    ).toEqual({ username: "smtp-user", fromAddress: "from@x.test", email: "token@x.test" });
  });

  it("says the SMTP username must be entered when there is no ID token", () => {
    expect(() => identityFromClaims(undefined, { usernameClaims: ["email"] })).toThrow(
      "the SMTP username must be entered: auth.username is not declared; there is no ID token; no identity was recorded with the grant",
    );
  });

  it("drops one-time values and token hashes from stored claims", () => {
    expect(nonSecretClaims({ sub: "s", nonce: "n", at_hash: "h", email: "e@x.test" })).toEqual({
      sub: "s",
      email: "e@x.test",
    });
  });
});
