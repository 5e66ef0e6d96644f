import { describe, expect, it } from "vitest";
import { loadDeclarationText } from "../../provider/declaration/load.js";

/** A valid OAuth declaration to which each case adds its one mistake. */
function problems(yaml: string) {
  return loadDeclarationText(yaml, "fixture.yaml").problems.map(({ code, line, severity }) => ({
    code,
    line,
    severity,
  }));
}

const cases: Array<{ code: string; line: number; severity?: "warning"; yaml: string }> = [
  {
    code: "gmail-offline-access",
    line: 8,
    yaml: `version: 1
name: g
preset: gmail
auth:
  method: oauth
  clientId: c
  scopes:
    - offline_access
    - https://mail.google.com/
from: { address: a@example.com }
`,
  },
  {
    code: "gmail-offline-access",
    line: 7,
    yaml: `version: 1
name: g
smtp: { host: smtp.gmail.com }
auth:
  method: oauth
  clientId: c
  scopes: https://mail.google.com/ offline_access
  issuer: https://accounts.google.com
`,
  },
  {
    code: "gmail-device-flow",
    line: 7,
    yaml: `version: 1
name: g
auth:
  method: oauth
  issuer: https://accounts.google.com
  clientId: c
  flow: device
  scopes: [https://mail.google.com/]
smtp: { host: smtp.example.com }
`,
  },
  {
    code: "office365-username",
    line: 4,
    yaml: `version: 1
name: o
preset: office365
auth:
  method: oauth
  clientId: c
`,
  },
  {
    code: "office365-scopes",
    line: 7,
    yaml: `version: 1
name: o
preset: office365
auth:
  method: oauth
  clientId: c
  scopes: [https://outlook.office365.com/SMTP.Send, openid]
  username: u@contoso.com
`,
  },
  {
    code: "missing-endpoints",
    line: 5,
    yaml: `version: 1
name: m
smtp: { host: smtp.example.com }
from: { address: a@example.com }
auth:
  method: oauth
  clientId: c
  scopes: [s]
  tokenEndpoint: https://op.example.com/token
`,
  },
  {
    code: "missing-endpoints",
    line: 4,
    yaml: `version: 1
name: m
smtp: { host: smtp.example.com }
auth:
  method: oauth
  clientId: c
  scopes: [s]
  flow: device
  authorizationEndpoint: https://op.example.com/auth
  tokenEndpoint: https://op.example.com/token
`,
  },
  {
    code: "insecure-url",
    line: 7,
    yaml: `version: 1
name: i
smtp: { host: smtp.example.com }
auth:
  method: oauth
  clientId: c
  issuer: http://op.example.com
  scopes: [s]
`,
  },
  {
    code: "redirect-not-loopback",
    line: 9,
    yaml: `version: 1
name: r
smtp: { host: smtp.example.com }
auth:
  method: oauth
  clientId: c
  issuer: https://op.example.com
  scopes: [s]
  redirectUri: https://app.example.com/callback
`,
  },
  {
    code: "secret-literal",
    line: 7,
    yaml: `version: 1
name: s
smtp: { host: smtp.example.com }
auth:
  method: basic
  username: u
  password: hunter2
from: { address: a@example.com }
`,
  },
  {
    code: "basic-needs-from",
    line: 1,
    yaml: `version: 1
name: b
smtp: { host: smtp.example.com }
auth: { method: basic, username: u, password: { env: P } }
`,
  },
  {
    code: "header-injection",
    line: 7,
    yaml: `version: 1
name: h
smtp: { host: smtp.example.com }
auth: { method: basic, username: u, password: { env: P } }
from: { address: a@example.com }
testEmail:
  subject: "hello\\r\\nBcc: victim@example.com"
  to: [ops@example.com]
`,
  },
  {
    code: "builtin-extra-fields",
    line: 4,
    yaml: `version: 1
name: b
server: builtin
smtp: { host: smtp.example.com }
`,
  },
  {
    code: "preset-mismatch",
    line: 4,
    yaml: `version: 1
name: p
preset: gmail
smtp: { host: smtp.office365.com }
auth: { method: basic, username: u, password: { env: P } }
from: { address: a@example.com }
`,
  },
  {
    code: "preset-mismatch",
    line: 5,
    yaml: `version: 1
name: p
preset: office365
smtp:
  protocol: tls
auth: { method: oauth, clientId: c, username: u@contoso.com }
from: { address: a@example.com }
`,
  },
  {
    code: "port-protocol-mismatch",
    severity: "warning",
    line: 6,
    yaml: `version: 1
name: p
smtp:
  host: smtp.example.com
  protocol: tls
  port: 587
auth: { method: basic, username: u, password: { env: P } }
from: { address: a@example.com }
`,
  },
  {
    code: "unknown-field",
    line: 5,
    yaml: `version: 1
name: u
smtp:
  host: smtp.example.com
  protocl: tls
auth: { method: basic, username: u, password: { env: P } }
from: { address: a@example.com }
`,
  },
];

describe("rules", () => {
  it.each(cases)("$code at line $line", ({ code, line, severity, yaml }) => {
    expect(problems(yaml)).toEqual([{ code, line, severity: severity ?? "error" }]);
  });

  it("suggests the field that was meant", () => {
    const [problem] = loadDeclarationText(
      "version: 1\nname: u\nsmtp: { host: h.example.com, protocl: tls }\nauth: { method: basic, username: u, password: { env: P } }\nfrom: { address: a@example.com }\n",
      "f.yaml",
    ).problems;
    expect(problem).toMatchObject({
      code: "unknown-field",
      path: "/smtp/protocl",
      hint: 'Did you mean "protocol"?',
      line: 3,
      column: 30,
    });
  });

  it("reports YAML syntax errors where they are", () => {
    expect(problems("version: 1\nname: [a\n  b: c\n")[0]).toEqual({
      code: "yaml-syntax",
      line: 2,
      severity: "error",
    });
  });

  it("never quotes a secret written as a literal", () => {
    const { problems: found } = loadDeclarationText(
      "version: 1\nname: s\nsmtp: { host: h.example.com }\nauth: { method: basic, username: u, password: sup3rs3cret }\nfrom: { address: a@example.com }\n",
      "f.yaml",
    );
    expect(found.map((p) => p.code)).toEqual(["secret-literal"]);
    expect(JSON.stringify(found)).not.toContain("sup3rs3cret");
  });

  it("places a missing field at the object that lacks it", () => {
    const { problems: found } = loadDeclarationText(
      "version: 1\nname: m\nsmtp:\n  protocol: tls\nauth: { method: basic, username: u, password: { env: P } }\nfrom: { address: a@example.com }\n",
      "f.yaml",
    );
    expect(found).toEqual([
      expect.objectContaining({
        code: "missing-field",
        path: "/smtp",
        line: 3,
        message: 'smtp lacks the required field "host"',
      }),
    ]);
  });

  it("accepts loopback http issuers and redirect URIs", () => {
    const { valid, problems: found } = loadDeclarationText(
      `version: 1
name: sandbox
smtp: { host: 127.0.0.1, port: 2465 }
auth:
  method: oauth
  issuer: http://127.0.0.1:9000
  clientId: c
  scopes: openid email offline_access
  redirectUri: "http://[::1]:0/callback"
`,
      "f.yaml",
    );
    expect(found).toEqual([]);
    expect(valid).toBe(true);
  });
});

// Variants of the rules that the foundation issue names beyond the first fixtures above.
const basicAuth = "auth: { method: basic, username: u, password: { env: P } }";

describe("rule variants the issue names (code and line)", () => {
  const variants: Array<[string, string, string, number, ("error" | "warning")?]> = [
    [
      "header-injection in from.name",
      "header-injection",
      `version: 1\nname: h\nsmtp: { host: smtp.example.com }\n${basicAuth}\nfrom:\n  name: "Ops\\nBcc: x@example.com"\n  address: a@example.com\n`,
      6,
    ],
    [
      "header-injection in an address (replyTo)",
      "header-injection",
      `version: 1\nname: h\nsmtp: { host: smtp.example.com }\n${basicAuth}\nfrom: { address: a@example.com }\nreplyTo: "b@example.com\\r\\nBcc: x@example.com"\n`,
      6,
    ],
    [
      "header-injection in a test email recipient",
      "header-injection",
      `version: 1\nname: h\nsmtp: { host: smtp.example.com }\n${basicAuth}\nfrom: { address: a@example.com }\ntestEmail:\n  to:\n    - "ops@example.com\\nBcc: x@example.com"\n`,
      8,
    ],
    [
      "secret-literal: clientSecret",
      "secret-literal",
      "version: 1\nname: s\nsmtp: { host: smtp.example.com }\nauth:\n  method: oauth\n  issuer: https://op.example.com\n  clientId: c\n  clientSecret: s3cr3t-value\n  scopes: [s]\n  username: u@example.com\n",
      8,
    ],
    [
      "secret-literal: refreshToken",
      "secret-literal",
      "version: 1\nname: s\nsmtp: { host: smtp.example.com }\nauth:\n  method: oauth\n  issuer: https://op.example.com\n  clientId: c\n  scopes: [s]\n  username: u@example.com\n  refreshToken: 1//0g-refresh-value\n",
      10,
    ],
    [
      "port-protocol-mismatch: starttls on 465",
      "port-protocol-mismatch",
      `version: 1\nname: p\nsmtp:\n  host: smtp.example.com\n  protocol: starttls\n  port: 465\n${basicAuth}\nfrom: { address: a@example.com }\n`,
      6,
      "warning",
    ],
    [
      "insecure-url: a plain-http token endpoint",
      "insecure-url",
      "version: 1\nname: i\nsmtp: { host: smtp.example.com }\nauth:\n  method: oauth\n  clientId: c\n  scopes: [s]\n  username: u@example.com\n  authorizationEndpoint: https://op.example.com/auth\n  tokenEndpoint: http://op.example.com/token\n",
      10,
    ],
    [
      "redirect-not-loopback: http on a host that is not loopback",
      "redirect-not-loopback",
      "version: 1\nname: r\nsmtp: { host: smtp.example.com }\nauth:\n  method: oauth\n  clientId: c\n  issuer: https://op.example.com\n  scopes: [s]\n  username: u@example.com\n  redirectUri: http://192.168.1.10:8400/callback\n",
      10,
    ],
    [
      "gmail-offline-access: issuer accounts.google.com alone",
      "gmail-offline-access",
      "version: 1\nname: g\nsmtp: { host: smtp.example.com }\nauth:\n  method: oauth\n  issuer: https://accounts.google.com\n  clientId: c\n  scopes: [https://mail.google.com/, offline_access]\n  username: u@example.com\n",
      8,
    ],
    [
      "builtin-extra-fields: replyTo",
      "builtin-extra-fields",
      "version: 1\nname: b\nserver: builtin\nreplyTo: r@example.com\n",
      4,
    ],
  ];
  it.each(variants)("%s", (_what, code, yaml, line, severity) => {
    expect(problems(yaml)).toEqual([{ code, line, severity: severity ?? "error" }]);
  });

  it("preset-mismatch: office365 on port 465 (STARTTLS on 587 only), with the port warning too", () => {
    expect(
      problems(
        "version: 1\nname: p\npreset: office365\nsmtp:\n  port: 465\nauth: { method: oauth, clientId: c, username: u@contoso.com }\nfrom: { address: a@example.com }\n",
      ),
    ).toEqual([
      { code: "port-protocol-mismatch", line: 5, severity: "warning" },
      { code: "preset-mismatch", line: 5, severity: "error" },
    ]);
  });

  it("never quotes a clientSecret or refreshToken written as a literal", () => {
    const { problems: found } = loadDeclarationText(
      "version: 1\nname: s\nsmtp: { host: smtp.example.com }\nauth:\n  method: oauth\n  issuer: https://op.example.com\n  clientId: c\n  clientSecret: s3cr3t-value\n  scopes: [s]\n  username: u@example.com\n  refreshToken: 1//0g-refresh-value\n",
      "f.yaml",
    );
    expect(found.map((p) => p.code)).toEqual(["secret-literal", "secret-literal"]);
    expect(JSON.stringify(found)).not.toContain("s3cr3t-value");
    expect(JSON.stringify(found)).not.toContain("1//0g-refresh-value");
  });
});

// Issue 12: every preset's scope facts, as data; each accepted spelling, each refused one.
describe("preset scopes", () => {
  const office365 = (scopes: string) =>
    `version: 1\nname: o\npreset: office365\nauth:\n  method: oauth\n  clientId: c\n  username: u@contoso.com\n  scopes: [${scopes}]\n`;
  const found = (yaml: string) =>
    loadDeclarationText(yaml, "f.yaml").problems.map(({ code, line, message, severity }) => ({
      code,
      line,
      message,
      severity,
    }));

  it.each([
    "https://outlook.office365.com/SMTP.Send, offline_access, openid, email",
    "https://outlook.office.com/SMTP.Send, offline_access, openid, email",
  ])("office365 accepts every spelling Microsoft documents: %s", (scopes) => {
    expect(found(office365(scopes))).toEqual([]);
  });

  it.each([
    ["https://graph.microsoft.com/SMTP.Send", "https://graph.microsoft.com/SMTP.Send"],
    ["SMTP.Send", "SMTP.Send"],
  ])("office365 refuses %s: it yields a Graph token that Exchange refuses", (scope, written) => {
    expect(found(office365(`${scope}, offline_access`))).toEqual([
      {
        code: "office365-scopes",
        line: 8,
        severity: "error",
        message: "Office365 OAuth scopes lack https://outlook.office365.com/SMTP.Send",
      },
      {
        code: "office365-scopes",
        line: 8,
        severity: "error",
        message: expect.stringMatching(
          new RegExp(
            `^the scope "${written.replace(/\./g, "\\.")}" .*Graph token, which Exchange Online's SMTP server refuses`,
          ),
        ),
      },
    ]);
  });

  it("gmail with gmail.send but not https://mail.google.com/ is an error naming the scope", () => {
    const yaml =
      "version: 1\nname: g\npreset: gmail\nauth:\n  method: oauth\n  clientId: c\n  scopes: [https://www.googleapis.com/auth/gmail.send, openid, email]\n";
    const [problem, ...rest] = loadDeclarationText(yaml, "f.yaml").problems;
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({
      code: "gmail-scopes",
      severity: "error",
      line: 7,
      message: "Gmail OAuth scopes lack https://mail.google.com/",
      hint: expect.stringContaining(
        "narrower Gmail API scopes such as https://www.googleapis.com/auth/gmail.send do not",
      ),
    });
  });

  it("gmail recognised by its SMTP host alone gets the same rule", () => {
    const yaml =
      "version: 1\nname: g\nsmtp: { host: smtp.gmail.com }\nauth:\n  method: oauth\n  issuer: https://accounts.google.com\n  clientId: c\n  scopes: [openid, email]\n";
    expect(found(yaml).map((problem) => problem.code)).toEqual(["gmail-scopes"]);
  });

  it("office365-basic-retiring: a warning for preset office365 with Basic auth", () => {
    const yaml =
      "version: 1\nname: b\npreset: office365\nauth: { method: basic, username: u@contoso.com, password: { env: P } }\nfrom: { address: u@contoso.com }\n";
    expect(found(yaml)).toEqual([
      {
        code: "office365-basic-retiring",
        line: 4,
        severity: "warning",
        message:
          "Microsoft turns Basic authentication for SMTP off by default for existing tenants at the end of December 2026 (new tenants cannot use it)",
      },
    ]);
  });
});
