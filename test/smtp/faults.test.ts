// Every fault of the SMTP issue, through the CLI as a user meets it: exit 1, the right code, and
// no secret in anything printed. Real servers throughout: the sandbox smtp-server with
// certificates from a throwaway CA, and a silent TCP server for "never greets".
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ReportError } from "../../provider/smtp/report.js";
import type { VerifyReport } from "../../provider/smtp/verify.js";
import { createThrowawayCA } from "../../sandbox/ca.js";
import { type SandboxSmtp, startSandboxSmtp, startSilentServer } from "../../sandbox/smtp.js";
import { type CliRun, runCli } from "../helpers/cli.js";
import { type DeclarationOverrides, type SmtpFixture, startSmtpFixture } from "../helpers/smtp-sandbox.js";

const DAY = 86_400_000;
let fx: SmtpFixture;
const ca = createThrowawayCA();
beforeAll(async () => {
  fx = await startSmtpFixture({ ca });
});
afterAll(() => fx.stop());
beforeEach(() => fx.smtp.reset());

/** A declaration file of its own for each run (the declaration keeps the fixture's name). */
function declarationFile(overrides: DeclarationOverrides = {}): Promise<string> {
  const file = `${overrides.name ?? "fault"}-${Math.random().toString(36).slice(2)}`;
  return fx.writeDeclaration(file, { name: "sandbox-mail", ...overrides });
}

async function verifyJson(
  overrides: DeclarationOverrides = {},
  env = fx.env,
): Promise<CliRun & { report: VerifyReport & { error: ReportError } }> {
  const run = await runCli(["verify", await declarationFile(overrides), "--format", "json"], { env });
  return { ...run, report: JSON.parse(run.stdout) };
}

function expectNoSecret(run: CliRun, ...secrets: string[]): void {
  for (const secret of [fx.smtp.account.password, ...secrets]) {
    expect(run.stdout).not.toContain(secret);
    expect(run.stderr).not.toContain(secret);
  }
}

/** Starts a second sandbox whose server certificate is the given one (same CA unless self-signed). */
async function withCertificate<T>(
  certificate: { certPem: string; keyPem: string },
  body: (s: SandboxSmtp) => Promise<T>,
) {
  const other = await startSandboxSmtp({ ca, certificate });
  try {
    return await body(other);
  } finally {
    await other.stop();
  }
}

describe("SMTP faults", () => {
  it("wrong password: auth-rejected with the 535 reply", async () => {
    const run = await verifyJson({}, { SANDBOX_SMTP_PASSWORD: "not-the-password-123" });
    expect(run.code).toBe(1);
    expect(run.report.error).toMatchObject({ code: "auth-rejected", smtpCode: 535 });
    expect(run.report.error.message).toContain("535 5.7.8 Username and Password not accepted");
    expect(run.report.authenticatedAs).toBeNull();
    expectNoSecret(run, "not-the-password-123");
  });

  it("unknown user: auth-rejected", async () => {
    const run = await verifyJson({
      auth: { method: "basic", username: "nobody@sandbox.test", password: { env: "SANDBOX_SMTP_PASSWORD" } },
    });
    expect(run.code).toBe(1);
    expect(run.report.error).toMatchObject({ code: "auth-rejected", smtpCode: 535 });
    expect(run.report.error.message).toContain("login of nobody@sandbox.test");
    expectNoSecret(run);
  });

  it("server drops the connection mid-session: connect", async () => {
    fx.smtp.faults.dropAt = "auth";
    const run = await verifyJson();
    expect(run.code).toBe(1);
    expect(run.report.error).toMatchObject({ code: "connect", smtpCode: null });
    expect(run.report.error.message).toContain("closed the connection during AUTH");
    expect(fx.smtp.authAttempts).toHaveLength(1);
    expectNoSecret(run);
  });

  it("server never greets: timeout after greetingMs", async () => {
    const silent = await startSilentServer();
    try {
      const run = await verifyJson({ protocol: "starttls", port: silent.port });
      expect(run.code).toBe(1);
      expect(run.report.error.code).toBe("timeout");
      expect(run.report.error.message).toContain("sent no greeting within 800 ms");
      expectNoSecret(run);
    } finally {
      await silent.stop();
    }
  });

  it("certificate for another host: tls, and no credential sent", async () => {
    await withCertificate(ca.issue({ hosts: ["mail.other.test"] }), async (other) => {
      const run = await verifyJson({ port: other.tlsPort });
      expect(run.code).toBe(1);
      expect(run.report.error.code).toBe("tls");
      expect(run.report.error.message).toContain("certificate is for another host");
      expect(other.authAttempts).toEqual([]);
      expectNoSecret(run);
    });
  });

  it("expired certificate: tls, over implicit TLS and over STARTTLS", async () => {
    const expired = ca.issue({
      notBefore: new Date(Date.now() - 3 * DAY),
      notAfter: new Date(Date.now() - DAY),
    });
    await withCertificate(expired, async (other) => {
      for (const [protocol, port] of [
        ["tls", other.tlsPort],
        ["starttls", other.starttlsPort],
      ] as const) {
        const run = await verifyJson({ protocol, port });
        expect(run.code).toBe(1);
        expect(run.report.error.code).toBe("tls");
        expect(run.report.error.message).toContain("certificate has expired");
        expectNoSecret(run);
      }
      expect(other.authAttempts).toEqual([]);
    });
  });

  it("self-signed certificate without tls.ca: tls", async () => {
    await withCertificate(ca.issue({ selfSigned: true }), async (other) => {
      const run = await verifyJson({ port: other.tlsPort, smtp: { tls: {} } });
      expect(run.code).toBe(1);
      expect(run.report.error.code).toBe("tls");
      expect(run.report.error.message).toContain("self-signed");
      expect(other.authAttempts).toEqual([]);
      expectNoSecret(run);
    });
  });

  it("a CA the machine does not trust, without tls.ca: tls", async () => {
    const run = await verifyJson({ smtp: { tls: {} } });
    expect(run.code).toBe(1);
    expect(run.report.error.code).toBe("tls");
    expect(run.report.error.message).toContain("issued by a CA this machine does not trust");
    expect(fx.smtp.authAttempts).toEqual([]);
    expectNoSecret(run);
  });

  it("a CA the machine does not trust, through test-email: exit 1, tls, no AUTH and no message sent", async () => {
    const run = await runCli(
      ["test-email", await declarationFile({ smtp: { tls: {} } }), "--format", "json"],
      {
        env: fx.env,
      },
    );
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout).error.code).toBe("tls");
    expect(fx.smtp.authAttempts).toEqual([]);
    expect(fx.smtp.messages).toEqual([]);
    expectNoSecret(run);
  });

  it("STARTTLS port that does not offer STARTTLS: starttls-unavailable, and the server never received AUTH", async () => {
    const plain = await startSandboxSmtp({ ca, hideSTARTTLS: true });
    try {
      const run = await verifyJson({ protocol: "starttls", port: plain.starttlsPort });
      expect(run.code).toBe(1);
      expect(run.report.error).toMatchObject({ code: "starttls-unavailable" });
      expect(run.report.error.message).toContain("no credential was sent");
      expect(run.report.tls).toBeNull();
      // The server would have accepted AUTH in plain text: the client did not send it.
      expect(plain.authAttempts).toEqual([]);
      expectNoSecret(run);
    } finally {
      await plain.stop();
    }
  });

  it("implicit-TLS declaration against a plain port: tls", async () => {
    const run = await verifyJson({ protocol: "tls", port: fx.smtp.starttlsPort });
    expect(run.code).toBe(1);
    expect(run.report.error.code).toBe("tls");
    expect(run.report.error.message).toContain("did not answer with TLS");
    expect(fx.smtp.authAttempts).toEqual([]);
    expectNoSecret(run);
  });

  it("nothing listens: connect", async () => {
    const silent = await startSilentServer();
    const port = silent.port;
    await silent.stop();
    const run = await verifyJson({ port });
    expect(run.code).toBe(1);
    expect(run.report.error.code).toBe("connect");
    expect(run.report.error.message).toContain("refused the connection (ECONNREFUSED)");
    expectNoSecret(run);
  });

  it("nothing listens, through test-email: exit 1, connect, no secret printed", async () => {
    const silent = await startSilentServer();
    const port = silent.port;
    await silent.stop();
    const run = await runCli(["test-email", await declarationFile({ port }), "--format", "json"], {
      env: fx.env,
    });
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout).error.code).toBe("connect");
    expectNoSecret(run);
  });

  it("temporary failure (451) then success: test-email retries, delivers one message and exits 0", async () => {
    fx.smtp.faults.temporaryFailures = 1;
    const run = await runCli(["test-email", await declarationFile(), "--format", "json"], { env: fx.env });
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ ok: true, accepted: ["admin@sandbox.test"], rejected: [], error: null });
    expect(fx.smtp.faults.temporaryFailures).toBe(0); // the server did answer 451 once
    expect(fx.smtp.messages).toHaveLength(1);
    expect(fx.smtp.messages[0]?.parsed.messageId).toBe(report.messageId);
    expectNoSecret(run);
  });

  it("recipient rejected (550): test-email exits 1 with recipient-rejected", async () => {
    fx.smtp.faults.rejectRecipients = ["admin@sandbox.test"];
    const file = await declarationFile();
    const run = await runCli(["test-email", file, "--format", "json"], { env: fx.env });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({
      ok: false,
      messageId: null,
      accepted: [],
      error: { code: "recipient-rejected", smtpCode: 550 },
    });
    expect(report.response).toContain("550");
    expect(fx.smtp.messages).toEqual([]);
    expectNoSecret(run);
  });

  it("one of two recipients rejected: the other gets it, and test-email still exits 1", async () => {
    fx.smtp.faults.rejectRecipients = ["gone@sandbox.test"];
    const file = await declarationFile({ testEmail: { to: ["admin@sandbox.test", "gone@sandbox.test"] } });
    const run = await runCli(["test-email", file, "--format", "json"], { env: fx.env });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({
      ok: false,
      accepted: ["admin@sandbox.test"],
      rejected: ["gone@sandbox.test"],
      error: { code: "recipient-rejected", smtpCode: 550 },
    });
    expect(report.messageId).toMatch(/^<.+@sandbox\.test>$/);
    expect(fx.smtp.messages).toHaveLength(1);
  });

  it("a config secret reference says it needs the Pulumi program", async () => {
    const file = await declarationFile({
      auth: { method: "basic", username: fx.smtp.account.username, password: { config: "smtpPassword" } },
    });
    const run = await runCli(["verify", file], { env: fx.env });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("only the Pulumi program can resolve it");
    expect(run.stderr).toContain("(secret-needs-pulumi)");
    expect(fx.smtp.authAttempts).toEqual([]);
  });
});
