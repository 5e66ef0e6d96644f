import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { verifySmtp } from "../../provider/smtp/verify.js";
import { startSilentServer } from "../../sandbox/smtp.js";
import { type SmtpFixture, startSmtpFixture } from "../helpers/smtp-sandbox.js";

let fx: SmtpFixture;
beforeAll(async () => {
  fx = await startSmtpFixture();
});
afterAll(() => fx.stop());
beforeEach(() => fx.smtp.reset());

describe("verifySmtp", () => {
  for (const protocol of ["tls", "starttls"] as const) {
    it(`logs in with Basic auth over ${protocol} and reports the TLS facts`, async () => {
      const report = await verifySmtp(fx.normalized({ protocol }), fx.credentials, { baseDir: fx.dir });
      expect(report.error).toBeNull();
      expect(report).toMatchObject({
        ok: true,
        host: "127.0.0.1",
        protocol,
        authMechanisms: ["PLAIN", "LOGIN"],
        authenticatedAs: fx.smtp.account.username,
      });
      expect(report.tls?.version).toMatch(/^TLSv1\.[23]$/);
      expect(report.tls?.subject).toContain("CN=localhost");
      expect(report.tls?.issuer).toContain("CN=pulumi-mailserver throwaway CA");
      expect(report.tls?.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      expect(report.tls?.daysLeft).toBeGreaterThanOrEqual(29);
      expect(fx.smtp.authAttempts).toEqual([
        expect.objectContaining({ method: "PLAIN", secure: true, accepted: true }),
      ]);
    });
  }

  it("reports a wrong password as auth-rejected with the server's reply", async () => {
    const report = await verifySmtp(
      fx.normalized(),
      { ...fx.credentials, password: "wrong-password-xyz" },
      {
        baseDir: fx.dir,
      },
    );
    expect(report.ok).toBe(false);
    expect(report.error).toMatchObject({ code: "auth-rejected", smtpCode: 535 });
    expect(report.error?.message).toContain("535");
    expect(JSON.stringify(report)).not.toContain("wrong-password-xyz");
    expect(report.tls).not.toBeNull();
  });

  it("a host name that does not resolve: dns", async () => {
    // The system resolver would ask a DNS server off this machine: the test brings its own
    // resolver answering as a resolver does for an unknown name (only loopback traffic in tests).
    const lookup = ((hostname: string, _options: unknown, callback: (error: Error) => void) =>
      callback(
        Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" }),
      )) as never;
    const decl = fx.normalized({ smtp: { host: "smtp.does-not-exist.invalid" } });
    const report = await verifySmtp(decl, fx.credentials, { baseDir: fx.dir, lookup });
    expect(report.error).toMatchObject({ code: "dns", smtpCode: null });
    expect(report.error?.message).toBe(
      "smtp.host smtp.does-not-exist.invalid does not resolve (ENOTFOUND). Check smtp.host.",
    );
  });

  it("never greets -> timeout", async () => {
    const silent = await startSilentServer();
    try {
      const report = await verifySmtp(
        fx.normalized({ protocol: "starttls", port: silent.port }),
        fx.credentials,
        { baseDir: fx.dir },
      );
      expect(report.error).toMatchObject({ code: "timeout" });
      expect(report.error?.message).toContain("no greeting");
    } finally {
      await silent.stop();
    }
  });
});
