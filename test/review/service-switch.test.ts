// service-switch: a change of where the setting is stored (the identity service's type, URL or realm).
import { describe, expect, it } from "vitest";
import { loadDeclarationText } from "../../provider/declaration/load.js";
import { reviewDeclaration } from "../../provider/review/diff.js";

const base = `version: 1
name: corp-mail
smtp: { host: smtp.example.com }
auth: { method: basic, username: mailer, password: { env: SMTP_PASSWORD } }
from: { address: no-reply@example.com }
`;
const service = `service:
  type: keycloak
  url: https://sso.example.com
  realm: corp
  clientId: mailserver-admin
  clientSecret: { env: KEYCLOAK_ADMIN_SECRET }
`;

function flags(before: string | undefined, after: string | undefined) {
  const side = (text: string | undefined) =>
    text === undefined
      ? undefined
      : {
          label: "corp-mail.yaml",
          key: "corp-mail.yaml",
          loaded: loadDeclarationText(text, "corp-mail.yaml"),
        };
  return reviewDeclaration(side(before), side(after)).flags.map(({ code, field, message }) => ({
    code,
    field,
    message,
  }));
}

describe("service-switch", () => {
  it("another realm, another URL: the new realm is overwritten and the old one cleared", () => {
    const moved = flags(base + service, base + service.replace("realm: corp", "realm: sales"));
    expect(moved).toEqual([
      {
        code: "service-switch",
        field: "service",
        message:
          "the setting moves from keycloak realm corp at https://sso.example.com to keycloak realm sales at https://sso.example.com: the new realm's email settings are overwritten and the old realm's cleared",
      },
    ]);
    expect(flags(base + service, base + service.replace("sso.example.com", "sso2.example.com"))).toHaveLength(
      1,
    );
  });

  it("a service added, removed, or its declaration removed", () => {
    expect(flags(base, base + service).map((flag) => flag.message)).toEqual([
      "the setting is written into keycloak realm corp at https://sso.example.com, overwriting the realm's email settings",
    ]);
    expect(flags(base + service, base).map((flag) => flag.message)).toEqual([
      "the setting is no longer stored in keycloak realm corp at https://sso.example.com: its email settings are cleared, and the setting is kept in Pulumi state only",
    ]);
    expect(flags(base + service, undefined).map((flag) => flag.code)).toEqual([
      "service-switch",
      "server-switch",
    ]);
    expect(flags(undefined, base + service).map((flag) => flag.code)).toEqual(["service-switch"]);
  });

  it("not for the admin client, its secret, a trailing slash, or other fields", () => {
    expect(flags(base + service, base + service.replace("mailserver-admin", "other-admin"))).toEqual([]);
    expect(flags(base + service, base + service.replace("KEYCLOAK_ADMIN_SECRET", "OTHER"))).toEqual([]);
    expect(flags(base + service, base + service.replace("sso.example.com", "sso.example.com/"))).toEqual([]);
    expect(flags(base + service, `${base}replyTo: help@example.com\n${service}`).map((f) => f.code)).toEqual([
      "recipients-change",
    ]);
  });
});
