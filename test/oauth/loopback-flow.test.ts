import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type AuthorizationPrompt, authorize } from "../../provider/oauth/index.js";
import { type SandboxOP, startSandboxOP } from "../../sandbox/op.js";
import { fakeAuth, rejection, sandboxAuth } from "../helpers/op-auth.js";
import { startFakeIssuer } from "../helpers/op-fake.js";

let op: SandboxOP;
beforeAll(async () => {
  op = await startSandboxOP();
});
afterAll(() => op.stop());

const loopback = (overrides = {}) => sandboxAuth(op, { flow: "loopback", ...overrides });

/** Runs authorize and hands the authorization URL to `person` once it is shown. */
function withPerson(person: (url: URL) => Promise<unknown>) {
  let acting: Promise<unknown> = Promise.resolve();
  const prompt = (shown: AuthorizationPrompt) => {
    if (shown.kind !== "loopback") throw new Error("expected a loopback prompt");
    acting = person(new URL(shown.authorizationUrl));
  };
  return { prompt, noBrowser: true, acted: () => acting };
}

const redirectOf = (url: URL) => new URL(url.searchParams.get("redirect_uri") ?? "");

describe("loopback flow against the sandbox OP", () => {
  it("signs in with PKCE S256, state and nonce on an ephemeral port, and answers the browser", async () => {
    let shown: URL | undefined;
    const person = withPerson(async (url) => {
      shown = url;
      return op.approveAuthorization(url.href);
    });
    const grant = await authorize(loopback(), person);
    const outcome = (await person.acted()) as { callback: { status: number; body: string } };

    expect(shown?.searchParams.get("code_challenge_method")).toBe("S256");
    expect(shown?.searchParams.get("state")).toMatch(/^[\w-]{20,}$/);
    expect(shown?.searchParams.get("nonce")).toMatch(/^[\w-]{20,}$/);
    expect(shown?.searchParams.get("prompt")).toBe("consent");
    const redirect = redirectOf(shown as URL);
    expect(redirect.hostname).toBe("127.0.0.1");
    expect(Number(redirect.port)).toBeGreaterThan(0);
    expect(outcome.callback.status).toBe(200);
    expect(outcome.callback.body).toContain("The mail server setting is authorized.");
    expect(grant.username).toBe(op.account.email);
    await expect(fetch(redirect)).rejects.toThrow(); // listener closed
  });

  it("answers a wrong state, a wrong path and a missing code with 400 and keeps waiting", async () => {
    const answers: number[] = [];
    const person = withPerson(async (url) => {
      const redirect = redirectOf(url);
      const state = url.searchParams.get("state") ?? "";
      for (const bad of [`?code=x&state=wrong`, `?state=${state}`])
        answers.push((await fetch(`${redirect.href}${bad}`)).status);
      answers.push((await fetch(`${redirect.origin}/elsewhere?code=x&state=${state}`)).status);
      return op.approveAuthorization(url.href);
    });
    const grant = await authorize(loopback(), person);
    await person.acted();
    expect(answers).toEqual([400, 400, 400]);
    expect(grant.refreshToken.length).toBeGreaterThan(0);
  });

  it("ignores a second callback (400) and closes the listener afterwards", async () => {
    let second: number | string | undefined;
    const person = withPerson(async (url) => {
      const outcome = await op.approveAuthorization(url.href, { callListener: false });
      const first = fetch(outcome.redirectedTo);
      second = await fetch(outcome.redirectedTo).then(
        (response) => response.status,
        () => "closed",
      );
      return first;
    });
    await authorize(loopback(), person);
    await person.acted();
    expect([400, "closed"]).toContain(second);
  });

  it("ends with authorization-denied on an error=access_denied callback", async () => {
    const person = withPerson((url) => op.approveAuthorization(url.href, { deny: true }));
    const error = await rejection(authorize(loopback(), person));
    const outcome = (await person.acted()) as { callback: { status: number; body: string } };
    expect(error.code).toBe("authorization-denied");
    expect(error.message).toMatch(/^the authorization failed with access_denied/);
    expect(outcome.callback.status).toBe(400);
    expect(outcome.callback.body).toContain("Authorization failed");
  });

  it("closes the listener after an error=access_denied callback", async () => {
    let redirect: URL | undefined;
    const person = withPerson((url) => {
      redirect = redirectOf(url);
      return op.approveAuthorization(url.href, { deny: true });
    });
    const error = await rejection(authorize(loopback(), person));
    await person.acted();
    expect(error.code).toBe("authorization-denied");
    if (!redirect) throw new Error("the authorization URL was never shown");
    await expect(fetch(redirect)).rejects.toThrow();
  });

  it("fails with callback-port-in-use when the redirect port is taken", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const error = await rejection(
        authorize(
          loopback({ redirectUri: `http://127.0.0.1:${port}/callback` }),
          withPerson(async () => undefined),
        ),
      );
      expect(error.code).toBe("callback-port-in-use");
      expect(error.message).toBe(`port ${port} on 127.0.0.1 is already in use`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it("times out, closing the listener, when nobody signs in", async () => {
    let redirect: URL | undefined;
    const person = withPerson(async (url) => {
      redirect = redirectOf(url);
    });
    const error = await rejection(authorize(loopback(), { ...person, timeoutMs: 400 }));
    expect(error.code).toBe("authorization-timeout");
    await expect(fetch(redirect as URL)).rejects.toThrow();
  });
});

describe("RFC 9207: the iss authorization response parameter", () => {
  it("rejects a callback whose iss names another issuer", async () => {
    const fake = await startFakeIssuer({ authorizationIss: "https://mix-up.example" });
    try {
      let page: { status: number; body: string } | undefined;
      const error = await rejection(
        authorize(fakeAuth(fake.issuer, { username: "ops@example.test" }), {
          prompt: () => undefined,
          openBrowser: async (url) => {
            const redirect = await fetch(url, { redirect: "manual" });
            const response = await fetch(redirect.headers.get("location") ?? "");
            page = { status: response.status, body: await response.text() };
          },
        }),
      );
      expect(error.code).toBe("authorization-failed");
      expect(error.message).toContain('"iss"');
      expect(fake.requests.some((r) => r.path === "/token")).toBe(false);
      await vi.waitFor(() => expect(page?.status).toBe(400));
    } finally {
      await fake.stop();
    }
  });
});
