// The CLI on app-only declarations, in-process, against the sandbox OP and SMTP server:
// `mailserver authorize` proves the credentials with one token, prints what was granted, stores
// nothing and exits 0 (and refuses the flags of a sign-in); `test-email` sends as the mailbox;
// `drift` is in sync, then reports grant-revoked when the token endpoint refuses the app.
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  SANDBOX_APP_FILES,
  type SandboxAppCredential,
  sandboxAppAuth,
  writeSandboxAppFiles,
} from "../../sandbox/app-auth.js";
import { accessTokenVerifier, type SandboxOP, startSandboxOP } from "../../sandbox/op.js";
import { SANDBOX_APP_MAILBOX } from "../../sandbox/op-apps.js";
import { runCli } from "../helpers/cli.js";
import { type SmtpFixture, startSmtpFixture } from "../helpers/smtp-sandbox.js";

let op: SandboxOP;
let fx: SmtpFixture;
const files: Record<string, string> = {};

const CREDENTIALS: Record<string, SandboxAppCredential> = {
  "app-secret": { kind: "client-secret", clientSecret: { file: SANDBOX_APP_FILES.clientSecret } },
  "app-certificate": {
    kind: "client-assertion",
    privateKeyFile: SANDBOX_APP_FILES.privateKey,
    certificateFile: SANDBOX_APP_FILES.certificate,
  },
  "app-service-account": {
    kind: "service-account",
    serviceAccountKey: { file: SANDBOX_APP_FILES.serviceAccountKey },
  },
};

beforeAll(async () => {
  op = await startSandboxOP();
  fx = await startSmtpFixture({ verifyAccessToken: accessTokenVerifier(op) });
  writeSandboxAppFiles(op, fx.dir);
  for (const [name, credential] of Object.entries(CREDENTIALS)) {
    files[name] = await fx.writeDeclaration(name, {
      auth: sandboxAppAuth(op, credential),
      from: { name: "App Notifications" },
      testEmail: { to: ["ops@sandbox.test"] },
    });
  }
});
afterAll(async () => {
  await fx.stop();
  await op.stop();
});
beforeEach(async () => {
  fx.smtp.reset();
  op.resetFaults();
  await writeFile(join(fx.dir, SANDBOX_APP_FILES.clientSecret), `${op.apps.secret.clientSecret}\n`);
});

describe("mailserver authorize on an app-only declaration", () => {
  it("obtains one token, prints what was granted, stores nothing and exits 0", async () => {
    const before = (await readdir(fx.dir)).sort();
    const tokens = op.tokenRequests("client_credentials").length;
    const run = await runCli(["authorize", files["app-certificate"] as string], { env: {} });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(
      new RegExp(
        `^Token granted to mailserver-app-certificate by ${op.issuer}/token \\(flow client-credentials\\)\\nSends as: ${SANDBOX_APP_MAILBOX}\\nScopes: mail\\.send\\nExpires: \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\nNothing was stored: a new token is fetched whenever one is needed\\.\\n$`,
      ),
    );
    expect(op.tokenRequests("client_credentials").length).toBe(tokens + 1);
    expect((await readdir(fx.dir)).sort()).toEqual(before);
  });

  it("--format json: the authorize keys (stored null) and what the token endpoint granted", async () => {
    const run = await runCli(["authorize", files["app-service-account"] as string, "--format", "json"], {
      env: {},
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      username: SANDBOX_APP_MAILBOX,
      email: null,
      scopes: ["mail.send"],
      stored: null,
      flow: "service-account",
      client: op.apps.serviceAccount.clientEmail,
      tokenEndpoint: `${op.issuer}/token`,
      expiresAt: expect.stringMatching(/^\d{4}-/),
    });
  });

  it.each([
    ["--out", ["--out", "grant.json"]],
    ["--flow", ["--flow", "device"]],
  ])("%s is a usage error (exit 2): nobody signs in and nothing is stored", async (flag, extra) => {
    const run = await runCli(["authorize", files["app-secret"] as string, ...extra], { env: {} });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${flag} is not used by flow client-credentials`);
  });

  it("a refused secret: exit 1, app-token-refused with the secret's remedy, the secret never shown", async () => {
    await writeFile(join(fx.dir, SANDBOX_APP_FILES.clientSecret), "wrong-secret-7c1d\n");
    const run = await runCli(["authorize", files["app-secret"] as string], { env: {} });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("(app-token-refused)");
    expect(run.stderr).toMatch(/auth\.clientSecret/);
    expect(`${run.stdout}${run.stderr}`).not.toContain("wrong-secret-7c1d");
    expect(`${run.stdout}${run.stderr}`).not.toContain(op.apps.secret.clientSecret);
  });
});

describe("mailserver test-email on an app-only declaration", () => {
  it("sends as the mailbox the app may use, From that mailbox", async () => {
    const run = await runCli(["test-email", files["app-service-account"] as string], { env: {} });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const message = await fx.smtp.waitForMessage();
    expect(message.user).toBe(SANDBOX_APP_MAILBOX);
    expect(message.parsed.from?.value).toEqual([{ address: SANDBOX_APP_MAILBOX, name: "App Notifications" }]);
    expect(message.envelope.to).toEqual(["ops@sandbox.test"]);
  });
});

describe("mailserver drift on app-only declarations", () => {
  it("is in sync while the token endpoint grants tokens", async () => {
    const run = await runCli(["drift", ...Object.values(files), "--format", "json"], { env: {} });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).results.map((result: { inSync: boolean }) => result.inSync)).toEqual([
      true,
      true,
      true,
    ]);
  });

  it("reports grant-revoked at the credential's field when the token endpoint refuses (exit 1)", async () => {
    await writeFile(join(fx.dir, SANDBOX_APP_FILES.clientSecret), "rotated-away\n");
    const run = await runCli(["drift", files["app-secret"] as string, "--format", "json"], { env: {} });
    expect(run.code).toBe(1);
    const [result] = JSON.parse(run.stdout).results;
    expect(result.findings).toEqual([
      expect.objectContaining({
        severity: "error",
        code: "grant-revoked",
        field: "auth.clientSecret",
        message: expect.stringMatching(
          /^the token endpoint refuses the app's credentials: the client credentials grant failed with invalid_client.*\(app-token-refused\); fix them and run mailserver authorize FILE$/,
        ),
      }),
    ]);
    // The declaration and the key files were left as they were.
    expect(await readFile(join(fx.dir, SANDBOX_APP_FILES.clientSecret), "utf8")).toBe("rotated-away\n");
  });

  it("an issuer that fails is issuer-unreachable, not a revoked grant", async () => {
    op.faults.tokenReply = { status: 503, json: { error: "temporarily_unavailable" } };
    const run = await runCli(["drift", files["app-certificate"] as string, "--format", "json"], { env: {} });
    expect(run.code).toBe(1);
    const [result] = JSON.parse(run.stdout).results;
    expect(result.findings.map((finding: { code: string }) => finding.code)).toEqual(["issuer-unreachable"]);
  });
});
