// The app-only flows in declarations: the schema's shape (clientId, serviceAccountKey), the named
// rules (office365-app-scopes, office365-app-tenant, gmail-client-credentials,
// service-account-vendor, app-needs-username, flow-field, client-credentials-auth) with their
// lines, and what normalization fills in (the tenant's issuer, the preset's app-only scope).
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

const office365App = (auth: string) =>
  `version: 1\nname: o\npreset: office365\nauth:\n  method: oauth\n  flow: client-credentials\n  clientId: 00000000-0000-0000-0000-000000000000\n${auth}`;
const gmailServiceAccount = (auth: string) =>
  `version: 1\nname: g\npreset: gmail\nauth:\n  method: oauth\n  flow: service-account\n${auth}`;

describe("app-only declarations that are valid", () => {
  it("Microsoft 365 app-only with a tenant and a client assertion: no problem, the tenant's issuer and .default", () => {
    const yaml = office365App(
      "  tenantId: 11111111-1111-1111-1111-111111111111\n  clientAssertion:\n    privateKey: { file: app.key }\n    certificate: { file: app.crt }\n  username: no-reply@contoso.com\n",
    );
    const loaded = loadDeclarationText(yaml, "o.yaml");
    expect(loaded.problems).toEqual([]);
    const normalized = normalizeDeclaration(loaded.declaration as never);
    expect(normalized).toMatchObject({
      auth: {
        flow: "client-credentials",
        issuer: "https://login.microsoftonline.com/11111111-1111-1111-1111-111111111111/v2.0",
        scopes: ["https://outlook.office365.com/.default"],
        clientAssertion: { privateKey: { file: "app.key" }, certificate: { file: "app.crt" } },
      },
    });
  });

  it("Google Workspace domain-wide delegation: no clientId, no issuer, the preset's mail scope", () => {
    const loaded = loadDeclarationText(
      gmailServiceAccount("  serviceAccountKey: { file: sa.json }\n  username: no-reply@example.com\n"),
      "g.yaml",
    );
    expect(loaded.problems).toEqual([]);
    const normalized = normalizeDeclaration(loaded.declaration as never);
    expect(normalized).toMatchObject({
      auth: { flow: "service-account", clientId: "", scopes: ["https://mail.google.com/"] },
    });
    expect((normalized as { auth: { issuer?: string } }).auth.issuer).toBeUndefined();
  });

  it("a generic issuer with client credentials needs only the token endpoint", () => {
    expect(
      problems(
        "version: 1\nname: k\nsmtp: { host: smtp.example.com }\nauth:\n  method: oauth\n  flow: client-credentials\n  clientId: c\n  clientSecret: { env: S }\n  tokenEndpoint: https://op.example.com/token\n  scopes: [mail.send]\n  username: u@example.com\n",
      ),
    ).toEqual([]);
  });
});

describe("app-only rules (code and line)", () => {
  const cases: Array<[string, string, string, number]> = [
    [
      "office365-app-scopes: SMTP.Send instead of .default",
      "office365-app-scopes",
      office365App(
        "  tenantId: t\n  clientSecret: { env: S }\n  username: u@contoso.com\n  scopes: [https://outlook.office365.com/SMTP.Send]\n",
      ),
      11,
    ],
    [
      "office365-app-tenant: no tenant and the preset's common issuer",
      "office365-app-tenant",
      office365App("  clientSecret: { env: S }\n  username: u@contoso.com\n"),
      4,
    ],
    [
      "office365-app-tenant: an organizations issuer",
      "office365-app-tenant",
      office365App(
        "  issuer: https://login.microsoftonline.com/organizations/v2.0\n  clientSecret: { env: S }\n  username: u@contoso.com\n",
      ),
      8,
    ],
    [
      "gmail-client-credentials",
      "gmail-client-credentials",
      "version: 1\nname: g\npreset: gmail\nauth:\n  method: oauth\n  flow: client-credentials\n  clientId: c\n  clientSecret: { env: S }\n  username: u@example.com\n",
      6,
    ],
    [
      "service-account-vendor: office365",
      "service-account-vendor",
      "version: 1\nname: o\npreset: office365\nauth:\n  method: oauth\n  flow: service-account\n  serviceAccountKey: { file: sa.json }\n  username: u@contoso.com\n",
      6,
    ],
    [
      "app-needs-username: a service account without the mailbox",
      "app-needs-username",
      gmailServiceAccount("  serviceAccountKey: { file: sa.json }\n"),
      4,
    ],
    [
      "client-credentials-auth: neither a secret nor an assertion",
      "client-credentials-auth",
      office365App("  tenantId: t\n  username: u@contoso.com\n"),
      4,
    ],
    [
      "client-credentials-auth: both a secret and an assertion",
      "client-credentials-auth",
      office365App(
        "  tenantId: t\n  username: u@contoso.com\n  clientSecret: { env: S }\n  clientAssertion: { privateKey: { file: k.pem } }\n",
      ),
      11,
    ],
    [
      "flow-field: a refresh token with client credentials",
      "flow-field",
      office365App(
        "  tenantId: t\n  username: u@contoso.com\n  clientSecret: { env: S }\n  refreshToken: { file: grant.json }\n",
      ),
      11,
    ],
    [
      "flow-field: a redirect URI with a service account",
      "flow-field",
      gmailServiceAccount(
        "  serviceAccountKey: { file: sa.json }\n  username: u@example.com\n  redirectUri: http://127.0.0.1/callback\n",
      ),
      9,
    ],
    [
      "flow-field: a client secret with a service account",
      "flow-field",
      gmailServiceAccount(
        "  serviceAccountKey: { file: sa.json }\n  username: u@example.com\n  clientSecret: { env: S }\n",
      ),
      9,
    ],
    [
      "flow-field: a service account key with the loopback flow",
      "flow-field",
      "version: 1\nname: g\npreset: gmail\nauth:\n  method: oauth\n  clientId: c\n  serviceAccountKey: { file: sa.json }\n",
      7,
    ],
    [
      "flow-field: a client assertion with the device flow",
      "flow-field",
      "version: 1\nname: o\npreset: office365\nauth:\n  method: oauth\n  flow: device\n  clientId: c\n  username: u@contoso.com\n  clientAssertion: { privateKey: { file: k.pem } }\n",
      9,
    ],
    [
      "missing-endpoints: client credentials with neither issuer nor token endpoint",
      "missing-endpoints",
      "version: 1\nname: k\nsmtp: { host: smtp.example.com }\nauth:\n  method: oauth\n  flow: client-credentials\n  clientId: c\n  clientSecret: { env: S }\n  scopes: [s]\n  username: u@example.com\n",
      4,
    ],
    [
      "secret-literal: a service account key pasted into the declaration",
      "secret-literal",
      gmailServiceAccount('  serviceAccountKey: "{\\"private_key\\": \\"x\\"}"\n  username: u@example.com\n'),
      7,
    ],
  ];
  it.each(cases)("%s", (_what, code, yaml, line) => {
    expect(problems(yaml).map(({ code, line }) => ({ code, line }))).toEqual([{ code, line }]);
  });

  it("the schema: a service account needs its key; the other flows need a clientId", () => {
    expect(problems(gmailServiceAccount("  username: u@example.com\n"))).toEqual([
      expect.objectContaining({
        code: "missing-field",
        line: 4,
        message: expect.stringContaining("serviceAccountKey"),
      }),
    ]);
    expect(
      problems(
        office365App("  tenantId: t\n  clientSecret: { env: S }\n  username: u@contoso.com\n").replace(
          "  clientId: 00000000-0000-0000-0000-000000000000\n",
          "",
        ),
      ),
    ).toEqual([
      expect.objectContaining({
        code: "missing-field",
        line: 4,
        message: expect.stringContaining("clientId"),
      }),
    ]);
  });

  it("office365-username and office365-scopes (the delegated rules) stay silent for client credentials", () => {
    const found = problems(office365App("  tenantId: t\n  clientSecret: { env: S }\n"));
    expect(found.map((p) => p.code)).toEqual(["app-needs-username"]);
    expect(found[0]?.message).toBe("flow client-credentials needs auth.username: the mailbox to send as");
  });

  it("the rule messages say what to do", () => {
    expect(
      problems(office365App("  clientSecret: { env: S }\n  username: u@contoso.com\n"))[0]?.message,
    ).toBe("Office365 client credentials need the tenant: auth.tenantId or a tenant-specific auth.issuer");
    const [refresh] = loadDeclarationText(
      office365App(
        "  tenantId: t\n  username: u@contoso.com\n  clientSecret: { env: S }\n  refreshToken: { file: g.json }\n",
      ),
      "f.yaml",
    ).problems;
    expect(refresh).toMatchObject({
      message: "auth.refreshToken is not used by flow client-credentials (only by loopback, device)",
      hint: "Remove auth.refreshToken: flow client-credentials needs no person and keeps no grant.",
      column: 3,
    });
  });

  it("a redirect URI with the device flow: the hint points to the loopback flow (a device flow has a person and a grant)", () => {
    const redirect = loadDeclarationText(
      "version: 1\nname: d\nauth:\n  method: oauth\n  issuer: https://login.example.com\n  clientId: c\n  scopes: [openid, email, offline_access]\n  flow: device\n  redirectUri: http://127.0.0.1/callback\n  username: u@example.com\nsmtp: { host: smtp.example.com }\nfrom: { address: u@example.com }\n",
      "d.yaml",
    ).problems.find((problem) => problem.code === "flow-field");
    expect(redirect).toMatchObject({
      code: "flow-field",
      message: "auth.redirectUri is not used by flow device (only by loopback)",
      hint: "Remove auth.redirectUri, or choose flow loopback.",
    });
  });
});
