import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { runCli } from "../helpers/cli.js";
import { TEST_EMAIL_JSON_KEYS, VERIFY_JSON_KEYS, VERIFY_TLS_JSON_KEYS } from "../helpers/contracts.js";
import { type SmtpFixture, startSmtpFixture } from "../helpers/smtp-sandbox.js";

let fx: SmtpFixture;
beforeAll(async () => {
  fx = await startSmtpFixture();
});
afterAll(() => fx.stop());
beforeEach(() => fx.smtp.reset());

describe("mailserver verify", () => {
  for (const protocol of ["tls", "starttls"] as const) {
    it(`prints the JSON report and exits 0 over ${protocol}`, async () => {
      const file = await fx.writeDeclaration(`verify-${protocol}`, { protocol });
      const run = await runCli(["verify", file, "--format", "json"], { env: fx.env });
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      const report = JSON.parse(run.stdout);
      expect(Object.keys(report)).toEqual(VERIFY_JSON_KEYS);
      expect(Object.keys(report.tls)).toEqual(VERIFY_TLS_JSON_KEYS);
      expect(report).toMatchObject({
        ok: true,
        protocol,
        authenticatedAs: fx.smtp.account.username,
        error: null,
      });
      expect(run.stdout).not.toContain(fx.smtp.account.password);
    });
  }

  it("prints a text report for people", async () => {
    const file = await fx.writeDeclaration("verify-text");
    const run = await runCli(["verify", file], { env: fx.env });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^ok 127\.0\.0\.1:\d+ \(implicit TLS\) accepted the login of sender@sandbox\.test in \d+ ms\n/,
    );
    expect(run.stdout).toContain("  AUTH         PLAIN LOGIN\n");
  });
});

describe("mailserver test-email", () => {
  it("sends the test email and prints the JSON report", async () => {
    const file = await fx.writeDeclaration("test-email-json");
    const run = await runCli(["test-email", file, "--format", "json"], { env: fx.env });
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(Object.keys(report)).toEqual(TEST_EMAIL_JSON_KEYS);
    expect(report).toMatchObject({ ok: true, accepted: ["admin@sandbox.test"], rejected: [], error: null });
    const message = await fx.smtp.waitForMessage();
    expect(message.parsed.messageId).toBe(report.messageId);
  });
});

describe("usage errors exit 2", () => {
  const cases: Array<[string, (file: string) => string[], RegExp]> = [
    ["no DECLARATION", () => ["verify"], /verify needs a DECLARATION file/],
    ["a missing file", () => ["test-email", "nope.yaml"], /nope\.yaml: no such file/],
    ["an unknown flag", (file) => ["verify", file, "--insecure"], /Unknown option '--insecure'/],
    ["a bad --format", (file) => ["verify", file, "--format", "xml"], /--format must be text or json/],
    [
      "a bad --to",
      (file) => ["test-email", file, "--to", "not-an-address"],
      /"not-an-address" is not an email address/,
    ],
  ];
  for (const [what, args, message] of cases) {
    it(what, async () => {
      const file = await fx.writeDeclaration("usage");
      const run = await runCli(args(file), { env: fx.env, cwd: fx.dir });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stdout).toBe("");
    });
  }

  it("a built-in mail server declaration", async () => {
    const path = join(fx.dir, "builtin.yaml");
    await writeFile(path, stringify({ version: 1, name: "builtin", server: "builtin" }));
    const run = await runCli(["verify", path], { env: fx.env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("declares the built-in mail server: there is no SMTP server to verify");
  });

  it("test-email without testEmail.to and without --to", async () => {
    const path = join(fx.dir, "no-recipient.yaml");
    const { testEmail: _none, ...declaration } = fx.declaration({ name: "no-recipient" });
    await writeFile(path, stringify(declaration));
    const run = await runCli(["test-email", path], { env: fx.env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("has no testEmail.to: pass --to ADDRESS");
    expect(fx.smtp.authAttempts).toEqual([]);
  });
});

describe("text output of a failure", () => {
  it("says what failed on stderr with the code and the SMTP reply code, without the secret", async () => {
    const file = await fx.writeDeclaration("text-failure");
    const run = await runCli(["verify", file], { env: { SANDBOX_SMTP_PASSWORD: "wrong-secret-789" } });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^failed 127\.0\.0\.1:\d+ \(implicit TLS\) after \d+ ms\n/);
    expect(run.stderr).toMatch(
      /^mailserver: 127\.0\.0\.1:\d+ rejected the login of sender@sandbox\.test: 535 5\.7\.8 Username and Password not accepted\. Check the username and password or grant\. \(auth-rejected\) \[SMTP 535\]\n$/,
    );
    expect(run.stdout + run.stderr).not.toContain("wrong-secret-789");
  });
});

describe("the built CLI, spawned", () => {
  // End to end as a user runs it (`npm test` builds dist/ first).
  const bin = join(import.meta.dirname, "..", "..", "bin", "mailserver.js");
  it("verify --format json exits 0, and 1 with a wrong password", async () => {
    const file = await fx.writeDeclaration("spawned");
    const ok = await promisify(execFile)(process.execPath, [bin, "verify", file, "--format", "json"], {
      env: { ...process.env, ...fx.env },
    });
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, error: null });
    const failed = await promisify(execFile)(
      process.execPath,
      [bin, "test-email", file, "--format", "json"],
      {
        env: { ...process.env, SANDBOX_SMTP_PASSWORD: "wrong" },
      },
    ).catch((error: { code: number; stdout: string }) => error);
    expect(failed).toMatchObject({ code: 1 });
    expect(JSON.parse(failed.stdout)).toMatchObject({
      ok: false,
      error: { code: "auth-rejected", smtpCode: 535 },
    });
  });
});
