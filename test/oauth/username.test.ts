// The one username resolution (declared auth.username, the ID token's email, the userinfo
// endpoint, the identity recorded with the grant), against the sandbox OP told to leave the email
// out of ID tokens, to send no ID token on refresh, and to leave it out of userinfo too.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { resolveSmtpCredentials } from "../../provider/credentials.js";
import {
  type NormalizedCustomDeclaration,
  normalizeDeclaration,
} from "../../provider/declaration/normalize.js";
import { applyMailServer } from "../../provider/lifecycle/apply.js";
import { realSteps } from "../../provider/lifecycle/real-steps.js";
import { authorize } from "../../provider/oauth/index.js";
import { sandboxDeclaredAuth, writeSandboxGrant } from "../../sandbox/grant.js";
import { accessTokenVerifier, type SandboxOP, startSandboxOP } from "../../sandbox/op.js";
import { rejection, sandboxAuth } from "../helpers/op-auth.js";
import { type SmtpFixture, startSmtpFixture } from "../helpers/smtp-sandbox.js";

let op: SandboxOP;
let fx: SmtpFixture;
let dir: string;
beforeAll(async () => {
  op = await startSandboxOP();
  fx = await startSmtpFixture({ verifyAccessToken: accessTokenVerifier(op) });
  dir = fx.dir;
});
afterAll(async () => {
  await fx.stop();
  await op.stop();
});
beforeEach(() => {
  op.resetFaults();
  fx.smtp.reset();
});

const userinfoCalls = () => op.requests.filter((request) => request.path === "/me").length;

function declaration(grantFile: string, auth: Record<string, unknown> = {}) {
  return fx.declaration({
    name: grantFile.replace(/\.\w+$/, ""),
    from: { name: "Ops" },
    auth: { ...sandboxDeclaredAuth(op, { flow: "loopback", refreshToken: { file: grantFile } }), ...auth },
  });
}

const credentialsFor = (grantFile: string, auth: Record<string, unknown> = {}) =>
  resolveSmtpCredentials(normalizeDeclaration(declaration(grantFile, auth)) as NormalizedCustomDeclaration, {
    baseDir: dir,
  });

describe("authorize", () => {
  it("takes the username from userinfo when the ID token has no email", async () => {
    op.faults.omitEmailFromIdToken = "always";
    const before = userinfoCalls();
    const grant = await authorize(sandboxAuth(op, { flow: "loopback" }), {
      prompt: (shown) => {
        if (shown.kind === "loopback") void op.approveAuthorization(shown.authorizationUrl);
      },
      noBrowser: true,
    });
    expect(grant.idTokenClaims).not.toHaveProperty("email");
    expect(grant.username).toBe(op.account.email);
    expect(grant.email).toBe(op.account.email);
    expect(userinfoCalls()).toBe(before + 1);
  });
});

describe("verify and test-email's credentials", () => {
  it("a refresh without an ID token: the username comes from userinfo", async () => {
    // A bare token file records no identity: only userinfo can say who it is.
    const token = await writeSandboxGrant(op, join(dir, "no-id-token.json"), { flow: "loopback" });
    await writeFile(join(dir, "no-id-token.token"), `${token}\n`);
    op.faults.omitFromTokenResponse = { fields: ["id_token"], grantTypes: ["refresh_token"] };
    const { credentials, grant } = await credentialsFor("no-id-token.token");
    expect(grant?.idTokenClaims).toBeUndefined();
    expect(credentials).toMatchObject({ method: "oauth", username: op.account.email });
    expect(grant?.fromAddress).toBe(op.account.email);
  });

  it("no email in the refreshed ID token nor in userinfo: the identity recorded in the grant file", async () => {
    await writeSandboxGrant(op, join(dir, "recorded.json"), { flow: "loopback" });
    op.faults.omitEmailFromIdToken = "refresh";
    op.faults.omitEmailFromUserinfo = true;
    const { credentials, grant } = await credentialsFor("recorded.json");
    expect(grant?.idTokenClaims).not.toHaveProperty("email");
    expect(credentials).toMatchObject({ username: op.account.email });
    // The login works with it: the sandbox SMTP server checks the token's owner.
    const { verifySmtp } = await import("../../provider/smtp/verify.js");
    const decl = normalizeDeclaration(declaration("recorded.json")) as NormalizedCustomDeclaration;
    const report = await verifySmtp(decl, credentials, { baseDir: dir });
    expect(report).toMatchObject({ ok: true, authenticatedAs: op.account.email });
  });

  it("a declared username wins, and userinfo is not asked", async () => {
    await writeSandboxGrant(op, join(dir, "declared.json"), { flow: "loopback" });
    op.faults.omitFromTokenResponse = { fields: ["id_token"], grantTypes: ["refresh_token"] };
    const before = userinfoCalls();
    const { credentials } = await credentialsFor("declared.json", { username: "smtp-user@sandbox.test" });
    expect(credentials).toMatchObject({ username: "smtp-user@sandbox.test" });
    expect(userinfoCalls()).toBe(before);
  });

  it("username-missing only when every source is absent, saying what was tried", async () => {
    const token = await writeSandboxGrant(op, join(dir, "plain.json"), { flow: "loopback" });
    await writeFile(join(dir, "plain.token"), `${token}\n`); // a bare token records no identity
    op.faults.omitFromTokenResponse = { fields: ["id_token"], grantTypes: ["refresh_token"] };
    op.faults.omitEmailFromUserinfo = true;
    const error = await rejection(credentialsFor("plain.token"));
    expect(error.code).toBe("username-missing");
    expect(error.message).toBe(
      "the SMTP username must be entered: auth.username is not declared; there is no ID token; userinfo carries none of email; no identity was recorded with the grant",
    );
  });
});

describe("a MailServer create with a grant from mailserver authorize", () => {
  it("succeeds when the refreshed ID token and userinfo have no email (the grant file records who authorized)", async () => {
    const project = await mkdtemp(join(tmpdir(), "mailserver-username-"));
    try {
      await writeSandboxGrant(op, join(dir, "create.json"), { flow: "loopback" });
      op.faults.omitEmailFromIdToken = "refresh";
      op.faults.omitEmailFromUserinfo = true;
      const state = await applyMailServer(
        { ...declaration("create.json"), baseDir: relative(project, dir) },
        undefined,
        { steps: realSteps(), cwd: project, env: {}, log: () => undefined },
      );
      expect(state).toMatchObject({ username: op.account.email, fromAddress: op.account.email });
      expect(fx.smtp.authAttempts).toEqual([
        expect.objectContaining({ method: "XOAUTH2", username: op.account.email, accepted: true }),
      ]);
    } finally {
      await rm(project, { recursive: true, force: true });
    }
  });
});
