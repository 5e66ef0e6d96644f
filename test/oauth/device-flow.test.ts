import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AuthorizationPrompt, authorize } from "../../provider/oauth/index.js";
import { type SandboxOP, startSandboxOP } from "../../sandbox/op.js";
import { fakeAuth, rejection, sandboxAuth } from "../helpers/op-auth.js";
import { type FakeReply, startFakeIssuer, startUnapprovedDeviceIssuer } from "../helpers/op-fake.js";

const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
let op: SandboxOP;
beforeAll(async () => {
  op = await startSandboxOP({ deviceFlowInterval: 1 });
});
afterAll(() => op.stop());

/** Approves the device code once it is shown, after `afterMs`, through the OP's real pages. */
function approveWhenShown(afterMs: number, options: { deny?: boolean; login?: string } = {}) {
  const prompts: AuthorizationPrompt[] = [];
  let approval: Promise<void> = Promise.resolve();
  const prompt = (shown: AuthorizationPrompt) => {
    prompts.push(shown);
    if (shown.kind !== "device") throw new Error("expected a device prompt");
    approval = new Promise((resolve) => setTimeout(resolve, afterMs)).then(() =>
      op.approveDeviceCode(shown.userCode, options),
    );
  };
  return { prompts, prompt, approval: () => approval };
}

describe("device flow against the sandbox OP", () => {
  it("polls through authorization_pending at the OP's interval, then returns the grant", async () => {
    const before = op.tokenRequests(DEVICE_GRANT).length;
    const person = approveWhenShown(2500);
    const grant = await authorize(sandboxAuth(op), { prompt: person.prompt });
    await person.approval();

    expect(person.prompts[0]).toMatchObject({ kind: "device", verificationUri: `${op.url}/device` });
    expect(grant).toMatchObject({
      username: op.account.email,
      email: op.account.email,
      clientId: "mailserver-native",
    });
    expect(grant.scope).toEqual(["openid", "email", "offline_access"]);
    expect(grant.idTokenClaims).toMatchObject({
      sub: op.account.login,
      email: op.account.email,
      iss: op.issuer,
    });
    expect(grant.idTokenClaims).not.toHaveProperty("nonce");

    const polls = op.tokenRequests(DEVICE_GRANT).slice(before);
    expect(polls.some((poll) => poll.error === "authorization_pending")).toBe(true);
    expect(polls.at(-1)?.error).toBeUndefined();
    // Never faster than the announced interval (1 s), measured at the OP.
    for (let i = 1; i < polls.length; i++) {
      expect((polls[i]?.at ?? 0) - (polls[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    }
  });

  it("stops with authorization-denied when the person declines", async () => {
    const person = approveWhenShown(200, { deny: true });
    const error = await rejection(authorize(sandboxAuth(op), { prompt: person.prompt }));
    expect(error.code).toBe("authorization-denied");
    expect(error.message).toMatch(/^the device authorization failed with access_denied/);
  });

  it("fails with username-missing when the ID token has no email and no username is declared", async () => {
    const person = approveWhenShown(200, { login: "no-email-account" });
    const error = await rejection(authorize(sandboxAuth(op), { prompt: person.prompt }));
    expect(error.code).toBe("username-missing");
    expect(error.message).toBe(
      "the SMTP username must be entered: auth.username is not declared; the ID token carries no email; userinfo carries none of email; no identity was recorded with the grant",
    );
  });

  it("stops polling at --timeout when nobody approves", async () => {
    const before = op.tokenRequests(DEVICE_GRANT).length;
    const error = await rejection(authorize(sandboxAuth(op), { prompt: () => undefined, timeoutMs: 1500 }));
    expect(error.code).toBe("authorization-timeout");
    expect(error.message).toBe("nobody completed the sign-in within 1.5 s");
    const after = op.tokenRequests(DEVICE_GRANT).length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(op.tokenRequests(DEVICE_GRANT).length).toBe(after);
    expect(after - before).toBeLessThanOrEqual(2);
  });

  it("says when the issuer has no device authorization endpoint", async () => {
    const fake = await startFakeIssuer({
      discovery: (_base, defaults) => ({ json: { ...defaults, device_authorization_endpoint: undefined } }),
    });
    try {
      const error = await rejection(
        authorize(fakeAuth(fake.issuer, { flow: "device" }), { prompt: () => undefined }),
      );
      expect(error.code).toBe("endpoint-missing");
    } finally {
      await fake.stop();
    }
  });
});

describe.concurrent("device flow faults the sandbox cannot produce (scripted issuer)", () => {
  async function withScriptedToken(replies: FakeReply[], run: (issuer: string) => Promise<void>) {
    const fake = await startFakeIssuer({ token: () => replies.shift() ?? { status: 500, json: {} } });
    try {
      await run(fake.issuer);
      return fake.requests.filter((r) => r.path === "/token");
    } finally {
      await fake.stop();
    }
  }
  const tokens = { json: { access_token: "a", token_type: "Bearer", refresh_token: "r", expires_in: 60 } };
  const auth = (issuer: string) =>
    fakeAuth(issuer, {
      flow: "device",
      scopes: ["mail.send", "offline_access"],
      username: "ops@example.test",
    });

  it("adds 5 s to the interval after slow_down", async () => {
    const polls = await withScriptedToken(
      [{ status: 400, json: { error: "slow_down" } }, tokens],
      async (issuer) => {
        const grant = await authorize(auth(issuer), { prompt: () => undefined });
        expect(grant.username).toBe("ops@example.test");
      },
    );
    expect(polls).toHaveLength(2);
    // The interval was 1 s; after slow_down it is 6 s. Measured at the OP, the gap can come out a
    // little short of 6 s when the first poll reached the OP late (a loaded machine), so the bound
    // is 5 s: still far above the 1 s a client that ignored slow_down would wait.
    expect((polls[1]?.at ?? 0) - (polls[0]?.at ?? 0)).toBeGreaterThanOrEqual(5000);
  }, 20_000);

  it("stops with authorization-expired on expired_token", async () => {
    await withScriptedToken([{ status: 400, json: { error: "expired_token" } }], async (issuer) => {
      const error = await rejection(authorize(auth(issuer), { prompt: () => undefined }));
      expect(error.code).toBe("authorization-expired");
    });
  });

  it("stops with authorization-denied on access_denied", async () => {
    await withScriptedToken(
      [
        { status: 400, json: { error: "authorization_pending" } },
        { status: 400, json: { error: "access_denied" } },
      ],
      async (issuer) => {
        const error = await rejection(authorize(auth(issuer), { prompt: () => undefined }));
        expect(error.code).toBe("authorization-denied");
      },
    );
  });

  it("stops at the code's expiry when nobody approves", async () => {
    const fake = await startUnapprovedDeviceIssuer({
      userCode: "U",
      verificationUri: "http://127.0.0.1/verify",
    });
    try {
      const error = await rejection(authorize(auth(fake.issuer), { prompt: () => undefined }));
      expect(error.code).toBe("authorization-expired");
      expect(error.message).toBe("nobody approved the device code within its lifetime (2 s)");
    } finally {
      await fake.stop();
    }
  });

  it("offers the loopback flow when Conditional Access blocks the device flow (AADSTS53003)", async () => {
    const blocked = {
      status: 400,
      json: {
        error: "invalid_grant",
        error_description: "AADSTS53003: Access has been blocked by Conditional Access policies.",
      },
    };
    const fake = await startFakeIssuer({ device: () => blocked });
    try {
      const error = await rejection(authorize(auth(fake.issuer), { prompt: () => undefined }));
      expect(error.code).toBe("device-flow-blocked");
      expect(error.remedy).toContain("--flow loopback");

      const fallbacks: string[] = [];
      const grant = await authorize(auth(fake.issuer), {
        prompt: () => undefined,
        fallbackToLoopback: true,
        onFallback: (reason) => fallbacks.push(reason),
        // The "browser": follow the issuer's redirect to the loopback listener.
        openBrowser: async (url) => {
          const redirect = await fetch(url, { redirect: "manual" });
          void fetch(redirect.headers.get("location") ?? "");
        },
      });
      expect(fallbacks).toHaveLength(1);
      expect(grant.refreshToken).toBe("fake-refresh");
      expect(fake.lastAuthorization()).toMatchObject({ code_challenge_method: "S256" });
    } finally {
      await fake.stop();
    }
  });
});
