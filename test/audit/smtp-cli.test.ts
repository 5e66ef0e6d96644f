// Audit of the SMTP issue's fault list through the CLI: "temporary failure (451) then success" was
// tested only in the library (no exit code), and two connection faults did not check that the
// password stays out of what is printed. Real sandbox smtp-server with the throwaway CA.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { startSilentServer } from "../../sandbox/smtp.js";
import { type CliRun, runCli } from "../helpers/cli.js";
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

function expectNoPassword(run: CliRun): void {
  expect(run.stdout + run.stderr).not.toContain(fx.smtp.account.password);
}

describe("mailserver test-email: a 451 then success", () => {
  it("retries, delivers one message and exits 0 with the report of the try that worked", async () => {
    fx.smtp.faults.temporaryFailures = 1;
    const file = await declarationFile("audit-451");
    const run = await runCli(["test-email", file, "--format", "json"], { env: fx.env });
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ ok: true, accepted: ["admin@sandbox.test"], rejected: [], error: null });
    expect(fx.smtp.faults.temporaryFailures).toBe(0); // the server did answer 451 once
    expect(fx.smtp.messages).toHaveLength(1);
    expect(fx.smtp.messages[0]?.parsed.messageId).toBe(report.messageId);
    expectNoPassword(run);
  });
});

describe("connection faults print no secret", () => {
  it("nothing listens: exit 1, connect", async () => {
    const silent = await startSilentServer();
    const port = silent.port;
    await silent.stop();
    const run = await runCli(
      ["verify", await declarationFile("audit-closed", { port }), "--format", "json"],
      {
        env: fx.env,
      },
    );
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout).error.code).toBe("connect");
    expectNoPassword(run);
  });

  it("an untrusted CA: exit 1, tls, no AUTH sent", async () => {
    const run = await runCli(
      ["test-email", await declarationFile("audit-untrusted", { smtp: { tls: {} } }), "--format", "json"],
      { env: fx.env },
    );
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout).error.code).toBe("tls");
    expect(fx.smtp.authAttempts).toEqual([]);
    expect(fx.smtp.messages).toEqual([]);
    expectNoPassword(run);
  });
});
