/**
 * The Basic-auth lifecycle through the real engine protocol: @pulumi/pulumi's dynamic provider
 * host as a child process, called over gRPC with the `__provider` the SDK serialized for a
 * MailServer, against the sandbox SMTP server (real TLS from a throwaway CA).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SECRET_OUTPUT_KEYS } from "../../provider/lifecycle/state.js";
import { type EngineServer, startEngineServer } from "../../sandbox/engine-server.js";
import { type ProviderHost, startProviderHost, TYPE_TOKEN, urnOf } from "../../sandbox/provider-host.js";
import { type SandboxSmtp, startSandboxSmtp } from "../../sandbox/smtp.js";
import { type CapturedResource, captureMailServer } from "../helpers/engine-capture.js";

const root = process.cwd();
let smtp: SandboxSmtp;
let engine: EngineServer;
let host: ProviderHost;
let folder: string;
let captured: CapturedResource;

function basicArgs(overrides: Record<string, unknown> = {}) {
  return {
    version: 1,
    smtp: { host: "127.0.0.1", protocol: "tls", port: smtp.tlsPort, tls: { ca: { file: "ca.pem" } } },
    auth: { method: "basic", username: smtp.account.username, password: { $secret: smtp.account.password } },
    from: { name: "Notifications", address: "no-reply@sandbox.test" },
    testEmail: { to: ["ops@sandbox.test"], onDeploy: false },
    baseDir: relative(root, folder),
    ...overrides,
  };
}

beforeAll(async () => {
  smtp = await startSandboxSmtp();
  folder = mkdtempSync(join(tmpdir(), "mailserver-engine-basic-"));
  writeFileSync(join(folder, "ca.pem"), smtp.caPem);
  engine = await startEngineServer();
  host = await startProviderHost({
    engineAddress: engine.address,
    cwd: root,
    env: { MAILSERVER_INTERACTIVE: "0", MAILSERVER_PROMPT_TTY: "none" },
  });
  await host.configure();
  captured = await captureMailServer(root, "corp-mail", basicArgs());
});

afterAll(async () => {
  await host?.close();
  await engine?.close();
  await smtp?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

describe("MailServer through the dynamic provider host (Basic)", () => {
  it("registers the resource under its own type token with the password as a Pulumi secret", () => {
    expect(captured.type).toBe(TYPE_TOKEN);
    expect(captured.secretKeys).toEqual(["secretValues"]);
    expect(captured.inputs.auth).toEqual({
      method: "basic",
      username: smtp.account.username,
      password: { config: "inline:auth.password" },
    });
    expect(JSON.stringify({ ...captured.inputs, secretValues: undefined })).not.toContain(
      smtp.account.password,
    );
  });

  it("check accepts the declaration and reports mistakes with property paths", async () => {
    const ok = await host.check(urnOf("corp-mail"), {}, captured.inputs);
    expect(ok.failures).toEqual([]);
    const bad = await host.check(
      urnOf("corp-mail"),
      {},
      {
        ...captured.inputs,
        replyTo: "support@sandbox.test\r\nBcc: x@evil.test",
        auth: { method: "basic", username: "u", password: "literal" },
      },
    );
    const properties = bad.failures.map((failure) => failure.property).sort();
    expect(properties).toContain("replyTo");
    expect(properties).toContain("auth.password");
    expect(bad.failures.find((failure) => failure.property === "auth.password")?.reason).toContain(
      "[secret-literal]",
    );
    expect(bad.failures.find((failure) => failure.property === "replyTo")?.reason).toContain(
      "[header-injection]",
    );
  });

  let state: Record<string, unknown>;

  it("create verifies SMTP AUTH before anything is saved and returns the outputs", async () => {
    const created = await host.create(urnOf("corp-mail"), captured.inputs);
    state = created.properties;
    expect(created.id).toBe("corp-mail");
    expect(state).toMatchObject({
      stateVersion: 1,
      host: "127.0.0.1",
      port: smtp.tlsPort,
      protocol: "tls",
      username: smtp.account.username,
      fromName: "Notifications",
      fromAddress: "no-reply@sandbox.test",
      verification: { ok: true, authenticatedAs: smtp.account.username },
      password: smtp.account.password,
      transport: {
        host: "127.0.0.1",
        port: smtp.tlsPort,
        secure: true,
        auth: { user: smtp.account.username },
      },
    });
    expect(String((state.certificate as Record<string, unknown>).fingerprint256)).toMatch(
      /^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/,
    );
    expect(smtp.authAttempts.filter((attempt) => attempt.accepted)).toHaveLength(1);
    expect(smtp.messages).toHaveLength(0);
  });

  it("keeps every secret-bearing output in additionalSecretOutputs (a checkpoint holds them encrypted)", () => {
    const secret = smtp.account.password;
    const plainKeys = Object.keys(state).filter(
      (key) =>
        !(SECRET_OUTPUT_KEYS as readonly string[]).includes(key) &&
        JSON.stringify(state[key]).includes(secret),
    );
    expect(plainKeys).toEqual([]);
    expect(host.output()).not.toContain(secret);
  });

  it("diff: no change, a change without new grant, and a replacement only when the name changes", async () => {
    const urn = urnOf("corp-mail");
    expect(await host.diff(urn, "corp-mail", state, captured.inputs)).toEqual({
      changes: "none",
      replaces: [],
      deleteBeforeReplace: false,
    });
    const renamed = { ...captured.inputs, from: { name: "Alerts", address: "alerts@sandbox.test" } };
    expect(await host.diff(urn, "corp-mail", state, renamed)).toMatchObject({
      changes: "some",
      replaces: [],
    });
    await host.waitForOutput(/corp-mail: changes from\.address, from\.name/);
    expect(
      await host.diff(urn, "corp-mail", state, { ...captured.inputs, name: "other-mail" }),
    ).toMatchObject({
      changes: "some",
      replaces: ["name"],
    });
  });

  it("update applies the change after verifying again", async () => {
    const news = { ...captured.inputs, from: { name: "Alerts", address: "alerts@sandbox.test" } };
    const updated = await host.update(urnOf("corp-mail"), "corp-mail", state, news);
    expect(updated.properties).toMatchObject({
      fromName: "Alerts",
      fromAddress: "alerts@sandbox.test",
      stateVersion: 1,
    });
    state = updated.properties;
  });

  it("a failed verify saves nothing: create and update fail with the SMTP code and no secret", async () => {
    const wrong = await captureMailServer(
      root,
      "corp-mail",
      basicArgs({
        auth: {
          method: "basic",
          username: smtp.account.username,
          password: { $secret: "wrong-password-123" },
        },
      }),
    );
    const create = host.create(urnOf("corp-mail"), wrong.inputs);
    await expect(create).rejects.toThrow(/auth-rejected/);
    const error = await create.catch((e: Error) => e);
    expect(String(error)).not.toContain("wrong-password-123");
    await expect(host.update(urnOf("corp-mail"), "corp-mail", state, wrong.inputs)).rejects.toThrow(
      /auth-rejected/,
    );
    expect(host.output()).not.toContain("wrong-password-123");
  });

  it("read returns the recorded inputs and fresh verification facts", async () => {
    const refreshed = await host.read(urnOf("corp-mail"), "corp-mail", state);
    expect(refreshed.id).toBe("corp-mail");
    expect(refreshed.inputs).toMatchObject({ name: "corp-mail", from: { name: "Alerts" } });
    expect(refreshed.properties).toMatchObject({ verification: { ok: true } });
    expect(refreshed.properties.drift).toBeUndefined();
  });

  it("delete goes back to the built-in mail server", async () => {
    await host.delete(urnOf("corp-mail"), "corp-mail", state);
    await host.waitForOutput(
      /corp-mail: deleted; the identity service goes back to its built-in mail server/,
    );
  });
});
