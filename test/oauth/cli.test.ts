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
import { sandboxAuth } from "../helpers/op-auth.js";

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

async function declaration(name: string, auth: Record<string, unknown>): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  const lines = Object.entries({
    method: "oauth",
    issuer: op.issuer,
    clientId: op.clients.native.clientId,
    ...auth,
  })
    .map(([key, value]) => `  ${key}: ${JSON.stringify(value)}`)
    .join("\n");
  await writeFile(
    file,
    `version: 1\nname: ${name}\nsmtp:\n  host: 127.0.0.1\n  protocol: tls\nauth:\n${lines}\n`,
  );
  return file;
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
        "  hint: Check the issuer URL and the network, then run `mailserver discover ISSUER_URL`.\n",
    );
  });

  it.each([
    [[]],
    [["not a url"]],
    [["a", "b"]],
    [["--nope", "https://x.example"]],
    [[op?.issuer ?? "", "--format", "xml"]],
  ])("exits 2 for usage errors: %j", async (args) => {
    const { io } = fakeIO();
    expect(await main(["discover", ...(args as string[])], io)).toBe(2);
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
    [["authorize"]],
    [["authorize", "missing.yaml"]],
    [["authorize", "x.yaml", "--flow", "implicit"]],
    [["authorize", "x.yaml", "--timeout", "soon"]],
    [["authorize", "x.yaml", "--bogus"]],
  ])("exits 2 for usage errors: %j", async (argv) => {
    const { io } = fakeIO();
    expect(await main(argv, io)).toBe(2);
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
