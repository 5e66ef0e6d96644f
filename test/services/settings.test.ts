// The pure parts of the service modules: Keycloak's smtpServer map to and from the service-neutral
// setting, the declared-vs-live comparison, and the live setting written as declaration fields.
import { describe, expect, it } from "vitest";
import { loadDeclarationText } from "../../provider/declaration/load.js";
import { normalizeDeclaration } from "../../provider/declaration/normalize.js";
import { liveSetting, smtpServerMap } from "../../provider/services/keycloak-settings.js";
import { declarationFromLive, inputsWithLive } from "../../provider/services/live-declaration.js";
import { serviceMismatches } from "../../provider/services/mismatches.js";

const yaml = `version: 1
name: corp-mail
smtp: { host: smtp.example.com, protocol: starttls }
auth: { method: basic, username: mailer, password: { env: SMTP_PASSWORD } }
from: { name: Corp, address: no-reply@example.com }
service:
  type: keycloak
  url: https://sso.example.com
  realm: corp
  clientId: mailserver-admin
  clientSecret: { env: KEYCLOAK_ADMIN_SECRET }
`;
const declared = normalizeDeclaration(loadDeclarationText(yaml, "f.yaml").declaration!);
const written = {
  host: "smtp.example.com",
  port: 587,
  protocol: "starttls" as const,
  auth: { method: "basic" as const, username: "mailer", password: "pw" },
  from: { address: "no-reply@example.com", name: "Corp" },
};

describe("Keycloak's smtpServer map", () => {
  it("is written with strings, keeps unmanaged keys, and drops managed keys the setting lacks", () => {
    const map = smtpServerMap(written, {
      envelopeFrom: "b@example.com",
      replyTo: "old@example.com",
      authTokenUrl: "x",
    });
    expect(map).toEqual({
      envelopeFrom: "b@example.com",
      host: "smtp.example.com",
      port: "587",
      ssl: "false",
      starttls: "true",
      auth: "true",
      user: "mailer",
      password: "pw",
      from: "no-reply@example.com",
      fromDisplayName: "Corp",
    });
    expect(smtpServerMap(written, { authType: "basic" }).authType).toBe("basic");
  });

  it("is read back with Keycloak's defaults (no port: 465 with SSL, 25 without) and secrets only as stored", () => {
    expect(liveSetting({})).toEqual({ configured: false });
    expect(
      liveSetting({ host: "h", ssl: "true", auth: "true", user: "u", password: "**********", from: "a@b.c" }),
    ).toEqual({
      configured: true,
      host: "h",
      port: 465,
      protocol: "tls",
      auth: { method: "basic", username: "u", passwordStored: true },
      from: { address: "a@b.c" },
    });
    expect(liveSetting({ host: "h", auth: "false" })).toMatchObject({
      port: 25,
      protocol: "plain",
      auth: { method: "none" },
    });
    expect(
      liveSetting({
        host: "h",
        starttls: "true",
        auth: "true",
        authType: "token",
        user: "u",
        authTokenUrl: "https://op/token",
        authTokenClientId: "c",
        authTokenScope: "a b",
      }),
    ).toMatchObject({
      protocol: "starttls",
      auth: {
        method: "client-credentials",
        tokenUrl: "https://op/token",
        clientId: "c",
        scopes: ["a", "b"],
        clientSecretStored: false,
      },
    });
  });
});

describe("serviceMismatches", () => {
  const live = liveSetting(smtpServerMap(written));
  it("finds nothing when the realm has what is declared (host and addresses case-insensitively)", () => {
    expect(serviceMismatches(declared, live)).toEqual([]);
    expect(
      serviceMismatches(declared, liveSetting(smtpServerMap({ ...written, host: "SMTP.example.com" }))),
    ).toEqual([]);
  });

  it("names each differing field with both values; a password shows only as stored or not", () => {
    const edited = liveSetting({
      ...smtpServerMap(written),
      host: "other.example.com",
      port: "2525",
      password: "",
    });
    expect(serviceMismatches(declared, edited)).toEqual([
      { field: "smtp.host", declared: "smtp.example.com", live: "other.example.com" },
      { field: "smtp.port", declared: 587, live: 2525 },
      { field: "auth.password", declared: "(a secret)", live: "(none stored)" },
    ]);
    expect(serviceMismatches(declared, { configured: false })).toEqual([
      { field: "server", declared: "custom (smtp.example.com)", live: "no email settings" },
    ]);
  });
});

describe("the live setting as declaration fields", () => {
  it("inputsWithLive patches only the differing fields, and reads an empty realm as builtin", () => {
    const inputs = { ...loadDeclarationText(yaml, "f.yaml").declaration, baseDir: "." } as Record<
      string,
      unknown
    >;
    const edited = liveSetting({ ...smtpServerMap(written), host: "other.example.com", fromDisplayName: "" });
    const patched = inputsWithLive(inputs, edited, serviceMismatches(declared, edited));
    expect(patched.smtp).toEqual({ host: "other.example.com", protocol: "starttls" });
    expect(patched.from).toEqual({ address: "no-reply@example.com" });
    expect(inputs.smtp).toEqual({ host: "smtp.example.com", protocol: "starttls" });
    const empty = inputsWithLive(
      inputs,
      { configured: false },
      serviceMismatches(declared, { configured: false }),
    );
    expect(empty).toMatchObject({ server: "builtin", baseDir: "." });
    expect(empty).not.toHaveProperty("smtp");
  });

  it("declarationFromLive: an empty realm is builtin; plain SMTP cannot be declared", () => {
    const service = {
      type: "keycloak" as const,
      url: "https://sso",
      realm: "corp",
      clientId: "c",
      clientSecret: { env: "S" },
    };
    expect(
      declarationFromLive(
        { configured: false },
        { name: "corp-mail", service, passwordEnv: "P", clientSecretEnv: "C" },
      ),
    ).toEqual({
      version: 1,
      name: "corp-mail",
      server: "builtin",
      service,
    });
    expect(() =>
      declarationFromLive(liveSetting({ host: "h", auth: "true", user: "u", from: "a@b.c" }), {
        name: "corp-mail",
        service,
        passwordEnv: "P",
        clientSecretEnv: "C",
      }),
    ).toThrow(/plain SMTP/);
  });
});
