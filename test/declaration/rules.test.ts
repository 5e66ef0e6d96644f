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
auth: { method: basic, username: u, password: { env: P } }
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
