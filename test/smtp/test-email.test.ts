import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { composeTestEmail, sendTestEmail } from "../../provider/smtp/test-email.js";
import { type SmtpFixture, startSmtpFixture } from "../helpers/smtp-sandbox.js";

let fx: SmtpFixture;
beforeAll(async () => {
  fx = await startSmtpFixture();
});
afterAll(() => fx.stop());
beforeEach(() => fx.smtp.reset());

/** Records the backoff instead of waiting for it. */
function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

describe("sendTestEmail", () => {
  for (const protocol of ["tls", "starttls"] as const) {
    it(`delivers the test email over ${protocol} with the declared From, Reply-To, To and Subject`, async () => {
      const decl = fx.normalized({
        protocol,
        replyTo: "helpdesk@sandbox.test",
        testEmail: { to: ["admin@sandbox.test", "ops@sandbox.test"], subject: "Mail check" },
      });
      const now = new Date("2026-03-01T12:00:00.000Z");
      const report = await sendTestEmail(decl, fx.credentials, { baseDir: fx.dir, now: () => now });
      expect(report).toMatchObject({
        ok: true,
        accepted: ["admin@sandbox.test", "ops@sandbox.test"],
        rejected: [],
        error: null,
      });
      expect(report.response).toMatch(/^250 .*Message queued as sandbox-1/);
      const { parsed, envelope, user } = await fx.smtp.waitForMessage();
      expect(user).toBe(fx.smtp.account.username);
      expect(envelope).toEqual({
        from: "sender@sandbox.test",
        to: ["admin@sandbox.test", "ops@sandbox.test"],
      });
      expect(parsed.from?.value).toEqual([{ name: "Sandbox Sender", address: "sender@sandbox.test" }]);
      expect(parsed.replyTo?.value).toEqual([{ name: "", address: "helpdesk@sandbox.test" }]);
      expect(parsed.to && !Array.isArray(parsed.to) && parsed.to.value.map((a) => a.address)).toEqual([
        "admin@sandbox.test",
        "ops@sandbox.test",
      ]);
      expect(parsed.subject).toBe("Mail check");
      expect(parsed.messageId).toBe(report.messageId);
      expect(parsed.date?.toISOString()).toBe("2026-03-01T12:00:00.000Z");
      expect(parsed.text).toContain('This is a test email from the mail server setting "sandbox-mail"');
      expect(parsed.text).toContain("Sent at: 2026-03-01T12:00:00.000Z");
      expect(parsed.text).toContain(`Server: 127.0.0.1:${decl.smtp.port}`);
      expect(parsed.html).toContain("<strong>sandbox-mail</strong>");
      expect(parsed.html).toContain("Sent at: 2026-03-01T12:00:00.000Z");
    });
  }

  it("sets no Reply-To when replyTo is empty, and a default subject naming the declaration", async () => {
    const decl = fx.normalized({ replyTo: "", testEmail: { to: ["admin@sandbox.test"] } });
    const report = await sendTestEmail(decl, fx.credentials, { baseDir: fx.dir });
    expect(report.ok).toBe(true);
    const { parsed, raw } = await fx.smtp.waitForMessage();
    expect(parsed.replyTo).toBeUndefined();
    expect(raw.toString()).not.toMatch(/^Reply-To:/im);
    expect(parsed.subject).toBe('Test email from the mail server setting "sandbox-mail"');
  });

  it("sends to --to instead of testEmail.to", async () => {
    const report = await sendTestEmail(fx.normalized(), fx.credentials, {
      baseDir: fx.dir,
      to: ["other@sandbox.test"],
    });
    expect(report.accepted).toEqual(["other@sandbox.test"]);
    expect((await fx.smtp.waitForMessage()).envelope.to).toEqual(["other@sandbox.test"]);
  });

  it("uses the grant's From Address when the declaration has none (OAuth without from.address)", async () => {
    const decl = fx.normalized({ from: { name: "Ops" } });
    const report = await sendTestEmail(
      decl,
      async () => ({ credentials: fx.credentials, grant: { fromAddress: "sender@sandbox.test" } }),
      { baseDir: fx.dir },
    );
    expect(report.ok).toBe(true);
    expect((await fx.smtp.waitForMessage()).parsed.from?.value).toEqual([
      { name: "Ops", address: "sender@sandbox.test" },
    ]);
  });

  it("gives every test email a unique Message-ID", () => {
    const decl = fx.normalized();
    const ids = new Set(Array.from({ length: 50 }, () => composeTestEmail(decl, fx.credentials).messageId));
    expect(ids.size).toBe(50);
  });

  it("retries a 451 with backoff and then succeeds", async () => {
    fx.smtp.faults.temporaryFailures = 2;
    const { waits, sleep } = recordingSleep();
    const report = await sendTestEmail(fx.normalized(), fx.credentials, { baseDir: fx.dir, sleep });
    expect(report.ok).toBe(true);
    expect(waits).toEqual([1_000, 3_000]);
    expect(fx.smtp.messages).toHaveLength(1);
    expect(fx.smtp.authAttempts).toHaveLength(3);
  });

  it("reports a 451 that lasts beyond three tries as send-failed with its code", async () => {
    fx.smtp.faults.temporaryFailures = 5;
    const { waits, sleep } = recordingSleep();
    const report = await sendTestEmail(fx.normalized(), fx.credentials, { baseDir: fx.dir, sleep });
    expect(report).toMatchObject({
      ok: false,
      messageId: null,
      error: { code: "send-failed", smtpCode: 451 },
    });
    expect(report.response).toContain("451 4.3.0");
    expect(waits).toHaveLength(2);
    expect(fx.smtp.faults.temporaryFailures).toBe(2);
  });

  it("reports a 5xx at once, without retrying", async () => {
    fx.smtp.faults.dataReply = { code: 554, message: "5.6.0 Message rejected by policy" };
    const { waits, sleep } = recordingSleep();
    const report = await sendTestEmail(fx.normalized(), fx.credentials, { baseDir: fx.dir, sleep });
    expect(report).toMatchObject({ ok: false, error: { code: "send-failed", smtpCode: 554 } });
    expect(waits).toEqual([]);
    expect(fx.smtp.authAttempts).toHaveLength(1);
  });

  it("reports a missing From address without sending AUTH", async () => {
    const report = await sendTestEmail(fx.normalized({ from: { name: "Nobody" } }), fx.credentials, {
      baseDir: fx.dir,
    });
    expect(report.error).toMatchObject({ code: "send-failed" });
    expect(report.error?.message).toContain("has no From address");
    expect(fx.smtp.authAttempts).toEqual([]);
  });
});
