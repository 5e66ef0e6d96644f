import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliIO } from "../../cli/io.js";
import { main } from "../../cli/main.js";
import { refreshGrant } from "../../provider/oauth/index.js";
import { type SandboxOP, startSandboxOP } from "../../sandbox/op.js";
import { DISCOVER_JSON_KEYS } from "../helpers/contracts.js";
import { sandboxAuth, writeOAuthDeclaration } from "../helpers/op-auth.js";
import { startFakeIssuer, startUnapprovedDeviceIssuer } from "../helpers/op-fake.js";

let op: SandboxOP;
let dir: string;
beforeAll(async () => {
  op = await startSandboxOP({ deviceFlowInterval: 1 });
  dir = await mkdtemp(join(tmpdir(), "mailserver-authorize-"));
});
afterAll(async () => {
  await op.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A fake terminal; `onStderr` sees each write (the person reading the instructions). */
function fakeIO(onStderr?: (text: string) => void) {
  const out = { stdout: "", stderr: "" };
  const io: CliIO = {
    stdout: { write: (text: string) => (out.stdout += text) },
    stderr: {
      write: (text: string) => {
        out.stderr += text;
        onStderr?.(text);
        return true;
      },
    },
    env: {},
    cwd: dir,
  };
  return { io, out };
}

/** An OAuth declaration for the sandbox OP's native client (or for `issuer`). */
function declaration(name: string, auth: Record<string, unknown>, issuer = op.issuer): Promise<string> {
  return writeOAuthDeclaration(dir, name, { issuer, clientId: op.clients.native.clientId, ...auth });
}

describe("mailserver discover", () => {
  it("prints the endpoints as JSON and exits 0", async () => {
    const { io, out } = fakeIO();
    expect(await main(["discover", op.issuer, "--format", "json"], io)).toBe(0);
    const json = JSON.parse(out.stdout);
    expect(json).toMatchObject({
      issuer: op.issuer,
      tokenEndpoint: `${op.url}/token`,
      userinfoEndpoint: `${op.url}/me`,
    });
    expect(Object.keys(json)).toHaveLength(10);
  });

  it("prints endpoints for people", async () => {
    const { io, out } = fakeIO();
    expect(await main(["discover", op.issuer], io)).toBe(0);
    expect(out.stdout).toMatch(new RegExp(`^Token endpoint: +${op.url}/token$`, "m"));
    expect(out.stdout).toMatch(/^Revocation endpoint: +http/m);
  });

  it("exits 1 with the reason when discovery fails", async () => {
    const { io, out } = fakeIO();
    const closed = await closedPort();
    expect(await main(["discover", `http://127.0.0.1:${closed}/`], io)).toBe(1);
    expect(out.stderr).toBe(
      `mailserver: cannot reach http://127.0.0.1:${closed}: ECONNREFUSED (issuer-unreachable)\n` +
        "  hint: Try again later; check the issuer URL, the network and the issuer's status page (`mailserver discover ISSUER_URL` shows whether it answers). A stored grant is kept: do not authorize again for this.\n",
    );
  });

  it.each([
    [[], "discover needs exactly one ISSUER_URL"],
    [["not a url"], "not a url is not a URL"],
    [["a", "b"], "discover needs exactly one ISSUER_URL"],
    [["--nope", "https://x.example"], "Unknown option '--nope'"],
  ])("exits 2 for usage errors: %j", async (args, message) => {
    const { io, out } = fakeIO();
    expect(await main(["discover", ...(args as string[])], io)).toBe(2);
    expect(out.stderr).toContain(message);
    expect(out.stdout).toBe("");
  });

  it("works as a spawned command (bin/mailserver.js, built)", async () => {
    const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, ["bin/mailserver.js", "discover", op.issuer, "--format", "json"]);
      let stdout = "";
      child.stdout.on("data", (chunk) => {
        stdout += chunk;
      });
      child.on("close", (code) => resolve({ code, stdout }));
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).issuer).toBe(op.issuer);
  });

  it("--format json prints exactly the contract's ten keys, in order, against the sandbox OP", async () => {
    const { io, out } = fakeIO();
    expect(await main(["discover", op.issuer, "--format", "json"], io)).toBe(0);
    const json = JSON.parse(out.stdout);
    expect(Object.keys(json)).toEqual(DISCOVER_JSON_KEYS);
    expect(json).toMatchObject({
      issuer: op.issuer,
      deviceAuthorizationEndpoint: `${op.url}/device/auth`,
      revocationEndpoint: `${op.url}/token/revocation`,
    });
    expect(json.scopesSupported).toEqual(expect.arrayContaining(["openid", "email", "offline_access"]));
  });

  it("--format json prints null (not a missing key) for what the issuer does not publish", async () => {
    const fake = await startFakeIssuer({
      discovery: (_base, defaults) => ({
        json: { ...defaults, device_authorization_endpoint: undefined, scopes_supported: undefined },
      }),
    });
    try {
      const { io, out } = fakeIO();
      expect(await main(["discover", fake.issuer, "--format", "json"], io)).toBe(0);
      const json = JSON.parse(out.stdout);
      expect(Object.keys(json)).toEqual(DISCOVER_JSON_KEYS);
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

  it("exits 2 for --format xml with a reachable issuer (the flag, not the issuer)", async () => {
    const { io, out } = fakeIO();
    expect(await main(["discover", op.issuer, "--format", "xml"], io)).toBe(2);
    expect(out.stderr).toContain("--format must be text or json");
    expect(out.stdout).toBe("");
  });

  it("exits 2 for a URL that is not http(s)", async () => {
    const { io, out } = fakeIO();
    expect(await main(["discover", "ftp://127.0.0.1/"], io)).toBe(2);
    expect(out.stderr).toContain("is not an http(s) URL");
  });
});

describe("mailserver authorize", () => {
  it("device flow: instructions on stderr, grant in a 0600 file, no token on stdout", async () => {
    const file = await declaration("device-ok", {
      scopes: ["openid", "email", "offline_access"],
      flow: "device",
    });
    let approval: Promise<void> | undefined;
    const { io, out } = fakeIO((text) => {
      const shown = /open (\S+) and enter the code (\S+)/.exec(text);
      if (shown?.[1] === `${op.url}/device` && shown[2]) approval = op.approveDeviceCode(shown[2]);
    });
    expect(await main(["authorize", file, "--out", "grant.json", "--format", "json"], io)).toBe(0);
    await approval;

    expect(JSON.parse(out.stdout)).toEqual({
      username: op.account.email,
      email: op.account.email,
      scopes: ["openid", "email", "offline_access"],
      stored: "grant.json",
    });
    const path = join(dir, "grant.json");
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const grant = JSON.parse(await readFile(path, "utf8"));
    expect(Object.keys(grant)).toEqual([
      "refreshToken",
      "scope",
      "obtainedAt",
      "issuer",
      "clientId",
      "username",
      "email",
      "idTokenClaims",
    ]);
    expect(out.stdout).not.toContain(grant.refreshToken);
    expect(out.stderr).not.toContain(grant.refreshToken);
    // The stored grant is a working one.
    const refreshed = await refreshGrant(sandboxAuth(op), { refreshToken: grant.refreshToken });
    expect(refreshed.rotated).toBe(true);
  });

  it("loopback flow with --no-browser: the full authorization URL on stderr", async () => {
    const file = await declaration("loopback-ok", {
      scopes: "openid email offline_access",
      flow: "loopback",
      redirectUri: "http://127.0.0.1:0/callback",
    });
    let approval: Promise<unknown> | undefined;
    const { io, out } = fakeIO((text) => {
      const url = /^(http:\/\/127\.0\.0\.1:\d+\/auth\?\S+)$/m.exec(text)?.[1];
      if (url) approval = op.approveAuthorization(url);
    });
    expect(await main(["authorize", file, "--no-browser"], io)).toBe(0);
    expect(await approval).toMatchObject({ callback: { status: 200 } });
    expect(out.stderr).toContain("Open this URL in a browser to sign in:\n");
    expect(out.stdout).toBe(`Authorized as ${op.account.email}\nScopes: openid email offline_access\n`);
  });

  it("--timeout stops the device flow with exit 1 and no token", async () => {
    const file = await declaration("device-timeout", {
      scopes: ["openid", "email", "offline_access"],
      flow: "device",
    });
    const { io, out } = fakeIO();
    expect(await main(["authorize", file, "--timeout", "1"], io)).toBe(1);
    expect(out.stderr).toContain(
      "mailserver: nobody completed the sign-in within 1 s (authorization-timeout)",
    );
    expect(out.stdout).toBe("");
  });

  it("--timeout stops the loopback flow and closes the listener", async () => {
    const file = await declaration("loopback-timeout", {
      scopes: ["openid", "offline_access"],
      flow: "loopback",
    });
    let redirectUri = "";
    const { io, out } = fakeIO((text) => {
      const url = /^(http:\/\/\S+\/auth\?\S+)$/m.exec(text)?.[1];
      if (url) redirectUri = new URL(url).searchParams.get("redirect_uri") ?? "";
    });
    expect(await main(["authorize", file, "--no-browser", "--timeout", "0.5"], io)).toBe(1);
    expect(out.stderr).toContain("(authorization-timeout)");
    await expect(fetch(redirectUri)).rejects.toThrow();
  });

  it("exits 1 when the person declines", async () => {
    const file = await declaration("device-denied", { scopes: ["openid", "offline_access"], flow: "device" });
    const { io, out } = fakeIO((text) => {
      const code = /enter the code (\S+)/.exec(text)?.[1];
      if (code) void op.approveDeviceCode(code, { deny: true });
    });
    expect(await main(["authorize", file], io)).toBe(1);
    expect(out.stderr).toContain("(authorization-denied)");
  });

  it.each([
    [["authorize"], "authorize needs exactly one DECLARATION file"],
    [["authorize", "missing.yaml"], "missing.yaml: no such file"],
  ])("exits 2 without a readable declaration: %j", async (argv, message) => {
    const { io, out } = fakeIO();
    expect(await main(argv, io)).toBe(2);
    expect(out.stderr).toContain(message);
  });
});

describe("mailserver authorize: usage errors exit 2 for the flag under test (the declaration exists)", () => {
  const deviceRequests = () => op.requests.filter((r) => r.path === "/device/auth").length;

  it.each([
    [["--flow", "implicit"], "--flow must be device or loopback"],
    [["--timeout", "soon"], "--timeout must be a positive number of seconds"],
    [["--timeout", "0"], "--timeout must be a positive number of seconds"],
    [["--format", "xml"], "--format must be text or json"],
    [["--bogus"], "Unknown option '--bogus'"],
  ])("authorize DECLARATION %j", async (flags, message) => {
    const file = await declaration("usage-device", { scopes: "openid email offline_access", flow: "device" });
    const before = deviceRequests();
    const { io, out } = fakeIO();
    expect(await main(["authorize", file, ...flags], io)).toBe(2);
    expect(out.stderr).toContain(message);
    expect(out.stdout).toBe("");
    // Nothing was started: no device code was requested.
    expect(deviceRequests()).toBe(before);
  });

  it("authorize on a Basic-auth declaration", async () => {
    const file = join(dir, "basic.yaml");
    await writeFile(
      file,
      "version: 1\nname: basic\nsmtp: { host: 127.0.0.1 }\nauth: { method: basic, username: u, password: { env: P } }\nfrom: { address: a@example.org }\n",
    );
    const { io, out } = fakeIO();
    expect(await main(["authorize", file], io)).toBe(2);
    expect(out.stderr).toContain("does not use OAuth");
  });
});

describe("mailserver authorize faults: exit 1, the code, no token printed, the listener closed", () => {
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
            access_token: "bad-id-access-token-7f3a",
            token_type: "Bearer",
            refresh_token: "bad-id-refresh-token-91bc",
            id_token: idToken,
          },
        };
      },
    });
    try {
      const file = await declaration(
        "bad-id-token",
        {
          scopes: "openid email offline_access",
          flow: "loopback",
          redirectUri: "http://127.0.0.1:0/callback",
        },
        fake.issuer,
      );
      let redirectUri = "";
      let browsing: Promise<unknown> = Promise.resolve();
      const { io, out } = fakeIO((text) => {
        const url = /^(http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+)$/m.exec(text)?.[1];
        if (url) {
          redirectUri = new URL(url).searchParams.get("redirect_uri") ?? "";
          // The person's browser: follow the issuer's redirect to the loopback listener.
          browsing = fetch(url, { redirect: "manual" }).then((response) =>
            fetch(response.headers.get("location") ?? "").then((page) => page.text()),
          );
        }
      });
      const code = await main(["authorize", file, "--no-browser", "--timeout", "20"], io);
      await browsing.catch(() => undefined);
      expect(code).toBe(1);
      expect(out.stderr).toContain("(id-token-invalid)");
      expect(out.stdout).toBe("");
      for (const secret of ["bad-id-access-token-7f3a", "bad-id-refresh-token-91bc", "eyJ"]) {
        expect(out.stdout + out.stderr).not.toContain(secret);
      }
      expect(new URL(redirectUri).port).not.toBe("0");
      await expect(fetch(redirectUri)).rejects.toThrow(); // listener closed
    } finally {
      await fake.stop();
    }
  });

  it("the device code's expiry: authorization-expired, after instructions exactly as issued", async () => {
    const fake = await startUnapprovedDeviceIssuer({
      userCode: "EXPIRING-CODE",
      verificationUri: "http://127.0.0.1:1/verify",
    });
    try {
      const file = await declaration(
        "device-expired",
        { scopes: "openid email offline_access", flow: "device", username: "ops@example.test" },
        fake.issuer,
      );
      const { io, out } = fakeIO();
      expect(await main(["authorize", file], io)).toBe(1);
      // The instructions carry the verification URI and the user code exactly as issued.
      expect(out.stderr).toContain("open http://127.0.0.1:1/verify and enter the code EXPIRING-CODE");
      expect(out.stderr).toContain("(authorization-expired)");
      expect(out.stdout).toBe("");
    } finally {
      await fake.stop();
    }
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
