import { describe, expect, it } from "vitest";
import { loadDeclarationText } from "../../provider/declaration/load.js";
import { normalizeDeclaration } from "../../provider/declaration/normalize.js";

function problems(yaml: string) {
  return loadDeclarationText(yaml, "fixture.yaml").problems.map(({ code, line, severity, message }) => ({
    code,
    line,
    severity,
    message,
  }));
}

const basic = `version: 1
name: corp-mail
smtp: { host: smtp.example.com }
auth:
  method: basic
  username: mailer
  password: { env: SMTP_PASSWORD }
from: { address: no-reply@example.com }
`;

const service = (lines: Record<string, string> = {}) => {
  const fields = {
    type: "keycloak",
    url: "https://sso.example.com",
    realm: "corp",
    clientId: "mailserver-admin",
    clientSecret: "{ env: KEYCLOAK_ADMIN_SECRET }",
    ...lines,
  };
  return `service:\n${Object.entries(fields)
    .filter(([, value]) => value !== "")
    .map(([key, value]) => `  ${key}: ${value}`)
    .join("\n")}\n`;
};

describe("the service block", () => {
  it("is valid with Basic auth, and normalizes adminRealm to the realm", () => {
    const loaded = loadDeclarationText(basic + service(), "f.yaml");
    expect(loaded.problems).toEqual([]);
    const normalized = normalizeDeclaration(loaded.declaration!);
    expect(normalized.service).toEqual({
      type: "keycloak",
      url: "https://sso.example.com",
      realm: "corp",
      adminRealm: "corp",
      clientId: "mailserver-admin",
      clientSecret: { env: "KEYCLOAK_ADMIN_SECRET" },
    });
  });

  it("keeps a declared adminRealm and drops a trailing slash of the URL", () => {
    const loaded = loadDeclarationText(
      basic + service({ url: "https://sso.example.com/auth/", adminRealm: "master" }),
      "f.yaml",
    );
    const normalized = normalizeDeclaration(loaded.declaration!);
    expect(normalized.service).toMatchObject({ url: "https://sso.example.com/auth", adminRealm: "master" });
  });

  it("service-unsupported-auth: a delegated OAuth grant (loopback by default, or device) cannot be stored", () => {
    const oauth = (flow: string) => `version: 1
name: corp-mail
smtp: { host: smtp.example.com }
auth:
  method: oauth
  issuer: https://op.example.com
  clientId: c
  scopes: [s]
  username: u@example.com
${flow}${service()}`;
    const loopback = problems(oauth(""));
    expect(loopback).toEqual([
      expect.objectContaining({ code: "service-unsupported-auth", line: 5, severity: "error" }),
    ]);
    expect(loopback[0]?.message).toContain("only with Basic auth or OAuth client credentials");
    expect(problems(oauth("  flow: device\n"))).toEqual([
      expect.objectContaining({ code: "service-unsupported-auth", line: 10, severity: "error" }),
    ]);
    // The same OAuth declaration without a service is fine.
    expect(problems(oauth("").replace(/service:[\s\S]*$/, ""))).toEqual([]);
  });

  it("service-unsupported-auth: client credentials with a secret are fine; a client assertion or a service account key are not", () => {
    const app = (extra: string) => `version: 1
name: corp-mail
smtp: { host: smtp.example.com }
auth:
  method: oauth
  flow: client-credentials
  tokenEndpoint: https://op.example.com/token
  clientId: c
  scopes: [s]
  username: u@example.com
${extra}from: { address: u@example.com }
${service()}`;
    expect(problems(app("  clientSecret: { env: APP_SECRET }\n"))).toEqual([]);
    const assertion = problems(app("  clientAssertion: { privateKey: { file: app.key } }\n"));
    expect(assertion).toEqual([expect.objectContaining({ code: "service-unsupported-auth", line: 11 })]);
    expect(assertion[0]?.message).toContain("it cannot store a client assertion (private_key_jwt)");
  });

  it("service-no-builtin (warning): the built-in server clears the realm, which then sends nothing", () => {
    const found = problems(`version: 1\nname: corp-mail\nserver: builtin\n${service()}`);
    expect(found).toEqual([
      expect.objectContaining({ code: "service-no-builtin", line: 3, severity: "warning" }),
    ]);
    expect(found[0]?.message).toContain("the realm will send no mail");
  });

  it("service-insecure-url: http on a host that is not loopback; http on loopback is fine", () => {
    expect(problems(basic + service({ url: "http://sso.example.com" }))).toEqual([
      expect.objectContaining({ code: "service-insecure-url", line: 11, severity: "error" }),
    ]);
    expect(problems(basic + service({ url: "http://127.0.0.1:8080" }))).toEqual([]);
    expect(problems(basic + service({ url: "http://localhost:8080" }))).toEqual([]);
  });

  it("secret-literal: the admin client secret written as a string, never quoted", () => {
    const found = problems(basic + service({ clientSecret: "kc-admin-s3cr3t" }));
    expect(found.map(({ code, line }) => ({ code, line }))).toEqual([{ code: "secret-literal", line: 14 }]);
    expect(JSON.stringify(found)).not.toContain("kc-admin-s3cr3t");
  });

  it("schema: an unknown service type, a missing realm and an unknown field", () => {
    const found = problems(basic + service({ type: "zitadel", realm: "", tenant: "x" }));
    expect(found.map(({ code, line }) => ({ code, line }))).toEqual([
      { code: "missing-field", line: 9 },
      { code: "schema", line: 10 },
      { code: "unknown-field", line: 14 },
    ]);
  });
});
