/**
 * The app-only flows through the real engine protocol, in CI conditions (no terminal, nobody to
 * sign in): create obtains an app token - client credentials with a client assertion, or a service
 * account's JWT bearer grant - verifies XOAUTH2 and sends the required test email, and stores no
 * token; read (`pulumi refresh`) asks for a new token and reports grant-revoked when the token
 * endpoint refuses; diff asks for no new grant; delete has nothing to revoke.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  SANDBOX_APP_FILES,
  type SandboxAppCredential,
  sandboxAppAuth,
  writeSandboxAppFiles,
} from "../../sandbox/app-auth.js";
import { type EngineServer, startEngineServer } from "../../sandbox/engine-server.js";
import { accessTokenVerifier, type SandboxOP, startSandboxOP } from "../../sandbox/op.js";
import { SANDBOX_APP_MAILBOX } from "../../sandbox/op-apps.js";
import { type ProviderHost, startProviderHost, urnOf } from "../../sandbox/provider-host.js";
import { type SandboxSmtp, startSandboxSmtp } from "../../sandbox/smtp.js";
import { captureMailServer } from "../helpers/engine-capture.js";

const root = process.cwd();
let op: SandboxOP;
let smtp: SandboxSmtp;
let engine: EngineServer;
let ci: ProviderHost;
let folder: string;

const CASES: Array<[string, SandboxAppCredential]> = [
  [
    "client credentials with a client assertion",
    {
      kind: "client-assertion",
      privateKeyFile: SANDBOX_APP_FILES.privateKey,
      certificateFile: SANDBOX_APP_FILES.certificate,
    },
  ],
  [
    "a service account",
    { kind: "service-account", serviceAccountKey: { file: SANDBOX_APP_FILES.serviceAccountKey } },
  ],
];

function appArgs(credential: SandboxAppCredential, rest: Record<string, unknown> = {}) {
  return {
    version: 1,
    smtp: { host: "127.0.0.1", protocol: "tls", port: smtp.tlsPort, tls: { ca: { file: "ca.pem" } } },
    auth: sandboxAppAuth(op, credential),
    from: { name: "App Notifications" },
    testEmail: { to: ["ops@sandbox.test"], onDeploy: false, required: true },
    baseDir: relative(root, folder),
    ...rest,
  };
}

beforeAll(async () => {
  op = await startSandboxOP();
  smtp = await startSandboxSmtp({ verifyAccessToken: accessTokenVerifier(op) });
  folder = mkdtempSync(join(tmpdir(), "mailserver-engine-app-"));
  writeFileSync(join(folder, "ca.pem"), smtp.caPem);
  writeSandboxAppFiles(op, folder);
  engine = await startEngineServer();
  // CI: no terminal, nobody to sign in - which the app-only flows never need.
  ci = await startProviderHost({
    engineAddress: engine.address,
    cwd: root,
    env: { MAILSERVER_INTERACTIVE: "0", MAILSERVER_PROMPT_TTY: "none" },
  });
  await ci.configure();
});

afterAll(async () => {
  await ci?.close();
  await engine?.close();
  await smtp?.stop();
  await op?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

beforeEach(() => {
  smtp.reset();
  for (const client of Object.keys(op.apps.mailboxes)) op.apps.mailboxes[client] = [SANDBOX_APP_MAILBOX];
});

describe.each(CASES)("MailServer with %s through the dynamic provider host", (_what, credential) => {
  const name = credential.kind === "service-account" ? "app-sa" : "app-cert";
  const urn = urnOf(name);
  let state: Record<string, unknown>;
  let inputs: Record<string, unknown>;

  it("create gets an app token without a prompt, verifies, sends the required test email, and stores no token", async () => {
    inputs = (await captureMailServer(root, name, appArgs(credential))).inputs;
    const grantsBefore = op.tokenRequests().length;
    state = (await ci.create(urn, inputs)).properties;
    expect(state).toMatchObject({
      username: SANDBOX_APP_MAILBOX,
      fromAddress: SANDBOX_APP_MAILBOX,
      verification: { ok: true, authenticatedAs: SANDBOX_APP_MAILBOX },
      scopes: [op.apps.scope],
      lastTestEmail: { ok: true },
    });
    expect((state.endpoints as { token?: string }).token).toBe(
      credential.kind === "service-account" ? undefined : `${op.issuer}/token`,
    );
    expect(state.refreshToken).toBeUndefined();
    expect(state.accessToken).toBeUndefined();
    expect(state.grantedAt).toBeUndefined();
    // One token for the verification, one for the test email's session... or the same one: never a prompt.
    expect(op.tokenRequests().length).toBeGreaterThan(grantsBefore);
    expect(op.requests.some((request) => request.path.includes("device"))).toBe(false);
    const message = await smtp.waitForMessage();
    expect(message.user).toBe(SANDBOX_APP_MAILBOX);
    expect(message.parsed.from?.value[0]?.address).toBe(SANDBOX_APP_MAILBOX);
    // The key material never reaches the host's output.
    const keyLine = op.apps.certificate.privateKeyPem.split("\n")[1] as string;
    expect(ci.output()).not.toContain(keyLine);
    if (credential.kind === "service-account") {
      // nodemailer's own service account support: the application's transport signs its own JWTs.
      expect(state.transport).toMatchObject({
        auth: {
          type: "OAuth2",
          user: SANDBOX_APP_MAILBOX,
          serviceClient: op.apps.serviceAccount.clientEmail,
        },
      });
    } else {
      expect(state.transport).toMatchObject({ auth: { type: "OAuth2", user: SANDBOX_APP_MAILBOX } });
    }
  });

  it("read (refresh) gets a new token and finds no drift", async () => {
    const refreshed = await ci.read(urn, name, state);
    expect(refreshed.properties.drift).toBeUndefined();
    expect(refreshed.properties.verification).toMatchObject({
      ok: true,
      authenticatedAs: SANDBOX_APP_MAILBOX,
    });
  });

  it("a change needs no new grant: the diff does not ask for one", async () => {
    const news = (await captureMailServer(root, name, appArgs(credential, { from: { name: "Renamed" } })))
      .inputs;
    expect((await ci.diff(urn, name, state, news)).changes).toBe("some");
    await ci.waitForOutput(new RegExp(`${name}: changes from\\.name$`, "m"));
    expect(ci.output()).not.toMatch(new RegExp(`${name}: .*grant renewal needed`));
  });

  it("when the app loses the mailbox, refresh shows the drift, and the next diff is not empty", async () => {
    const client =
      credential.kind === "service-account"
        ? op.apps.serviceAccount.clientEmail
        : op.apps.certificate.clientId;
    op.apps.mailboxes[client] = [];
    const drifted = await ci.read(urn, name, state);
    const expected =
      credential.kind === "service-account"
        ? // The token endpoint refuses to act for the mailbox.
          { code: "grant-revoked", field: "auth.serviceAccountKey" }
        : // The token is issued; the SMTP server refuses it for the mailbox (Exchange's 535 5.7.3).
          { code: "auth-rejected" };
    expect(drifted.properties.drift).toEqual([expect.objectContaining(expected)]);
    if (credential.kind !== "service-account") {
      expect(JSON.stringify(drifted.properties.drift)).toContain("5.7.3");
    }
    expect((await ci.diff(urn, name, drifted.properties, inputs)).changes).toBe("some");
  });

  it("delete has nothing to revoke", async () => {
    const revocations = op.requests.filter((request) => request.path.includes("revocation")).length;
    await ci.delete(urn, name, state);
    await ci.waitForOutput(
      new RegExp(`${name}: deleted; the identity service goes back to its built-in mail server$`, "m"),
    );
    expect(op.requests.filter((request) => request.path.includes("revocation")).length).toBe(revocations);
  });
});

describe("a service account key given inline (pulumi.secret) through the dynamic provider host", () => {
  it("reaches the provider as a secret value behind a reference, and create and read use it", async () => {
    const name = "app-inline";
    const urn = urnOf(name);
    const captured = await captureMailServer(
      root,
      name,
      appArgs(
        { kind: "service-account", serviceAccountKey: { file: "unused" } },
        {
          auth: {
            ...sandboxAppAuth(op, { kind: "service-account", serviceAccountKey: { file: "unused" } }),
            serviceAccountKey: { $secret: op.apps.serviceAccount.keyJson },
          },
        },
      ),
    );
    expect(captured.inputs.auth).toMatchObject({
      serviceAccountKey: { config: "inline:auth.serviceAccountKey" },
    });
    expect(captured.secretKeys).toContain("secretValues");
    const state = (await ci.create(urn, captured.inputs)).properties;
    expect(state.verification).toMatchObject({ ok: true, authenticatedAs: SANDBOX_APP_MAILBOX });
    const refreshed = await ci.read(urn, name, state);
    expect(refreshed.properties.drift).toBeUndefined();
    await ci.delete(urn, name, state);
  });
});
