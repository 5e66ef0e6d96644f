import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { runCli } from "../helpers/cli.js";
import { type DeclarationOverrides, type SmtpFixture, startSmtpFixture } from "../helpers/smtp-sandbox.js";

let fx: SmtpFixture;
beforeAll(async () => {
  fx = await startSmtpFixture();
});
afterAll(() => fx.stop());
beforeEach(() => fx.smtp.reset());

async function declarationFile(name: string, overrides: DeclarationOverrides = {}): Promise<string> {
  const path = join(fx.dir, `${name}.yaml`);
  await writeFile(path, stringify(fx.declaration({ name, ...overrides })));
  return path;
}

describe("mailserver verify", () => {
  for (const protocol of ["tls", "starttls"] as const) {
    it(`prints the JSON report and exits 0 over ${protocol}`, async () => {
      const file = await declarationFile(`verify-${protocol}`, { protocol });
      const run = await runCli(["verify", file, "--format", "json"], { env: fx.env });
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      const report = JSON.parse(run.stdout);
      expect(Object.keys(report)).toEqual([
        "ok",
        "host",
        "port",
        "protocol",
        "tls",
        "authMechanisms",
        "authenticatedAs",
        "durationMs",
        "error",
      ]);
      expect(Object.keys(report.tls)).toEqual([
        "version",
        "cipher",
        "subject",
        "issuer",
        "fingerprint256",
        "validTo",
        "daysLeft",
      ]);
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
    const file = await declarationFile("verify-text");
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
    const file = await declarationFile("test-email-json");
    const run = await runCli(["test-email", file, "--format", "json"], { env: fx.env });
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(Object.keys(report)).toEqual([
      "ok",
      "messageId",
      "accepted",
      "rejected",
      "response",
      "durationMs",
      "error",
    ]);
    expect(report).toMatchObject({ ok: true, accepted: ["admin@sandbox.test"], rejected: [], error: null });
    const message = await fx.smtp.waitForMessage();
    expect(message.parsed.messageId).toBe(report.messageId);
  });
});
