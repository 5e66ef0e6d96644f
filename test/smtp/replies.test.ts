// One test per known vendor reply: the table matches the reply as the vendor words it, and the
// remedy reaches the user through a real session with the sandbox giving that reply.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { KNOWN_REPLIES, knownReply } from "../../provider/smtp/replies.js";
import { sendTestEmail } from "../../provider/smtp/test-email.js";
import { verifySmtp } from "../../provider/smtp/verify.js";
import { createThrowawayCA } from "../../sandbox/ca.js";
import type { SandboxFaults } from "../../sandbox/smtp.js";
import { type SmtpFixture, startSmtpFixture } from "../helpers/smtp-sandbox.js";

/** Each entry as the vendor's server says it, and where in the session it says it. */
const CASES: Array<{
  enhanced: string;
  /** The row's `contains`, when the row matches a text. */
  contains?: string;
  vendor: "office365" | "gmail";
  reply: string;
  at: keyof Pick<SandboxFaults, "authReply" | "mailFromReply" | "dataReply">;
  expected: { code: string; remedy: RegExp };
}> = [
  {
    enhanced: "5.7.139",
    contains: "basic authentication is disabled",
    vendor: "office365",
    reply:
      "535 5.7.139 Authentication unsuccessful, basic authentication is disabled. [BN9PR03CA0123.namprd03.prod.outlook.com]",
    at: "authReply",
    expected: { code: "auth-rejected", remedy: /switch to auth\.method: oauth/ },
  },
  {
    enhanced: "5.7.139",
    contains: "SmtpClientAuthentication is disabled",
    vendor: "office365",
    reply:
      "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.",
    at: "authReply",
    expected: {
      code: "auth-rejected",
      remedy: /Set-CASMailbox -Identity MAILBOX -SmtpClientAuthenticationDisabled \$false/,
    },
  },
  {
    enhanced: "5.7.139",
    contains: "did not meet the criteria to be authenticated successfully",
    vendor: "office365",
    reply:
      "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator. [DM6PR02CA0049.namprd02.prod.outlook.com]",
    at: "authReply",
    expected: { code: "auth-rejected", remedy: /Conditional Access policy that applied/ },
  },
  {
    enhanced: "5.7.139",
    contains: "security defaults policy",
    vendor: "office365",
    reply:
      "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy. Contact your administrator.",
    at: "authReply",
    expected: { code: "auth-rejected", remedy: /Security defaults block Basic authentication/ },
  },
  {
    enhanced: "5.7.139",
    vendor: "office365",
    reply: "535 5.7.139 Authentication unsuccessful, a reason nobody has seen before.",
    at: "authReply",
    expected: { code: "auth-rejected", remedy: /Read Microsoft's reason in the reply\. The usual causes/ },
  },
  {
    enhanced: "5.7.3",
    vendor: "office365",
    reply: "535 5.7.3 Authentication unsuccessful [SN4PR0601CA0010.namprd06.prod.outlook.com]",
    at: "authReply",
    expected: { code: "auth-rejected", remedy: /Microsoft refused the login/ },
  },
  {
    enhanced: "5.2.252",
    contains: "SendAsDenied",
    vendor: "office365",
    reply:
      "554 5.2.252 SendAsDenied; sender@contoso.com not allowed to send as other@contoso.com; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied",
    at: "dataReply",
    expected: { code: "send-failed", remedy: /Add-RecipientPermission .* -AccessRights SendAs/ },
  },
  {
    enhanced: "5.7.57",
    vendor: "office365",
    reply: "530 5.7.57 Client not authenticated to send mail. [MN2PR0102CA0012.prod.outlook.com]",
    at: "mailFromReply",
    expected: { code: "send-failed", remedy: /SMTP AUTH must succeed before MAIL FROM/ },
  },
  {
    enhanced: "5.7.8",
    vendor: "gmail",
    reply:
      "535 5.7.8 Username and Password not accepted. For more information, go to https://support.google.com/mail/?p=BadCredentials",
    at: "authReply",
    expected: { code: "auth-rejected", remedy: /app password/ },
  },
  {
    enhanced: "5.7.9",
    vendor: "gmail",
    reply:
      "534 5.7.9 Application-specific password required. For more information, go to https://support.google.com/mail/?p=InvalidSecondFactor",
    at: "authReply",
    expected: { code: "auth-rejected", remedy: /application-specific password/ },
  },
  {
    enhanced: "5.7.14",
    vendor: "gmail",
    reply:
      "534 5.7.14 <https://accounts.google.com/signin/continue?sarp=1> Please log in via your web browser and then try again.",
    at: "authReply",
    expected: { code: "auth-rejected", remedy: /interactive sign-in/ },
  },
];

/** The vendors' SMTP hosts: the sandbox stands in for them, reached through the lookup seam. */
const VENDOR_HOSTS = { office365: "smtp.office365.com", gmail: "smtp.gmail.com" } as const;

/**
 * A resolver that answers 127.0.0.1 for the vendors' SMTP hosts and refuses any other name: the
 * session under test connects to "smtp.office365.com" and reaches the sandbox, never Microsoft.
 */
const standInLookup = ((
  hostname: string,
  options: { all?: boolean },
  callback: (...args: unknown[]) => void,
) => {
  if (!Object.values(VENDOR_HOSTS).includes(hostname as never)) {
    return callback(Object.assign(new Error(`test refused to resolve ${hostname}`), { code: "ENOTFOUND" }));
  }
  return options?.all
    ? callback(null, [{ address: "127.0.0.1", family: 4 }])
    : callback(null, "127.0.0.1", 4);
}) as never;

const key = (entry: { enhanced: string; contains?: string; vendor: string }) =>
  `${entry.vendor} ${entry.enhanced} ${entry.contains ?? "(any text)"}`;

let fx: SmtpFixture;
beforeAll(async () => {
  // The certificate names the vendors' hosts, so that TLS checks them exactly as it would the real ones.
  const ca = createThrowawayCA();
  fx = await startSmtpFixture({ ca, certificate: ca.issue({ hosts: Object.values(VENDOR_HOSTS) }) });
});
afterAll(() => fx.stop());
beforeEach(() => fx.smtp.reset());

describe("known vendor replies", () => {
  it("has a case here for every entry of the table", () => {
    expect(CASES.map(key).sort()).toEqual(
      KNOWN_REPLIES.filter((r) => !r.appOnly)
        .map(key)
        .sort(),
    );
    expect(APP_ONLY_CASES.map((c) => c.reply.split(" ")[1]).sort()).toEqual(
      KNOWN_REPLIES.filter((r) => r.appOnly)
        .map((r) => r.enhanced)
        .sort(),
    );
  });

  for (const c of CASES) {
    it(`${key(c)}: matched and shown with its remedy`, async () => {
      const entry = knownReply(c.reply, c.vendor);
      expect(entry && key(entry)).toBe(key(c));
      expect(entry?.remedy).toMatch(c.expected.remedy);

      const code = Number(c.reply.slice(0, 3));
      fx.smtp.faults[c.at] = { code, message: c.reply.slice(4) };
      const decl = fx.normalized({ preset: c.vendor, smtp: { host: VENDOR_HOSTS[c.vendor] } });
      const options = { baseDir: fx.dir, lookup: standInLookup };
      const report =
        c.at === "authReply"
          ? await verifySmtp(decl, fx.credentials, options)
          : await sendTestEmail(decl, fx.credentials, options);
      expect(report.error).toMatchObject({ code: c.expected.code, smtpCode: code });
      expect(report.error?.message).toContain(c.reply.slice(0, 30));
      expect(report.error?.message).toMatch(c.expected.remedy);
    });
  }

  it("gives a standard code's vendor remedy only to that vendor's declarations", () => {
    const reply = "535 5.7.8 Error: authentication failed";
    expect(knownReply(reply, "gmail")?.enhanced).toBe("5.7.8");
    expect(knownReply(reply, "office365")).toBeUndefined();
    expect(knownReply(reply, undefined)).toBeUndefined();
    expect(knownReply("535 5.7.139 Authentication unsuccessful", undefined)?.vendor).toBe("office365");
  });

  it("does not take 5.7.3 for 5.7.139 or 5.7.30", () => {
    expect(knownReply("535 5.7.30 Something else", "office365")).toBeUndefined();
    expect(knownReply("535 5.7.139 Authentication unsuccessful", "office365")?.enhanced).toBe("5.7.139");
  });

  it("matches 5.7.139 by its text, whatever its case, and gives the generic remedy to an unknown text", () => {
    expect(
      knownReply("535 5.7.139 Authentication unsuccessful, Basic Authentication is disabled.", "office365")
        ?.contains,
    ).toBe("basic authentication is disabled");
    expect(
      knownReply(
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox.",
        "office365",
      )?.remedy,
    ).toMatch(/Set-CASMailbox/);
    const unknown = knownReply("535 5.7.139 Authentication unsuccessful", "office365");
    expect(unknown?.contains).toBeUndefined();
    expect(unknown?.remedy).not.toMatch(/^SMTP AUTH is disabled/);
  });
});

/** Exchange's replies to an app token for a mailbox the app has no rights on. */
const APP_ONLY_CASES = [
  { reply: "535 5.7.3 Authentication unsuccessful [SN4PR0601CA0010.namprd06.prod.outlook.com]" },
  {
    reply:
      "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator.",
  },
];

describe("Exchange's replies after an app-only login (client credentials)", () => {
  let app: SmtpFixture;
  beforeAll(async () => {
    // The reply is the fault: the token is never looked at.
    app = await startSmtpFixture({ verifyAccessToken: async () => null });
  });
  afterAll(() => app.stop());

  for (const { reply } of APP_ONLY_CASES) {
    it(`${reply.slice(0, 11)}: the service principal and mailbox permission remedy`, async () => {
      expect(knownReply(reply, "office365", true)?.remedy).toMatch(
        /New-ServicePrincipal .*Add-MailboxPermission/,
      );
      // The same reply after a delegated login keeps its delegated meaning.
      expect(knownReply(reply, "office365", false)?.remedy ?? "").not.toMatch(/New-ServicePrincipal/);
      app.smtp.faults.authReply = { code: 535, message: reply.slice(4) };
      const decl = app.normalized({
        preset: "office365",
        auth: {
          method: "oauth",
          flow: "client-credentials",
          clientId: "c",
          tenantId: "t",
          clientSecret: { env: "S" },
          username: "no-reply@contoso.com",
        },
      });
      const report = await verifySmtp(
        decl,
        { method: "oauth", username: "no-reply@contoso.com", accessToken: "app-token" },
        { baseDir: app.dir },
      );
      expect(report.error).toMatchObject({ code: "auth-rejected", smtpCode: 535 });
      expect(report.error?.message).toMatch(/Add-MailboxPermission -Identity MAILBOX/);
    });
  }

  it("a 5.7.139 that says SMTP AUTH is disabled keeps that remedy after an app-only login", () => {
    const reply =
      "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox.";
    expect(knownReply(reply, "office365", true)?.remedy).toMatch(/Set-CASMailbox/);
  });
});
