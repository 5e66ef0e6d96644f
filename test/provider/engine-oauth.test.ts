/**
 * The OAuth lifecycle through the real engine protocol: the dynamic provider host runs the device
 * flow against the sandbox OP, prints the code so that the engine passes it through (the test
 * reads it from the host's output after the port line, as the engine does), the sandbox's real
 * pages approve it, and XOAUTH2 is verified at the sandbox SMTP server with the OP's access token.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MailServerDeclaration } from "../../provider/declaration/generated/declaration.js";
import { normalizeDeclaration } from "../../provider/declaration/normalize.js";
import { SECRET_OUTPUT_KEYS } from "../../provider/lifecycle/state.js";
import { refreshGrant } from "../../provider/oauth/tokens.js";
import { type EngineServer, startEngineServer } from "../../sandbox/engine-server.js";
import { sandboxDeclaredAuth } from "../../sandbox/grant.js";
import { accessTokenVerifier, type SandboxOP, startSandboxOP } from "../../sandbox/op.js";
import {
  ProviderCallError,
  type ProviderHost,
  startProviderHost,
  urnOf,
} from "../../sandbox/provider-host.js";
import { type SandboxSmtp, startSandboxSmtp } from "../../sandbox/smtp.js";
import { type CapturedResource, captureMailServer } from "../helpers/engine-capture.js";

const root = process.cwd();
const urn = urnOf("corp-mail");
const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
let op: SandboxOP;
let smtp: SandboxSmtp;
let engine: EngineServer;
let host: ProviderHost;
let ci: ProviderHost;
let folder: string;

function oauthArgs(auth: Record<string, unknown> = {}, rest: Record<string, unknown> = {}) {
  return {
    version: 1,
    smtp: { host: "127.0.0.1", protocol: "tls", port: smtp.tlsPort, tls: { ca: { file: "ca.pem" } } },
    auth: { ...sandboxDeclaredAuth(op), ...auth },
    from: { name: "Notifications" },
    testEmail: { to: ["ops@sandbox.test"], onDeploy: false },
    baseDir: relative(root, folder),
    ...rest,
  };
}

/** Waits for the n-th device code in the host's output and approves it through the OP's pages. */
async function approveNextCode(target: ProviderHost, count: number): Promise<string> {
  const pattern = new RegExp(`(?:[\\s\\S]*?open (\\S+) and enter the code (\\S+)){${count}}`);
  const match = await target.waitForOutput(pattern);
  const [, uri, code] = match;
  await op.approveDeviceCode(code as string);
  expect(uri).toContain(op.url);
  return code as string;
}

function revokedCheck(state: Record<string, unknown>, declaration: Record<string, unknown>) {
  const normalized = normalizeDeclaration(declaration as MailServerDeclaration);
  if (normalized.server !== "custom" || normalized.auth.method !== "oauth")
    throw new TypeError("oauth expected");
  return refreshGrant(normalized.auth, { refreshToken: String(state.refreshToken) });
}

beforeAll(async () => {
  op = await startSandboxOP({ deviceFlowInterval: 1 });
  smtp = await startSandboxSmtp({
    verifyAccessToken: accessTokenVerifier(op),
  });
  folder = mkdtempSync(join(tmpdir(), "mailserver-engine-oauth-"));
  writeFileSync(join(folder, "ca.pem"), smtp.caPem);
  engine = await startEngineServer();
  // A person watches `pulumi up` (the code reaches them through the passed-through output).
  host = await startProviderHost({
    engineAddress: engine.address,
    cwd: root,
    env: { MAILSERVER_INTERACTIVE: "1", MAILSERVER_PROMPT_TTY: "none" },
  });
  // CI: no terminal, nobody to sign in.
  ci = await startProviderHost({
    engineAddress: engine.address,
    cwd: root,
    env: { MAILSERVER_INTERACTIVE: "0", MAILSERVER_PROMPT_TTY: "none" },
  });
  await host.configure();
  await ci.configure();
});

afterAll(async () => {
  await host?.close();
  await ci?.close();
  await engine?.close();
  await smtp?.stop();
  await op?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

describe("MailServer with OAuth through the dynamic provider host", () => {
  let captured: CapturedResource;
  let state: Record<string, unknown>;

  beforeAll(async () => {
    captured = await captureMailServer(root, "corp-mail", oauthArgs());
  });

  it("without a grant and without a terminal, create fails at once saying to run `mailserver authorize`", async () => {
    const before = op.requests.length;
    const error = await ci.create(urn, captured.inputs).catch((e: Error) => e);
    expect(String(error)).toContain("(authorization-required)");
    expect(String(error)).toContain("mailserver authorize");
    // It did not start a device flow that nobody would complete.
    expect(op.requests.slice(before).filter((request) => request.path.includes("device"))).toEqual([]);
  });

  it("create runs the device flow, with the code in the host's passed-through output", async () => {
    const creating = host.create(urn, captured.inputs);
    const code = await approveNextCode(host, 1);
    state = (await creating).properties;
    expect(host.output()).toContain(code);
    expect(state).toMatchObject({
      stateVersion: 1,
      username: "ops@sandbox.test",
      fromAddress: "ops@sandbox.test",
      fromName: "Notifications",
      issuer: op.issuer,
      verification: { ok: true, authenticatedAs: "ops@sandbox.test" },
      transport: { auth: { type: "OAuth2", user: "ops@sandbox.test", clientId: op.clients.native.clientId } },
    });
    expect((state.endpoints as Record<string, string>).token).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    expect(state.scopes).toEqual(expect.arrayContaining(["openid", "email", "offline_access"]));
    expect(typeof state.refreshToken).toBe("string");
    expect(
      smtp.authAttempts.filter((attempt) => attempt.method === "XOAUTH2" && attempt.accepted),
    ).toHaveLength(1);
  });

  it("keeps tokens in secret outputs only and out of the host's output", () => {
    const secrets = [state.refreshToken, state.accessToken].map(String);
    for (const [key, value] of Object.entries(state)) {
      if ((SECRET_OUTPUT_KEYS as readonly string[]).includes(key)) continue;
      for (const secret of secrets) expect(JSON.stringify(value)).not.toContain(secret);
    }
    for (const secret of secrets) expect(host.output()).not.toContain(secret);
  });

  it("update keeps the grant when issuer, client and scopes are unchanged (and persists the rotated token)", async () => {
    const news = await captureMailServer(root, "corp-mail", oauthArgs({}, { from: { name: "Alerts" } }));
    expect(await host.diff(urn, "corp-mail", state, news.inputs)).toMatchObject({
      changes: "some",
      replaces: [],
    });
    await host.waitForOutput(/corp-mail: changes from\.name; the stored grant is kept/);
    const deviceGrants = op.tokenRequests(DEVICE_GRANT).length;
    const updated = (await host.update(urn, "corp-mail", state, news.inputs)).properties;
    expect(op.tokenRequests(DEVICE_GRANT).length).toBe(deviceGrants);
    expect(updated).toMatchObject({
      fromName: "Alerts",
      username: "ops@sandbox.test",
      grantedAt: state.grantedAt,
    });
    // The sandbox rotates: the state carries the newest token, the old one is spent.
    expect(updated.refreshToken).not.toBe(state.refreshToken);
    state = updated;
    captured = news;
  });

  it("update renews the grant when the scopes change, showing it as such in the diff", async () => {
    const news = await captureMailServer(
      root,
      "corp-mail",
      oauthArgs({ scopes: ["openid", "email", "offline_access", "mail.send"] }, { from: { name: "Alerts" } }),
    );
    await host.diff(urn, "corp-mail", state, news.inputs);
    await host.waitForOutput(/grant renewal needed \(auth\.scopes changed\): someone must authorize again/);
    const updating = host.update(urn, "corp-mail", state, news.inputs);
    await approveNextCode(host, 2);
    const updated = (await updating).properties;
    expect(updated.scopes).toEqual(expect.arrayContaining(["mail.send"]));
    expect(updated.grantedAt).not.toBe(state.grantedAt);
    state = updated;
    captured = news;
  });

  it("a failed update leaves the previous state and its working grant", async () => {
    smtp.faults.authReply = { code: 535, message: "5.7.8 Username and Password not accepted" };
    const news = await captureMailServer(
      root,
      "corp-mail",
      oauthArgs({ scopes: ["openid", "email", "offline_access", "mail.send"] }, { from: { name: "Broken" } }),
    );
    const error = (await host
      .update(urn, "corp-mail", state, news.inputs)
      .catch((e: unknown) => e)) as ProviderCallError;
    smtp.faults.authReply = undefined;
    expect(error).toBeInstanceOf(ProviderCallError);
    expect(error.message).toContain("auth-rejected");
    expect(error.message).not.toContain(String(state.refreshToken));
    // The attempt spent the stored token (rotation): the engine gets the previous state with the newest
    // token (ErrorResourceInitFailed), so the grant still works afterwards.
    const kept = error.initFailure?.properties ?? {};
    const { refreshToken: newest, ...rest } = kept;
    const { refreshToken: spent, ...previous } = state;
    expect(rest).toEqual(previous);
    expect(newest).not.toBe(spent);
    expect(error.initFailure?.reasons[0]).toContain("auth-rejected");
    state = kept;
  });

  it("refresh does not spend a grant kept only in the state at a rotating issuer (the engine does not save a preview's read)", async () => {
    const refreshes = op.tokenRequests("refresh_token").length;
    const refreshed = await host.read(urn, "corp-mail", state);
    expect(op.tokenRequests("refresh_token").length).toBe(refreshes);
    expect(refreshed.properties.refreshToken).toBe(state.refreshToken);
    expect(refreshed.properties.drift).toBeUndefined();
    await host.waitForOutput(
      /corp-mail: note: grant not checked: the issuer may rotate refresh tokens, and a grant kept only in Pulumi state cannot be refreshed safely here/,
    );
  });

  it("with the grant in a file, refresh rotates it into the file first, a later read takes the file's newer token, and a revoked grant shows drift", async () => {
    // The grant moves into a file, as `mailserver authorize --out` writes it.
    writeFileSync(join(folder, "grant.json"), JSON.stringify({ refreshToken: state.refreshToken }));
    const news = await captureMailServer(
      root,
      "corp-mail",
      oauthArgs(
        { scopes: ["openid", "email", "offline_access", "mail.send"], refreshToken: { file: "grant.json" } },
        { from: { name: "Alerts" } },
      ),
    );
    state = (await host.update(urn, "corp-mail", state, news.inputs)).properties;
    captured = news;
    const inFile = () =>
      (JSON.parse(readFileSync(join(folder, "grant.json"), "utf8")) as { refreshToken: string }).refreshToken;
    expect(inFile()).toBe(state.refreshToken);

    // A preview's read: it rotates the token into the file; the engine throws its state away.
    const preview = await host.read(urn, "corp-mail", state);
    expect(preview.properties.drift).toBeUndefined();
    expect(inFile()).toBe(preview.properties.refreshToken);
    expect(inFile()).not.toBe(state.refreshToken);
    // The real refresh gets the unsaved state again: it must use the file's token, not the spent one.
    const refreshed = await host.read(urn, "corp-mail", state);
    expect(refreshed.properties.drift).toBeUndefined();
    expect(refreshed.properties.refreshToken).toBe(inFile());
    state = refreshed.properties;

    const revoke = await fetch(new URL("token/revocation", `${op.url}/`), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: String(state.refreshToken), client_id: op.clients.native.clientId }),
    });
    expect(revoke.ok).toBe(true);
    const drifted = await host.read(urn, "corp-mail", state);
    expect(drifted.properties.drift).toEqual([expect.objectContaining({ code: "grant-revoked" })]);
    expect(drifted.inputs).toMatchObject({
      name: "corp-mail",
      auth: { clientId: op.clients.native.clientId },
    });
    const next = await host.diff(urn, "corp-mail", drifted.properties, captured.inputs);
    expect(next.changes).toBe("some");
    await host.waitForOutput(/changes drift\.grant-revoked; grant renewal needed/);
  });

  it("delete revokes the refresh token", async () => {
    const fresh = await captureMailServer(root, "corp-mail", oauthArgs());
    const creating = host.create(urn, fresh.inputs);
    await approveNextCode(host, 3);
    const created = (await creating).properties;
    await host.delete(urn, "corp-mail", created);
    await host.waitForOutput(
      /corp-mail: deleted; the identity service goes back to its built-in mail server \(grant revoked\)/,
    );
    const after = await revokedCheck(created, fresh.inputs).catch((e: Error & { code?: string }) => e);
    expect((after as { code?: string }).code).toBe("grant-invalid");
  });

  it("create reuses a grant from auth.refreshToken and writes the rotated token back to its file", async () => {
    const fresh = await captureMailServer(root, "corp-mail", oauthArgs());
    const creating = host.create(urn, fresh.inputs);
    await approveNextCode(host, 4);
    const granted = (await creating).properties;
    writeFileSync(join(folder, "grant.json"), JSON.stringify({ refreshToken: granted.refreshToken }));
    const declared = await captureMailServer(
      root,
      "corp-mail",
      oauthArgs({ refreshToken: { file: "grant.json" } }),
    );
    const deviceGrants = op.tokenRequests(DEVICE_GRANT).length;
    const created = (await ci.create(urn, declared.inputs)).properties;
    expect(op.tokenRequests(DEVICE_GRANT).length).toBe(deviceGrants);
    const stored = JSON.parse(readFileSync(join(folder, "grant.json"), "utf8")) as { refreshToken: string };
    expect(stored.refreshToken).toBe(created.refreshToken);
    expect(stored.refreshToken).not.toBe(granted.refreshToken);
  });
});
