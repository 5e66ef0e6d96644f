// The XOAUTH2 error challenge (a 334 with base64 JSON `{status, schemes, scope}`, RFC 7628 3.2.2)
// decoded and named in the message: a Gmail grant without https://mail.google.com/ is told to add
// that scope, not to "authorize again". The sandbox stands in for smtp.gmail.com (lookup seam).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { SmtpCredentials } from "../../provider/smtp/session.js";
import { verifySmtp } from "../../provider/smtp/verify.js";
import { xoauth2ErrorChallenge } from "../../provider/smtp/xoauth2.js";
import { createThrowawayCA } from "../../sandbox/ca.js";
import { type SmtpFixture, startSmtpFixture } from "../helpers/smtp-sandbox.js";

const GMAIL = "smtp.gmail.com";

/** Answers 127.0.0.1 for smtp.gmail.com and refuses every other name: the test never reaches Google. */
const standInLookup = ((
  hostname: string,
  options: { all?: boolean },
  callback: (...args: unknown[]) => void,
) => {
  if (hostname !== GMAIL) {
    return callback(Object.assign(new Error(`test refused to resolve ${hostname}`), { code: "ENOTFOUND" }));
  }
  return options?.all
    ? callback(null, [{ address: "127.0.0.1", family: 4 }])
    : callback(null, "127.0.0.1", 4);
}) as never;

let fx: SmtpFixture;
beforeAll(async () => {
  const ca = createThrowawayCA();
  // Any token reaches the challenge fault, but XOAUTH2 is only offered with a verifier.
  fx = await startSmtpFixture({
    ca,
    certificate: ca.issue({ hosts: [GMAIL] }),
    verifyAccessToken: async () => null,
  });
});
afterAll(() => fx.stop());
beforeEach(() => fx.smtp.reset());

const credentials: SmtpCredentials = {
  method: "oauth",
  username: "ops@example.com",
  accessToken: "ya29.test-token",
};

function gmailOAuth(scopes: [string, ...string[]]) {
  return fx.normalized({
    preset: "gmail",
    smtp: { host: GMAIL },
    auth: { method: "oauth", clientId: "c.apps.googleusercontent.com", scopes },
    from: { address: "ops@example.com" },
  });
}

describe("the XOAUTH2 error challenge", () => {
  it("names the scope the server needs and tells to add it when the grant lacks it", async () => {
    fx.smtp.faults.xoauth2Challenge = { status: "400", schemes: "Bearer", scope: "https://mail.google.com/" };
    const decl = gmailOAuth(["https://www.googleapis.com/auth/gmail.send", "openid", "email"]);
    const report = await verifySmtp(decl, credentials, { baseDir: fx.dir, lookup: standInLookup });
    expect(report.error).toMatchObject({ code: "auth-rejected", smtpCode: 535 });
    expect(report.error?.message).toMatch(
      /^smtp\.gmail\.com:\d+ rejected the login of ops@example\.com \(XOAUTH2 status 400; the server needs the scope https:\/\/mail\.google\.com\/; schemes Bearer\): 535 /,
    );
    expect(report.error?.message).toMatch(
      /Add https:\/\/mail\.google\.com\/ to auth\.scopes, then run `mailserver authorize FILE --out FILE\.json`/,
    );
    expect(report.error?.message).not.toContain("ya29.test-token");
  });

  it("names the scope but keeps the vendor's remedy when the grant has it (a dead token)", async () => {
    fx.smtp.faults.xoauth2Challenge = { status: "401", schemes: "bearer", scope: "https://mail.google.com/" };
    const decl = gmailOAuth(["https://mail.google.com/", "openid", "email"]);
    const report = await verifySmtp(decl, credentials, { baseDir: fx.dir, lookup: standInLookup });
    expect(report.error?.message).toMatch(
      /\(XOAUTH2 status 401; the server needs the scope https:\/\/mail\.google\.com\/; schemes bearer\)/,
    );
    expect(report.error?.message).not.toMatch(/Add https:\/\/mail\.google\.com\/ to auth\.scopes/);
    expect(report.error?.message).toMatch(/Check the username and password or grant\.$/);
  });
});

describe("xoauth2ErrorChallenge", () => {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64");
  it("decodes status, scope and schemes", () => {
    expect(
      xoauth2ErrorChallenge(encode({ status: "400", schemes: "Bearer", scope: "https://mail.google.com/" })),
    ).toEqual({ status: "400", schemes: "Bearer", scope: "https://mail.google.com/" });
  });
  it("leaves out what is missing or not a string, and gives {} for what is not JSON", () => {
    expect(xoauth2ErrorChallenge(encode({ status: 401, scope: "" }))).toEqual({});
    expect(xoauth2ErrorChallenge(encode({ status: "401" }))).toEqual({ status: "401" });
    expect(xoauth2ErrorChallenge("not base64 json")).toEqual({});
    expect(xoauth2ErrorChallenge("")).toEqual({});
  });
});
