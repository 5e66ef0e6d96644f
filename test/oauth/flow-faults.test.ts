// The device and loopback flows against an issuer that refuses or fails (the sandbox OP's faults):
// Microsoft's AADSTS7000218 gets the "Allow public client flows" remedy, a 5xx is issuer-error,
// and the loopback flow's browser page says the authorization failed whenever it failed.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type AuthorizationPrompt, authorize } from "../../provider/oauth/index.js";
import { type SandboxOP, startSandboxOP } from "../../sandbox/op.js";
import type { AuthorizationOutcome } from "../../sandbox/op-approve.js";
import { rejection, sandboxAuth } from "../helpers/op-auth.js";

let op: SandboxOP;
beforeAll(async () => {
  op = await startSandboxOP({ deviceFlowInterval: 1 });
});
afterAll(() => op.stop());
beforeEach(() => op.resetFaults());

const AADSTS7000218 = {
  error: "invalid_client",
  error_description:
    "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'. Trace ID: 0f1e2d3c",
};

describe("device flow", () => {
  it("AADSTS7000218 says to turn on Allow public client flows", async () => {
    op.faults.tokenReply = { status: 401, json: AADSTS7000218 };
    const error = await rejection(authorize(sandboxAuth(op), { prompt: () => undefined, timeoutMs: 10_000 }));
    expect(error.code).toBe("token-request-failed");
    expect(error.message).toMatch(/^the device authorization failed with invalid_client: AADSTS7000218: /);
    expect(error.remedy).toMatch(/^Turn on "Allow public client flows"/);
    expect(error.remedy).not.toMatch(/Check auth\.clientId/);
  });

  it("keeps polling when the issuer sends authorization_pending with HTTP 200", async () => {
    op.faults.tokenReply = { status: 200, json: { error: "authorization_pending" }, times: 2 };
    const grant = await authorize(sandboxAuth(op), {
      prompt: (shown) => {
        if (shown.kind !== "device") return;
        // Approved after the two non-conformant answers.
        setTimeout(() => void op.approveDeviceCode(shown.userCode), 2_200);
      },
      timeoutMs: 20_000,
    });
    expect(grant.username).toBe(op.account.email);
    expect(op.faults.tokenReply).toBeUndefined();
  });

  it("a 502 page while polling is issuer-error, not a refused authorization", async () => {
    op.faults.tokenReply = { status: 502, html: "<title>502 Bad Gateway</title>" };
    const error = await rejection(authorize(sandboxAuth(op), { prompt: () => undefined, timeoutMs: 10_000 }));
    expect(error.code).toBe("issuer-error");
    expect(error.message).toMatch(/^the device authorization: http:\/\/127\.0\.0\.1:\d+ answered HTTP 502/);
  });
});

describe("loopback flow: the browser's page", () => {
  /** Runs authorize; the person approves on the OP's pages, and the test keeps what the browser got. */
  async function signIn(overrides: Parameters<typeof sandboxAuth>[1] = {}, login?: string) {
    let outcome: Promise<AuthorizationOutcome> | undefined;
    const prompt = (shown: AuthorizationPrompt) => {
      if (shown.kind === "loopback")
        outcome = op.approveAuthorization(shown.authorizationUrl, login ? { login } : {});
    };
    const result = await authorize(sandboxAuth(op, { flow: "loopback", ...overrides }), {
      prompt,
      noBrowser: true,
    }).then(
      (grant) => ({ grant, error: undefined }),
      (error: unknown) => ({ grant: undefined, error: error as { code: string; message: string } }),
    );
    const page = (await outcome)?.callback;
    return { ...result, page };
  }

  it("says the authorization failed when the issuer granted no refresh token", async () => {
    const { error, page } = await signIn({ scopes: ["openid", "email"] });
    expect(error?.code).toBe("authorization-failed");
    expect(error?.message).toBe("the issuer granted no refresh token");
    expect(page?.status).toBe(400);
    expect(page?.body).toContain("Authorization failed");
    expect(page?.body).toContain("the issuer granted no refresh token. What to do: Request offline access");
    expect(page?.body).not.toContain("is authorized");
  });

  it("says the authorization failed when no SMTP username can be found", async () => {
    op.faults.omitEmailFromUserinfo = true;
    const { error, page } = await signIn({}, "no-email-account");
    expect(error?.code).toBe("username-missing");
    expect(page?.status).toBe(400);
    expect(page?.body).toContain("the SMTP username must be entered");
    expect(page?.body).not.toContain("is authorized");
  });

  it("shows the issuer's refusal of the code with its remedy (AADSTS54005)", async () => {
    op.faults.tokenReply = {
      status: 400,
      json: {
        error: "invalid_grant",
        error_description:
          "AADSTS54005: OAuth2 Authorization code was already redeemed, please retry with a new valid code.",
      },
    };
    const { error, page } = await signIn();
    expect(error?.code).toBe("authorization-failed");
    expect(page?.status).toBe(400);
    expect(page?.body).toContain("AADSTS54005");
    expect(page?.body).toContain("let only this command receive the redirect");
  });

  it("says it is authorized only when every check passed", async () => {
    const { grant, page } = await signIn();
    expect(grant?.username).toBe(op.account.email);
    expect(page?.status).toBe(200);
    expect(page?.body).toContain("The mail server setting is authorized.");
  });
});
