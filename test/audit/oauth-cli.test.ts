// Audit of the OAuth issue's contracts that the first tests left weak: usage errors that exited 2
// for another reason than the one under test (a missing file, an issuer evaluated before the
// sandbox started), the discover JSON keys checked only by count, and faults (invalid ID token,
// access_denied) whose listener was never checked closed. Real servers: the sandbox OP, and the
// scripted issuer only for an ID token a certified OP never issues (a bad signature).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AuthorizationPrompt, authorize } from "../../provider/oauth/index.js";
import { type SandboxOP, startSandboxOP } from "../../sandbox/op.js";
import { runCli } from "../helpers/cli.js";
import { rejection, sandboxAuth } from "../helpers/op-auth.js";
import { startFakeIssuer } from "../helpers/op-fake.js";

let op: SandboxOP;
let dir: string;
let deviceFile: string;
beforeAll(async () => {
  op = await startSandboxOP({ deviceFlowInterval: 1 });
  dir = await mkdtemp(join(tmpdir(), "mailserver-audit-oauth-"));
  deviceFile = await declaration("audit-device", op.issuer, { flow: "device" });
});
afterAll(async () => {
  await op.stop();
  await rm(dir, { recursive: true, force: true });
});

async function declaration(
  name: string,
  issuer: string,
  auth: Record<string, unknown> = {},
): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  const fields = {
    method: "oauth",
    issuer,
    clientId: "mailserver-native",
    scopes: "openid email offline_access",
  };
  const lines = Object.entries({ ...fields, ...auth })
    .map(([key, value]) => `  ${key}: ${JSON.stringify(value)}`)
    .join("\n");
  await writeFile(
    file,
    `version: 1\nname: ${name}\nsmtp:\n  host: 127.0.0.1\n  protocol: tls\nauth:\n${lines}\n`,
  );
  return file;
}

describe("usage errors exit 2 for the flag under test (the declaration exists)", () => {
  it.each([
    [["--flow", "implicit"], "--flow must be device or loopback"],
    [["--timeout", "soon"], "--timeout must be a positive number of seconds"],
    [["--timeout", "0"], "--timeout must be a positive number of seconds"],
    [["--format", "xml"], "--format must be text or json"],
    [["--bogus"], "Unknown option '--bogus'"],
  ])("authorize DECLARATION %j", async (flags, message) => {
    const run = await runCli(["authorize", deviceFile, ...flags], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stdout).toBe("");
    // Nothing was started: no device code was requested.
    expect(op.requests.filter((r) => r.path === "/device/auth")).toEqual([]);
  });

  it("authorize on a Basic-auth declaration", async () => {
    const file = join(dir, "basic.yaml");
    await writeFile(
      file,
      "version: 1\nname: basic\nsmtp: { host: 127.0.0.1 }\nauth: { method: basic, username: u, password: { env: P } }\nfrom: { address: a@example.org }\n",
    );
    const run = await runCli(["authorize", file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("does not use OAuth");
  });

  it("discover ISSUER --format xml, with a reachable issuer", async () => {
    const run = await runCli(["discover", op.issuer, "--format", "xml"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--format must be text or json");
    expect(run.stdout).toBe("");
  });

  it("discover with a URL that is not http(s)", async () => {
    const run = await runCli(["discover", "ftp://127.0.0.1/"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("is not an http(s) URL");
  });
});

describe("discover --format json: the contract's keys, null where absent", () => {
  it("prints exactly the ten keys, in order, against the sandbox OP", async () => {
    const run = await runCli(["discover", op.issuer, "--format", "json"]);
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout);
    expect(Object.keys(json)).toEqual([
      "issuer",
      "authorizationEndpoint",
      "tokenEndpoint",
      "deviceAuthorizationEndpoint",
      "revocationEndpoint",
      "userinfoEndpoint",
      "jwksUri",
      "scopesSupported",
      "codeChallengeMethodsSupported",
      "grantTypesSupported",
    ]);
    expect(json).toMatchObject({
      issuer: op.issuer,
      deviceAuthorizationEndpoint: `${op.url}/device/auth`,
      revocationEndpoint: `${op.url}/token/revocation`,
    });
    expect(json.scopesSupported).toEqual(expect.arrayContaining(["openid", "email", "offline_access"]));
  });

  it("prints null (not a missing key) for what the issuer does not publish", async () => {
    const fake = await startFakeIssuer({
      discovery: (_base, defaults) => ({
        json: { ...defaults, device_authorization_endpoint: undefined, scopes_supported: undefined },
      }),
    });
    try {
      const run = await runCli(["discover", fake.issuer, "--format", "json"]);
      expect(run.code).toBe(0);
      const json = JSON.parse(run.stdout);
      expect(Object.keys(json)).toHaveLength(10);
      expect(json).toMatchObject({
        deviceAuthorizationEndpoint: null,
        revocationEndpoint: null,
        userinfoEndpoint: null,
        scopesSupported: null,
        grantTypesSupported: null,
      });
    } finally {
      await fake.stop();
    }
  });
});

describe("authorize faults through the CLI: exit 1, the code, no token, the listener closed", () => {
  it("an ID token with a bad signature: id-token-invalid", async () => {
    // A certified OP never signs with a foreign key: the scripted issuer does (see its header).
    const fake = await startFakeIssuer({
      token: async (_request, self) => {
        const now = Math.floor(Date.now() / 1000);
        const idToken = await self.idToken(
          {
            sub: "u1",
            iss: self.issuer,
            aud: "mailserver-native",
            nonce: self.lastAuthorization()?.nonce ?? "",
            iat: now,
            exp: now + 600,
            email: "ops@example.test",
          },
          self.otherKey,
        );
        return {
          json: {
            access_token: "audit-access-token-7f3a",
            token_type: "Bearer",
            refresh_token: "audit-refresh-token-91bc",
            id_token: idToken,
          },
        };
      },
    });
    try {
      const file = await declaration("audit-bad-id-token", fake.issuer, {
        flow: "loopback",
        redirectUri: "http://127.0.0.1:0/callback",
      });
      let redirectUri = "";
      let browsing: Promise<unknown> = Promise.resolve();
      let stderr = "";
      let stdout = "";
      const { main } = await import("../../cli/main.js");
      const code = await main(["authorize", file, "--no-browser", "--timeout", "20"], {
        stdout: { write: (text: string) => (stdout += text) },
        stderr: {
          write: (text: string) => {
            stderr += text;
            const url = /^(http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+)$/m.exec(text)?.[1];
            if (url) {
              redirectUri = new URL(url).searchParams.get("redirect_uri") ?? "";
              // The person's browser: follow the issuer's redirect to the loopback listener.
              browsing = fetch(url, { redirect: "manual" }).then((response) =>
                fetch(response.headers.get("location") ?? "").then((page) => page.text()),
              );
            }
            return true;
          },
        },
        env: {},
        cwd: dir,
      });
      await browsing.catch(() => undefined);
      expect(code).toBe(1);
      expect(stderr).toContain("(id-token-invalid)");
      expect(stdout).toBe("");
      for (const secret of ["audit-access-token-7f3a", "audit-refresh-token-91bc", "eyJ"]) {
        expect(stdout + stderr).not.toContain(secret);
      }
      expect(new URL(redirectUri).port).not.toBe("0");
      await expect(fetch(redirectUri)).rejects.toThrow(); // listener closed
    } finally {
      await fake.stop();
    }
  });

  it("an access_denied callback closes the listener (library)", async () => {
    let redirect = "";
    let acting: Promise<unknown> = Promise.resolve();
    const error = await rejection(
      authorize(sandboxAuth(op, { flow: "loopback" }), {
        noBrowser: true,
        prompt: (shown: AuthorizationPrompt) => {
          if (shown.kind !== "loopback") return;
          redirect = new URL(shown.authorizationUrl).searchParams.get("redirect_uri") ?? "";
          acting = op.approveAuthorization(shown.authorizationUrl, { deny: true });
        },
      }),
    );
    await acting;
    expect(error.code).toBe("authorization-denied");
    await expect(fetch(redirect)).rejects.toThrow();
  });

  it("the device flow's expiry through the CLI: exit 1 with authorization-expired", async () => {
    const fake = await startFakeIssuer({
      device: () => ({
        json: {
          device_code: "d",
          user_code: "AUDIT-CODE",
          verification_uri: "http://127.0.0.1:1/verify",
          expires_in: 2,
          interval: 1,
        },
      }),
      token: () => ({ status: 400, json: { error: "authorization_pending" } }),
    });
    try {
      const file = await declaration("audit-expired", fake.issuer, {
        flow: "device",
        username: "ops@example.test",
      });
      const run = await runCli(["authorize", file], { cwd: dir });
      expect(run.code).toBe(1);
      // The instructions carry the verification URI and the user code exactly as issued.
      expect(run.stderr).toContain("open http://127.0.0.1:1/verify and enter the code AUDIT-CODE");
      expect(run.stderr).toContain("(authorization-expired)");
      expect(run.stdout).toBe("");
    } finally {
      await fake.stop();
    }
  });
});
