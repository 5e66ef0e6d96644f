// AUTH XOAUTH2 end to end: a grant from the sandbox OP (its real login and consent pages), the
// refresh-token grant for an access token, and the sandbox SMTP server accepting only access
// tokens the OP really issued (checked by the OP's introspection endpoint).
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { resolveSmtpCredentials } from "../../provider/credentials.js";
import type { MailServerDeclaration } from "../../provider/declaration/generated/declaration.js";
import type { NormalizedCustomDeclaration } from "../../provider/declaration/normalize.js";
import { MailServerError } from "../../provider/errors.js";
import { revokeGrant } from "../../provider/oauth/index.js";
import { verifySmtp } from "../../provider/smtp/verify.js";
import { sandboxDeclaredAuth, writeSandboxGrant } from "../../sandbox/grant.js";
import { accessTokenVerifier, type SandboxOP, startSandboxOP } from "../../sandbox/op.js";
import { startSandboxSmtp } from "../../sandbox/smtp.js";
import { runCli } from "../helpers/cli.js";
import { sandboxAuth } from "../helpers/op-auth.js";
import { type DeclarationOverrides, type SmtpFixture, startSmtpFixture } from "../helpers/smtp-sandbox.js";

let op: SandboxOP;
let fx: SmtpFixture;
beforeAll(async () => {
  op = await startSandboxOP();
  fx = await startSmtpFixture({
    verifyAccessToken: accessTokenVerifier(op),
  });
});
afterAll(async () => {
  await fx.stop();
  await op.stop();
});
beforeEach(() => fx.smtp.reset());

/** A fresh grant by the loopback flow, approved on the OP's pages, stored as `authorize --out` would. */
function storedGrant(file: string): Promise<string> {
  return writeSandboxGrant(op, join(fx.dir, file), { flow: "loopback" });
}

function oauthOverrides(grantFile: string, extra: DeclarationOverrides = {}): DeclarationOverrides {
  return {
    auth: sandboxDeclaredAuth(op, { flow: "loopback", refreshToken: { file: grantFile } }),
    from: { name: "Ops" },
    ...extra,
  };
}

describe("XOAUTH2 with the sandbox OP", () => {
  for (const protocol of ["tls", "starttls"] as const) {
    it(`mailserver verify logs in with XOAUTH2 over ${protocol} and persists the rotated refresh token`, async () => {
      const first = await storedGrant(`grant-${protocol}.json`);
      const file = await fx.writeDeclaration(
        `oauth-${protocol}`,
        oauthOverrides(`grant-${protocol}.json`, { protocol }),
      );
      const run = await runCli(["verify", file, "--format", "json"], { env: {} });
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      const report = JSON.parse(run.stdout);
      expect(report).toMatchObject({ ok: true, authenticatedAs: op.account.email, error: null });
      expect(report.authMechanisms).toEqual(["PLAIN", "LOGIN", "XOAUTH2"]);
      expect(fx.smtp.authAttempts).toEqual([
        expect.objectContaining({
          method: "XOAUTH2",
          username: op.account.email,
          secure: true,
          accepted: true,
        }),
      ]);
      const stored = JSON.parse(await readFile(join(fx.dir, `grant-${protocol}.json`), "utf8"));
      expect(stored.refreshToken).not.toBe(first);
      expect(stored.username).toBe(op.account.email);
      expect(run.stdout).not.toContain(first);
      expect(run.stdout).not.toContain(stored.refreshToken);
      // The newest token works: a second run refreshes again.
      expect((await runCli(["verify", file], { env: {} })).code).toBe(0);
    });
  }

  it("mailserver test-email sends From the ID token's email when from.address is not declared", async () => {
    await storedGrant("grant-mail.json");
    const file = await fx.writeDeclaration("oauth-mail", oauthOverrides("grant-mail.json"));
    const run = await runCli(["test-email", file, "--format", "json"], { env: {} });
    expect(run.code).toBe(0);
    const { parsed, user } = await fx.smtp.waitForMessage();
    expect(user).toBe(op.account.email);
    expect(parsed.from?.value).toEqual([{ name: "Ops", address: op.account.email }]);
    expect(parsed.text).toContain(`Login: ${op.account.email} (OAuth, XOAUTH2)`);
  });

  it("a revoked refresh token: token-refresh-failed, exit 1, no token printed, no AUTH sent", async () => {
    const token = await storedGrant("grant-revoked.json");
    await revokeGrant(sandboxAuth(op), { refreshToken: token });
    const file = await fx.writeDeclaration("oauth-revoked", oauthOverrides("grant-revoked.json"));
    const run = await runCli(["verify", file, "--format", "json"], { env: {} });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.error).toMatchObject({ code: "token-refresh-failed", smtpCode: null });
    expect(report.error.message).toContain("invalid_grant");
    expect(report.error.message).toContain("mailserver authorize");
    expect(run.stdout + run.stderr).not.toContain(token);
    expect(fx.smtp.authAttempts).toEqual([]);
  });

  it("an access token the OP did not issue: auth-rejected with the 535 after the XOAUTH2 error challenge", async () => {
    const decl = fx.normalized(oauthOverrides("unused.json")) as NormalizedCustomDeclaration;
    const report = await verifySmtp(
      decl,
      { method: "oauth", username: op.account.email, accessToken: "forged-access-token-123" },
      { baseDir: fx.dir },
    );
    expect(report.error).toMatchObject({ code: "auth-rejected", smtpCode: 535 });
    expect(report.error?.message).toContain("XOAUTH2 status 401");
    // Regression: nodemailer's own login() would have sent the token as a PLAIN password.
    expect(fx.smtp.authAttempts.map((attempt) => attempt.method)).toEqual(["XOAUTH2"]);
    expect(JSON.stringify(report)).not.toContain("forged-access-token-123");
  });

  it("sends a long access token on its own line after the 334 challenge", async () => {
    const decl = fx.normalized(oauthOverrides("unused.json")) as NormalizedCustomDeclaration;
    const longToken = `eyJ${"x".repeat(1_500)}`;
    const report = await verifySmtp(
      decl,
      { method: "oauth", username: op.account.email, accessToken: longToken },
      {
        baseDir: fx.dir,
      },
    );
    // The server parsed the initial response (it recorded the username) and refused the token.
    expect(fx.smtp.authAttempts).toEqual([
      expect.objectContaining({ method: "XOAUTH2", username: op.account.email }),
    ]);
    expect(report.error).toMatchObject({ code: "auth-rejected", smtpCode: 535 });
  });

  it("a server without XOAUTH2: auth-mechanism-unsupported, and no credential sent", async () => {
    const basicOnly = await startSandboxSmtp();
    try {
      await writeFile(join(fx.dir, "basic-only-ca.pem"), basicOnly.caPem);
      const decl = fx.normalized(
        oauthOverrides("unused.json", {
          port: basicOnly.tlsPort,
          smtp: { tls: { ca: { file: "basic-only-ca.pem" } } },
        }),
      ) as NormalizedCustomDeclaration;
      const report = await verifySmtp(
        decl,
        { method: "oauth", username: op.account.email, accessToken: "any" },
        { baseDir: fx.dir },
      );
      expect(report.error).toMatchObject({ code: "auth-mechanism-unsupported", smtpCode: null });
      expect(report.error?.message).toContain("offers AUTH PLAIN LOGIN, but auth.method oauth needs XOAUTH2");
      expect(basicOnly.authAttempts).toEqual([]);
    } finally {
      await basicOnly.stop();
    }
  });
});

describe("resolveSmtpCredentials", () => {
  it("resolves a Basic password from its env reference", async () => {
    const resolved = await resolveSmtpCredentials(fx.normalized(), { baseDir: fx.dir, env: fx.env });
    expect(resolved).toEqual({ credentials: fx.credentials });
  });

  it("does not write a refresh token that came from the caller (Pulumi state): it returns it", async () => {
    const token = await storedGrant("grant-state.json");
    const before = await readFile(join(fx.dir, "grant-state.json"), "utf8");
    const decl = fx.normalized(oauthOverrides("grant-state.json"));
    const resolved = await resolveSmtpCredentials(decl, { baseDir: fx.dir, refreshToken: token });
    expect(resolved.grant).toMatchObject({ rotated: true, persisted: false, fromAddress: op.account.email });
    expect(resolved.grant?.refreshToken).not.toBe(token);
    expect(await readFile(join(fx.dir, "grant-state.json"), "utf8")).toBe(before);
    expect(resolved.credentials).toMatchObject({ method: "oauth", username: op.account.email });
  });

  it("prefers auth.username over the ID token's email", async () => {
    await storedGrant("grant-username.json");
    const overrides = oauthOverrides("grant-username.json");
    const decl = fx.normalized({
      ...overrides,
      auth: {
        ...(overrides.auth as object),
        username: "declared@sandbox.test",
      } as MailServerDeclaration["auth"],
    });
    const resolved = await resolveSmtpCredentials(decl, { baseDir: fx.dir });
    expect(resolved.credentials.username).toBe("declared@sandbox.test");
  });

  it("maps any refresh failure to token-refresh-failed without the token in the message", async () => {
    const decl = fx.normalized(oauthOverrides("grant-any.json"));
    const error = await resolveSmtpCredentials(decl, {
      baseDir: fx.dir,
      refreshToken: "secret-refresh-token-456",
      // A failure the sandbox OP cannot produce on demand: the token endpoint's connection dies.
      refreshGrant: async () => {
        throw new TypeError("fetch failed");
      },
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MailServerError);
    expect(error).toMatchObject({ code: "token-refresh-failed" });
    expect((error as Error).message).toBe("no access token from the stored grant: the token request failed");
    expect((error as Error).message).not.toContain("secret-refresh-token-456");
  });
});
