/**
 * Lifecycle pieces in-process (the engine-protocol tests cover the same through the host): folder
 * loading, diff classification, check with unknown values, the required test email inside create,
 * and the post-deploy hook's test email, against the sandbox SMTP server.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isMailServerError } from "../../provider/errors.js";
import { checkInputs, UNKNOWN } from "../../provider/lifecycle/check.js";
import { sendDeployTestEmail } from "../../provider/lifecycle/deploy-hook.js";
import { diffMailServer } from "../../provider/lifecycle/diff.js";
import { create } from "../../provider/lifecycle.js";
import { loadDeclarations } from "../../provider/load-declarations.js";
import { type SandboxSmtp, startSandboxSmtp } from "../../sandbox/smtp.js";

let smtp: SandboxSmtp;
let folder: string;

beforeAll(async () => {
  smtp = await startSandboxSmtp();
  folder = mkdtempSync(join(tmpdir(), "mailserver-lifecycle-"));
  writeFileSync(join(folder, "ca.pem"), smtp.caPem);
});
afterAll(async () => {
  await smtp?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

function basic(overrides: Record<string, unknown> = {}) {
  return {
    version: 1,
    name: "corp-mail",
    smtp: { host: "127.0.0.1", protocol: "tls", port: smtp.tlsPort, tls: { ca: { file: "ca.pem" } } },
    auth: { method: "basic", username: smtp.account.username, password: { config: "inline:auth.password" } },
    from: { name: "Ops", address: "no-reply@sandbox.test" },
    baseDir: folder,
    secretValues: { "inline:auth.password": smtp.account.password },
    ...overrides,
  };
}

describe("loadDeclarations", () => {
  it("loads every declaration of a folder, sorted, with its folder as baseDir", async () => {
    const dir = join(folder, "decls");
    mkdirSync(join(dir, "nested"), { recursive: true });
    writeFileSync(join(dir, "b.yaml"), "version: 1\nname: b-mail\nserver: builtin\n");
    writeFileSync(
      join(dir, "nested", "a.json"),
      JSON.stringify({ version: 1, name: "a-mail", server: "builtin" }),
    );
    writeFileSync(join(dir, "README.md"), "# not a declaration\n");
    const loaded = await loadDeclarations(dir);
    expect(loaded.map((entry) => entry.declaration.name)).toEqual(["b-mail", "a-mail"]);
    expect(loaded[1]?.baseDir).toBe(join(dir, "nested"));
  });

  it("rejects the folder when a file is invalid or two files share a name, naming each problem", async () => {
    const dir = join(folder, "bad");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "one.yaml"), "version: 1\nname: same\nserver: builtin\n");
    writeFileSync(join(dir, "two.yaml"), "version: 1\nname: same\nserver: builtin\n");
    writeFileSync(join(dir, "three.yaml"), "version: 1\nname: Bad_Name\nserver: builtin\n");
    const error = await loadDeclarations(dir).catch((e: unknown) => e);
    expect(isMailServerError(error) && error.code).toBe("declaration-invalid");
    expect(String((error as Error).message)).toContain(
      `${join(dir, "three.yaml")}:2:7 name is not a valid setting name (schema)`,
    );
    expect(String((error as Error).message)).toContain('name "same" is already declared');
  });

  it("skips grant files and CI workflows next to the declarations, as the CLI does", async () => {
    const dir = join(folder, "with-grant");
    mkdirSync(join(dir, "ci"), { recursive: true });
    writeFileSync(join(dir, "corp.yaml"), "version: 1\nname: corp\nserver: builtin\n");
    writeFileSync(join(dir, "corp-grant.json"), JSON.stringify({ refreshToken: "rt", scope: ["openid"] }));
    writeFileSync(join(dir, "ci", "drift.yml"), "on: [push]\njobs: { drift: { runs-on: ubuntu-latest } }\n");
    const loaded = await loadDeclarations(dir);
    expect(loaded.map((entry) => entry.file)).toEqual([join(dir, "corp.yaml")]);
  });

  it("says how to fix a missing folder", async () => {
    const error = await loadDeclarations(join(folder, "absent")).catch((e: unknown) => e);
    expect(isMailServerError(error) && error.remedy).toContain("mailserver:declarations");
  });
});

describe("diff and check", () => {
  const oauth = (auth: Record<string, unknown> = {}, rest: Record<string, unknown> = {}) => ({
    version: 1,
    name: "corp-mail",
    smtp: { host: "smtp.sandbox.test" },
    auth: {
      method: "oauth",
      issuer: "https://op.sandbox.test",
      clientId: "c",
      scopes: "openid email",
      ...auth,
    },
    from: { address: "a@sandbox.test" },
    ...rest,
  });

  it("asks for a new grant only when issuer, client, scopes or flow change", () => {
    expect(diffMailServer(oauth(), oauth({ scopes: ["email", "openid"] })).changes).toBe(false);
    expect(diffMailServer(oauth(), oauth({ clientId: "d" })).grantRenewal).toEqual(["auth.clientId"]);
    expect(diffMailServer(oauth(), oauth({ flow: "device" })).grantRenewal).toEqual(["auth.flow"]);
    const from = diffMailServer(
      oauth(),
      oauth({}, { from: { address: "b@sandbox.test" }, replyTo: "r@sandbox.test" }),
    );
    expect(from).toMatchObject({ changes: true, grantRenewal: [], replaces: [] });
    expect(diffMailServer(oauth(), oauth({}, { name: "other" })).replaces).toEqual(["name"]);
  });

  it("does not report problems under values unknown during preview", () => {
    expect(checkInputs(oauth({ clientId: UNKNOWN })).failures).toEqual([]);
    expect(checkInputs(oauth({ clientId: 5 })).failures.map((failure) => failure.property)).toEqual([
      "auth.clientId",
    ]);
  });
});

describe("the test email", () => {
  it("testEmail.required sends it inside create, and a failure fails the create", async () => {
    smtp.reset();
    const inputs = basic({ testEmail: { to: ["ops@sandbox.test"], required: true } });
    const created = await create(inputs);
    expect(created.outs.lastTestEmail).toMatchObject({ ok: true });
    expect((await smtp.waitForMessage()).parsed.subject).toContain("corp-mail");
    smtp.faults.rejectRecipients = ["ops@sandbox.test"];
    await expect(create(inputs)).rejects.toThrow(/required test email failed/);
    smtp.reset();
  });

  it("the post-deploy hook sends it with the new outputs, and skips what is not onDeploy", async () => {
    smtp.reset();
    const created = await create(basic({ testEmail: { to: ["ops@sandbox.test"], subject: "Deployed" } }));
    const report = await sendDeployTestEmail(created.outs as Record<string, unknown>, { log: () => {} });
    expect(report?.accepted).toEqual(["ops@sandbox.test"]);
    const message = await smtp.waitForMessage();
    expect(message.parsed.subject).toBe("Deployed");
    expect(message.parsed.from?.text).toBe('"Ops" <no-reply@sandbox.test>');
    const off = await sendDeployTestEmail({
      ...created.outs,
      testEmail: { to: ["x@sandbox.test"], onDeploy: false },
    });
    expect(off).toBeUndefined();
  });
});
