import { describe, expect, it } from "vitest";
import type { MailServerDeclaration } from "../../provider/declaration/generated/declaration.js";
import { normalizeDeclaration } from "../../provider/declaration/normalize.js";

describe("normalizeDeclaration", () => {
  it("fills the office365 preset's facts", () => {
    const normalized = normalizeDeclaration({
      version: 1,
      name: "o",
      preset: "office365",
      auth: { method: "oauth", clientId: "c", username: "u@contoso.com" },
    } as MailServerDeclaration);
    expect(normalized).toMatchObject({
      server: "custom",
      vendor: "office365",
      smtp: {
        host: "smtp.office365.com",
        protocol: "starttls",
        port: 587,
        timeouts: { connectionMs: 10_000 },
      },
      auth: {
        issuer: "https://login.microsoftonline.com/common/v2.0",
        scopes: ["https://outlook.office365.com/SMTP.Send", "openid", "email", "offline_access"],
        flow: "loopback",
        rotatesRefreshTokens: true,
        usernameClaims: ["email", "preferred_username", "upn"],
      },
    });
  });

  it("recognises Gmail by its host and adds Google's authorization parameters", () => {
    const normalized = normalizeDeclaration({
      version: 1,
      name: "g",
      smtp: { host: "smtp.gmail.com", protocol: "starttls" },
      auth: {
        method: "oauth",
        clientId: "c",
        issuer: "https://accounts.google.com",
        scopes: "https://mail.google.com/ email",
      },
    } as MailServerDeclaration);
    expect(normalized).toMatchObject({
      vendor: "gmail",
      smtp: { port: 587 },
      auth: {
        scopes: ["https://mail.google.com/", "email"],
        authorizationParams: { access_type: "offline", prompt: "consent" },
      },
    });
  });

  it("treats an empty replyTo as replies disabled and defaults the test email switches", () => {
    const normalized = normalizeDeclaration({
      version: 1,
      name: "b",
      smtp: { host: "mail.example.org" },
      auth: { method: "basic", username: "u", password: { env: "P" } },
      from: { address: "a@example.org" },
      replyTo: "",
      testEmail: { to: ["ops@example.org"] },
    });
    expect(normalized).toMatchObject({
      smtp: { protocol: "tls", port: 465 },
      testEmail: { onDeploy: true, required: false },
    });
    expect(normalized).not.toHaveProperty("replyTo");
  });

  it("keeps only name and test email for the built-in server", () => {
    expect(
      normalizeDeclaration({
        version: 1,
        name: "b",
        server: "builtin",
        testEmail: { to: ["a@example.com"] },
      }),
    ).toEqual({
      version: 1,
      name: "b",
      server: "builtin",
      testEmail: { to: ["a@example.com"], onDeploy: true, required: false },
    });
  });
});
