// Issuers that misbehave, reproduced by the sandbox OP's faults: answers that break RFC 6749
// (no token_type, an error object with HTTP 200), server errors, HTML pages, silence. Each is
// named for what it is, with a remedy that fits, and never costs the grant.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { refreshGrant } from "../../provider/oauth/index.js";
import { sandboxGrant } from "../../sandbox/grant.js";
import { type SandboxOP, startSandboxOP } from "../../sandbox/op.js";
import { rejection, sandboxAuth } from "../helpers/op-auth.js";

let op: SandboxOP;
beforeAll(async () => {
  op = await startSandboxOP();
});
afterAll(() => op.stop());
beforeEach(() => op.resetFaults());

const freshToken = async () => (await sandboxGrant(op, { flow: "loopback" })).refreshToken;

describe("refreshGrant against a non-conformant issuer", () => {
  it("names a response without token_type as the issuer's defect, and saves its refresh token first", async () => {
    const token = await freshToken();
    op.faults.omitFromTokenResponse = { fields: ["token_type"], grantTypes: ["refresh_token"] };
    const saved: string[] = [];
    const error = await rejection(
      refreshGrant(sandboxAuth(op), {
        refreshToken: token,
        saveRefreshToken: async (rotated) => {
          saved.push(rotated);
        },
      }),
    );
    expect(error.code).toBe("issuer-nonconformant");
    expect(error.message).toMatch(
      /^the refresh-token grant: http:\/\/127\.0\.0\.1:\d+'s token response breaks RFC 6749 §5\.1: "token_type" is missing or not a string \(it has access_token, expires_in, id_token, refresh_token, scope\)$/,
    );
    expect(error.remedy).toMatch(/authorizing again does not help/);
    expect(error.remedy).not.toMatch(/client registration|authorize `/);
    // The saved token is the live one: the issuer already retired the token that was sent.
    expect(saved).toHaveLength(1);
    expect(saved[0]).not.toBe(token);
    op.resetFaults();
    const next = await refreshGrant(sandboxAuth(op), { refreshToken: saved[0] as string });
    expect(next.accessToken.length).toBeGreaterThan(0);
    expect(`${error.message} ${error.remedy}`).not.toContain(saved[0]);
  });

  it("reports an error object sent with HTTP 200 as that error", async () => {
    op.faults.tokenReply = {
      status: 200,
      json: { error: "invalid_grant", error_description: "Token has been expired or revoked." },
    };
    const error = await rejection(refreshGrant(sandboxAuth(op), { refreshToken: "any" }));
    expect(error.code).toBe("grant-invalid");
    expect(error.message).toMatch(
      /^the refresh-token grant failed with invalid_grant: Token has been expired or revoked\. - .* \(sent with HTTP 200, where RFC 6749 §5\.2 requires 400 or 401\)$/,
    );
    expect(error.message).not.toMatch(/access_token/);
  });

  it("names a 4xx answer without an OAuth error as the issuer's defect", async () => {
    op.faults.tokenReply = { status: 400, json: { message: "bad" } };
    const error = await rejection(refreshGrant(sandboxAuth(op), { refreshToken: "any" }));
    expect(error.code).toBe("issuer-nonconformant");
    expect(error.message).toMatch(/answered HTTP 400 without an OAuth error .*it has message$/);
  });
});

describe("refreshGrant against an issuer that fails for a while", () => {
  it.each([
    [500, "<html><head><title>500 Internal Server Error</title></head><body>oops</body></html>"],
    [502, "<html><head><title>502 Bad Gateway</title></head></html>"],
  ])("HTTP %i with an HTML page is issuer-error, and the grant survives it", async (status, html) => {
    const token = await freshToken();
    op.faults.tokenReply = { status, html };
    const error = await rejection(refreshGrant(sandboxAuth(op), { refreshToken: token }));
    expect(error.code).toBe("issuer-error");
    const title = /<title>(.*)<\/title>/.exec(html)?.[1];
    expect(error.message).toMatch(
      new RegExp(`answered HTTP ${status}, text/html instead of JSON: "${title}"$`),
    );
    expect(error.remedy).toMatch(/^Try again later and check the issuer's status page/);
    expect(error.remedy).toMatch(/do not authorize again/);
    op.resetFaults();
    await expect(refreshGrant(sandboxAuth(op), { refreshToken: token })).resolves.toMatchObject({
      rotated: true,
    });
  });

  it("an HTML page with HTTP 200 is issuer-error too", async () => {
    op.faults.tokenReply = { status: 200, html: "<!doctype html><p>Please sign in to the proxy</p>" };
    const error = await rejection(refreshGrant(sandboxAuth(op), { refreshToken: "any" }));
    expect(error.code).toBe("issuer-error");
    expect(error.message).toMatch(/HTTP 200, text\/html instead of JSON: "Please sign in to the proxy"$/);
  });

  it("an OAuth temporarily_unavailable or server_error is issuer-error", async () => {
    for (const error of ["temporarily_unavailable", "server_error"]) {
      op.faults.tokenReply = { status: 503, json: { error } };
      const failure = await rejection(refreshGrant(sandboxAuth(op), { refreshToken: "any" }));
      expect(failure.code).toBe("issuer-error");
      expect(failure.remedy).toMatch(/^Try again later/);
    }
  });

  it("a 5xx with an unknown JSON error is issuer-error, quoting it", async () => {
    op.faults.tokenReply = { status: 500, json: { error: "internal_failure" } };
    const error = await rejection(refreshGrant(sandboxAuth(op), { refreshToken: "any" }));
    expect(error.code).toBe("issuer-error");
    expect(error.message).toMatch(/answered HTTP 500: "internal_failure"$/);
  });

  it("silence is issuer-timeout", async () => {
    op.faults.tokenDelayMs = 1_500;
    const error = await rejection(refreshGrant(sandboxAuth(op), { refreshToken: "any", timeoutMs: 300 }));
    expect(error.code).toBe("issuer-timeout");
    expect(error.message).toMatch(/did not answer within 0\.3 s$/);
    expect(error.remedy).toMatch(/^Try again later/);
  });

  it("a refused connection is issuer-unreachable", async () => {
    const closed = await startSandboxOP();
    const auth = sandboxAuth(closed);
    await closed.stop();
    const error = await rejection(refreshGrant(auth, { refreshToken: "any" }));
    expect(error.code).toBe("issuer-unreachable");
    expect(error.remedy).toMatch(/^Try again later/);
  });
});
