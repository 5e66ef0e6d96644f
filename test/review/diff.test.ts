// The semantic review: each risk code from a small YAML fixture, secrets shown as references, the
// pairing of moved files, and invalid sides.
import { describe, expect, it } from "vitest";
import { loadDeclarationText } from "../../provider/declaration/load.js";
import { type ReviewSource, reviewChanges, reviewDeclaration } from "../../provider/review/diff.js";
import { RISK_CODES } from "../../provider/review/flags.js";

const oauthBase = `version: 1
name: corp-mail
smtp: { host: smtp.example.com, protocol: tls }
auth:
  method: oauth
  issuer: https://login.example.com
  clientId: client-1
  clientSecret: { env: OAUTH_CLIENT_SECRET }
  scopes: [mail.send, openid, email, offline_access]
  flow: loopback
  refreshToken: { file: .secrets/corp-mail.json }
from: { name: Corp, address: no-reply@example.com }
replyTo: help@example.com
testEmail: { to: [ops@example.com] }
`;

function source(text: string, key = "corp-mail.yaml", label = key): ReviewSource {
  return { label, key, loaded: loadDeclarationText(text, label) };
}

function review(before: string | undefined, after: string | undefined) {
  return reviewDeclaration(
    before === undefined ? undefined : source(before),
    after === undefined ? undefined : source(after),
  );
}

const flagsOf = (before: string | undefined, after: string | undefined) =>
  review(before, after).flags.map((flag) => [flag.code, flag.field]);

describe("risk flags", () => {
  it("grant-renewal: issuer, client, scopes or flow changed", () => {
    expect(flagsOf(oauthBase, oauthBase.replace("client-1", "client-2"))).toEqual([
      ["grant-renewal", "auth.clientId"],
    ]);
    expect(flagsOf(oauthBase, oauthBase.replace("login.example.com", "login2.example.com"))).toEqual([
      ["grant-renewal", "auth.issuer"],
    ]);
    expect(flagsOf(oauthBase, oauthBase.replace("flow: loopback", "flow: device"))).toEqual([
      ["grant-renewal", "auth.flow"],
    ]);
    // The same scopes in another order, or as a string, need no new grant.
    expect(
      flagsOf(
        oauthBase,
        oauthBase.replace(
          "[mail.send, openid, email, offline_access]",
          '"openid email mail.send offline_access"',
        ),
      ),
    ).toEqual([]);
  });

  it("grant-renewal: none for the app-only flows (no grant), one when moving from one to a delegated flow", () => {
    const app = oauthBase
      .replace("flow: loopback", "flow: client-credentials\n  username: no-reply@example.com")
      .replace("  refreshToken: { file: .secrets/corp-mail.json }\n", "");
    expect(review(undefined, app).flags).toEqual([]);
    expect(flagsOf(app, app.replace("client-1", "client-2"))).toEqual([]);
    expect(flagsOf(app, app.replace("[mail.send, openid, email, offline_access]", "[mail.send]"))).toEqual(
      [],
    );
    expect(flagsOf(app, oauthBase)).toEqual([["grant-renewal", "auth.flow"]]);
    expect(review(app, oauthBase).flags[0]?.message).toBe(
      "auth.flow changes from client-credentials to loopback: someone must authorize the new grant",
    );
  });

  it("scope-expansion (with grant-renewal): more scopes are asked for; fewer is only a renewal", () => {
    const wider = oauthBase.replace("[mail.send,", "[mail.send, mail.read,");
    expect(flagsOf(oauthBase, wider)).toEqual([
      ["grant-renewal", "auth.scopes"],
      ["scope-expansion", "auth.scopes"],
    ]);
    expect(review(oauthBase, wider).flags[1]?.message).toBe("auth.scopes asks for more: mail.read");
    expect(flagsOf(wider, oauthBase)).toEqual([["grant-renewal", "auth.scopes"]]);
  });

  it("protocol-downgrade: tls to starttls, oauth to basic, https to http", () => {
    expect(flagsOf(oauthBase, oauthBase.replace("protocol: tls", "protocol: starttls"))).toEqual([
      ["protocol-downgrade", "smtp.protocol"],
    ]);
    const basic = oauthBase.replace(
      /auth:\n(?: {2}.*\n)+/,
      "auth: { method: basic, username: no-reply@example.com, password: { env: SMTP_PASSWORD } }\n",
    );
    expect(flagsOf(oauthBase, basic)).toEqual([["protocol-downgrade", "auth.method"]]);
    expect(flagsOf(basic, oauthBase)).toEqual([["grant-renewal", "auth.method"]]);
    const local = oauthBase.replace("https://login.example.com", "https://127.0.0.1:8443");
    expect(flagsOf(local, local.replace("https://127.0.0.1", "http://127.0.0.1"))).toEqual([
      ["grant-renewal", "auth.issuer"],
      ["protocol-downgrade", "auth.issuer"],
    ]);
  });

  it("trust-change: smtp.tls.ca added, changed or removed", () => {
    const withCa = oauthBase.replace(
      "protocol: tls }",
      "protocol: tls, tls: { ca: { file: certs/ca.pem } } }",
    );
    expect(flagsOf(oauthBase, withCa)).toEqual([["trust-change", "smtp.tls.ca"]]);
    expect(flagsOf(withCa, withCa.replace("certs/ca.pem", "certs/other.pem"))).toEqual([
      ["trust-change", "smtp.tls.ca"],
    ]);
    expect(review(withCa, oauthBase).flags[0]?.message).toBe(
      "smtp.tls.ca is removed (file:certs/ca.pem): only the system's trust anchors are accepted",
    );
  });

  it("sender-domain-change: the From address moves to another domain (not within one)", () => {
    expect(flagsOf(oauthBase, oauthBase.replace("no-reply@example.com", "no-reply@example.org"))).toEqual([
      ["sender-domain-change", "from.address"],
    ]);
    expect(flagsOf(oauthBase, oauthBase.replace("no-reply@example.com", "alerts@EXAMPLE.com"))).toEqual([]);
  });

  it("recipients-change: test email recipients or Reply-To changed", () => {
    expect(
      flagsOf(oauthBase, oauthBase.replace("to: [ops@example.com]", "to: [ops@example.com, x@evil.test]")),
    ).toEqual([["recipients-change", "testEmail.to"]]);
    expect(flagsOf(oauthBase, oauthBase.replace("replyTo: help@example.com", 'replyTo: ""'))).toEqual([
      ["recipients-change", "replyTo"],
    ]);
  });

  it("server-switch: custom to builtin, and a removed custom declaration", () => {
    const builtin = "version: 1\nname: corp-mail\nserver: builtin\ntestEmail: { to: [ops@example.com] }\n";
    expect(flagsOf(oauthBase, builtin)).toEqual([["server-switch", "server"]]);
    expect(flagsOf(builtin, oauthBase)).toEqual([["server-switch", "server"]]);
    expect(flagsOf(oauthBase, undefined)).toEqual([["server-switch", "server"]]);
    expect(flagsOf(builtin, undefined)).toEqual([]);
  });

  it("a new OAuth declaration without a stored grant needs an authorization", () => {
    expect(flagsOf(undefined, oauthBase)).toEqual([]);
    expect(
      flagsOf(undefined, oauthBase.replace("  refreshToken: { file: .secrets/corp-mail.json }\n", "")),
    ).toEqual([["grant-renewal", "auth"]]);
  });

  it("raises nothing for changes that need no care", () => {
    const r = review(oauthBase, oauthBase.replace("name: Corp", "name: Corp Mail"));
    expect(r.status).toBe("changed");
    expect(r.flags).toEqual([]);
    expect(r.changes).toEqual([
      { field: "from.name", change: "changed", before: { value: "Corp" }, after: { value: "Corp Mail" } },
    ]);
  });

  it("has tests for every risk code", () => {
    expect(RISK_CODES).toEqual([
      "grant-renewal",
      "protocol-downgrade",
      "trust-change",
      "sender-domain-change",
      "scope-expansion",
      "recipients-change",
      "server-switch",
      "service-switch",
    ]);
  });
});

describe("field changes", () => {
  it("shows secrets as references, and a changed reference as a change, never a value", () => {
    const r = review(
      oauthBase,
      oauthBase.replace("env: OAUTH_CLIENT_SECRET", "file: .secrets/client-secret"),
    );
    expect(r.changes).toEqual([
      {
        field: "auth.clientSecret",
        change: "changed",
        before: { value: "env:OAUTH_CLIENT_SECRET", secret: true },
        after: { value: "file:.secrets/client-secret", secret: true },
      },
    ]);
  });

  it("shows a changed app-only credential (service account key, client assertion key and certificate) as a reference", () => {
    const serviceAccount = `version: 1
name: corp-mail
preset: gmail
auth:
  method: oauth
  flow: service-account
  serviceAccountKey: { file: .secrets/sa-1.json }
  username: no-reply@example.com
`;
    expect(review(serviceAccount, serviceAccount.replace("sa-1", "sa-2")).changes).toEqual([
      {
        field: "auth.serviceAccountKey",
        change: "changed",
        before: { value: "file:.secrets/sa-1.json", secret: true },
        after: { value: "file:.secrets/sa-2.json", secret: true },
      },
    ]);
    const assertion = `version: 1
name: corp-mail
smtp: { host: smtp.example.com }
auth:
  method: oauth
  flow: client-credentials
  tokenEndpoint: https://login.example.com/token
  clientId: app-1
  scopes: [https://mail.example.com/.default]
  clientAssertion: { privateKey: { file: app-1.key }, certificate: { file: app-1.crt } }
  username: no-reply@example.com
`;
    const rotated = review(assertion, assertion.replaceAll("app-1.", "app-2."));
    expect(rotated.changes.map((c) => [c.field, c.before?.value, c.after?.value, c.after?.secret])).toEqual([
      ["auth.clientAssertion.privateKey", "file:app-1.key", "file:app-2.key", true],
      ["auth.clientAssertion.certificate", "file:app-1.crt", "file:app-2.crt", undefined],
    ]);
  });

  it("compares effective settings: a new protocol brings its default port", () => {
    const r = review(oauthBase, oauthBase.replace("protocol: tls", "protocol: starttls"));
    expect(r.changes.map((c) => [c.field, c.before?.value, c.after?.value])).toEqual([
      ["smtp.protocol", "tls", "starttls"],
      ["smtp.port", "465", "587"],
    ]);
  });

  it("pairs a moved file by its declaration name, and keeps unchanged ones out of changed", () => {
    const result = reviewChanges(
      [source(oauthBase, "old/corp.yaml"), source(oauthBase.replace("corp-mail", "other"), "other.yaml")],
      [
        source(oauthBase.replace("Corp", "Corp2"), "new/corp.yaml"),
        source(oauthBase.replace("corp-mail", "other"), "other.yaml"),
      ],
    );
    expect(result.declarations.map((d) => [d.name, d.status, d.before, d.after])).toEqual([
      ["corp-mail", "changed", "old/corp.yaml", "new/corp.yaml"],
      ["other", "unchanged", "other.yaml", "other.yaml"],
    ]);
    expect(result.changed).toBe(true);
  });

  it("marks a side with errors as invalid, with its problems", () => {
    const result = reviewChanges([source(oauthBase)], [source("version: 1\nname: corp-mail\nsmtp: [\n")]);
    expect(result.invalid).toBe(true);
    expect(result.declarations[0]).toMatchObject({ status: "invalid", changes: [], flags: [] });
    expect(result.declarations[0]?.problems[0]).toMatchObject({ side: "after", code: "yaml-syntax" });
  });
});
