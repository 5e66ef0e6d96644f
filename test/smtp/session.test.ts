import { readFile } from "node:fs/promises";
import { join } from "node:path";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { smtpTransportOptions } from "../../provider/smtp/connection-options.js";
import { type SmtpFixture, startSmtpFixture } from "../helpers/smtp-sandbox.js";

let fx: SmtpFixture;
beforeAll(async () => {
  fx = await startSmtpFixture();
});
afterAll(() => fx.stop());
beforeEach(() => fx.smtp.reset());

describe("smtpTransportOptions", () => {
  for (const protocol of ["tls", "starttls"] as const) {
    it(`gives options an application can hand to nodemailer.createTransport (${protocol})`, async () => {
      const caPem = await readFile(join(fx.dir, "ca.pem"), "utf8");
      const options = {
        ...smtpTransportOptions(fx.normalized({ protocol }), caPem),
        auth: { user: fx.credentials.username, pass: fx.credentials.password },
      };
      expect(options).toMatchObject({
        host: "127.0.0.1",
        secure: protocol === "tls",
        requireTLS: protocol === "starttls",
        tls: { rejectUnauthorized: true, minVersion: "TLSv1.2" },
        auth: { user: fx.smtp.account.username },
      });
      // Plain data: it can be stored as a (secret) output and serialized.
      expect(JSON.parse(JSON.stringify(options))).toEqual(options);
      const transport = nodemailer.createTransport(options);
      await transport.sendMail({
        from: fx.smtp.account.username,
        to: "app@sandbox.test",
        subject: "app",
        text: "hi",
      });
      transport.close();
      expect((await fx.smtp.waitForMessage()).parsed.subject).toBe("app");
    });
  }

  it("trusts the declared CA, and the system's CAs only without one", async () => {
    const caPem = await readFile(join(fx.dir, "ca.pem"), "utf8");
    expect(smtpTransportOptions(fx.normalized()).tls).not.toHaveProperty("ca");
    expect(smtpTransportOptions(fx.normalized(), caPem).tls).toMatchObject({
      ca: caPem,
      rejectUnauthorized: true,
    });
  });
});
