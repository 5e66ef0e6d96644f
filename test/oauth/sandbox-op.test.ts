import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorize, revokeGrant } from "../../provider/oauth/index.js";
import { introspectAccessToken, type SandboxOP, startSandboxOP } from "../../sandbox/op.js";
import { sandboxAuth } from "../helpers/op-auth.js";

let op: SandboxOP;
beforeAll(async () => {
  op = await startSandboxOP({ deviceFlowInterval: 1, autoApproveDevice: { afterMs: 300 } });
});
afterAll(() => op.stop());

describe("sandbox OP", () => {
  it("approves device codes by itself when asked to (the demo), through its real pages", async () => {
    const grant = await authorize(sandboxAuth(op), { prompt: () => undefined });
    expect(grant.email).toBe(op.account.email);
    expect(op.requests.some((r) => r.method === "POST" && r.path === "/device")).toBe(true);
  });

  it("introspects access tokens for the SMTP sandbox: active with the email, inactive once revoked", async () => {
    const grant = await authorize(sandboxAuth(op), { prompt: () => undefined });
    expect(await introspectAccessToken(op, grant.accessToken)).toEqual({
      active: true,
      sub: op.account.login,
      email: op.account.email,
      scope: "openid email offline_access",
      clientId: op.clients.native.clientId,
    });
    expect(await introspectAccessToken(op, "not-a-token")).toEqual({ active: false });
    await revokeGrant(sandboxAuth(op), { refreshToken: grant.refreshToken });
    expect((await introspectAccessToken(op, grant.accessToken)).active).toBe(false);
  });
});
