// smtp.tls.ca that cannot serve as trust anchors. With STARTTLS the file is read while the TCP
// connection waits for the greeting (it is needed only at the upgrade): the failure must still be
// the `tls` error naming the field, with nothing sent, exactly as with implicit TLS.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { isMailServerError } from "../../provider/errors.js";
import { SmtpSession } from "../../provider/smtp/session.js";
import { sendTestEmail } from "../../provider/smtp/test-email.js";
import { type SmtpFixture, startSmtpFixture } from "../helpers/smtp-sandbox.js";

let fx: SmtpFixture;
beforeAll(async () => {
  fx = await startSmtpFixture();
  await writeFile(join(fx.dir, "not-a-certificate.pem"), "hello\n");
});
afterAll(() => fx.stop());
beforeEach(() => fx.smtp.reset());

const CASES = [
  { file: "missing.pem", message: "smtp.tls.ca (missing.pem) cannot be read: ENOENT" },
  { file: "not-a-certificate.pem", message: "smtp.tls.ca (not-a-certificate.pem) holds no PEM certificate" },
];

describe("unusable smtp.tls.ca", () => {
  for (const protocol of ["tls", "starttls"] as const) {
    for (const { file, message } of CASES) {
      it(`${protocol}, ${file}: SmtpSession.open fails with tls on smtp.tls.ca`, async () => {
        const decl = fx.normalized({ protocol, smtp: { tls: { ca: { file } } } });
        const error = await SmtpSession.open(decl, { baseDir: fx.dir }).then(
          () => undefined,
          (failure: unknown) => failure,
        );
        expect(isMailServerError(error)).toBe(true);
        expect(error).toMatchObject({ code: "tls", message, field: "smtp.tls.ca" });
      });

      it(`${protocol}, ${file}: the test email reports tls and nothing reaches the server`, async () => {
        const decl = fx.normalized({ protocol, smtp: { tls: { ca: { file } } } });
        const report = await sendTestEmail(decl, fx.credentials, { baseDir: fx.dir });
        expect(report).toMatchObject({ ok: false, messageId: null, error: { code: "tls" } });
        expect(report.error?.message).toContain(message);
        expect(fx.smtp.authAttempts).toEqual([]);
        expect(fx.smtp.messages).toEqual([]);
      });
    }
  }
});
