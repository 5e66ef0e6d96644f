import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Grant, refreshGrant, revokeGrant } from "../../provider/oauth/index.js";
import { sandboxGrant } from "../../sandbox/grant.js";
import { introspectAccessToken, type SandboxOP, startSandboxOP } from "../../sandbox/op.js";
import { rejection, sandboxAuth } from "../helpers/op-auth.js";

let op: SandboxOP;
let noRevocation: SandboxOP;
beforeAll(async () => {
  [op, noRevocation] = await Promise.all([startSandboxOP(), startSandboxOP({ revocation: false })]);
});
afterAll(() => Promise.all([op.stop(), noRevocation.stop()]));

/** A fresh grant by the loopback flow, approved on the OP's pages. */
async function grantFrom(server: SandboxOP, clientSecret?: string): Promise<Grant> {
  const client = clientSecret ? server.clients.confidential : server.clients.native;
  return sandboxGrant(server, {
    flow: "loopback",
    auth: { clientId: client.clientId },
    ...(clientSecret && { clientSecret }),
  });
}

describe("refreshGrant", () => {
  it("returns a fresh access token and the rotated refresh token", async () => {
    const grant = await grantFrom(op);
    const refreshed = await refreshGrant(sandboxAuth(op), { refreshToken: grant.refreshToken });
    expect(refreshed.rotated).toBe(true);
    expect(refreshed.refreshToken).not.toBe(grant.refreshToken);
    expect(refreshed.accessToken).not.toBe(grant.accessToken);
    expect(refreshed.scope).toEqual(["openid", "email", "offline_access"]);
    expect(Date.parse(refreshed.expiresAt ?? "")).toBeGreaterThan(Date.now());
    expect(refreshed.idTokenClaims).toMatchObject({ email: op.account.email });
    // The sandbox SMTP server checks access tokens like this.
    expect(await introspectAccessToken(op, refreshed.accessToken)).toMatchObject({
      active: true,
      email: op.account.email,
    });
  });

  it("works for a confidential client with its secret", async () => {
    const secret = op.clients.confidential.clientSecret;
    const grant = await grantFrom(op, secret);
    const auth = sandboxAuth(op, { clientId: op.clients.confidential.clientId });
    const refreshed = await refreshGrant(auth, { refreshToken: grant.refreshToken, clientSecret: secret });
    expect(refreshed.accessToken.length).toBeGreaterThan(0);
    const error = await rejection(
      refreshGrant(auth, { refreshToken: refreshed.refreshToken, clientSecret: "wrong" }),
    );
    expect(error.code).toBe("token-request-failed");
    expect(error.message).toMatch(/invalid_client/);
    expect(error.message).not.toContain(refreshed.refreshToken);
  });

  it("rejects a rotated-away refresh token with grant-invalid, and the reuse kills the grant", async () => {
    const grant = await grantFrom(op);
    const refreshed = await refreshGrant(sandboxAuth(op), { refreshToken: grant.refreshToken });
    const error = await rejection(refreshGrant(sandboxAuth(op), { refreshToken: grant.refreshToken }));
    expect(error.code).toBe("grant-invalid");
    expect(error.message).toMatch(/^the refresh-token grant failed with invalid_grant/);
    expect(error.remedy).toContain("7 days");
    expect(`${error.message} ${error.remedy}`).not.toContain(grant.refreshToken);
    const after = await rejection(refreshGrant(sandboxAuth(op), { refreshToken: refreshed.refreshToken }));
    expect(after.code).toBe("grant-invalid");
  });
});

describe("revokeGrant", () => {
  it("revokes the refresh token at the revocation endpoint", async () => {
    const grant = await grantFrom(op);
    expect(await revokeGrant(sandboxAuth(op), { refreshToken: grant.refreshToken })).toEqual({
      revoked: true,
    });
    const error = await rejection(refreshGrant(sandboxAuth(op), { refreshToken: grant.refreshToken }));
    expect(error.code).toBe("grant-invalid");
    expect(error.message).not.toContain(grant.refreshToken);
  });

  it("says so, without throwing, when the issuer has no revocation endpoint", async () => {
    const grant = await grantFrom(noRevocation);
    expect(await revokeGrant(sandboxAuth(noRevocation), { refreshToken: grant.refreshToken })).toEqual({
      revoked: false,
      reason:
        "the issuer publishes no revocation endpoint: revoke the grant in the provider's account settings",
    });
  });
});
