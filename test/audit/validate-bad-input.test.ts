// Audit of the foundation issue's "Bad input" list through `mailserver validate` as a user meets it
// (the earlier tests checked these through loadDeclarationFile only): each bad file gets a problem
// with its code and a line number in the contract's JSON, exit 1, and never a stack trace. Then the
// variants of each rule that the issue names but the first fixtures did not exercise.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadDeclarationText } from "../../provider/declaration/load.js";
import { runCli } from "../helpers/cli.js";

let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "mailserver-audit-validate-"));
});

function bomb(): string {
  const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 9; i++) {
    const previous = String.fromCharCode(96 + i);
    const name = String.fromCharCode(97 + i);
    levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(", ")}]`);
  }
  return `${levels.join("\n")}\n`;
}

const BAD: Array<[string, string, string | Buffer, number]> = [
  ["malformed YAML", "malformed.yaml", "version: 1\nname: 'unterminated\n", 2],
  [
    "a wrong type",
    "types.yaml",
    "version: 1\nname: t\nsmtp:\n  host: h.example.com\n  port: '587'\nauth: { method: basic, username: u, password: { env: P } }\nfrom: { address: a@example.com }\n",
    5,
  ],
  ["an unknown field", "unknown.yaml", "version: 1\nname: u\nserver: builtin\ncolour: blue\n", 4],
  ["an empty file", "empty.yaml", "", 1],
  ["a binary file", "binary.yaml", Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x1a, 0x0a, 0x00]), 1],
  ["a file above 1 MiB", "huge.yaml", `version: 1\nname: huge\n#${"x".repeat(1024 * 1024)}\n`, 1],
  ["a duplicate key", "dup.yaml", "version: 1\nname: a\nserver: builtin\nname: b\n", 4],
  ["an alias bomb", "bomb.yaml", bomb(), 1],
];

const EXPECTED_CODE: Record<string, string> = {
  "malformed.yaml": "yaml-syntax",
  "types.yaml": "schema",
  "unknown.yaml": "unknown-field",
  "empty.yaml": "empty-file",
  "binary.yaml": "not-text",
  "huge.yaml": "file-too-large",
  "dup.yaml": "duplicate-key",
  "bomb.yaml": "too-many-aliases",
};

describe("bad input through `mailserver validate --format json`: exit 1, code and line, no stack trace", () => {
  it.each(BAD)("%s", async (_what, name, content, line) => {
    const path = join(folder, name);
    await writeFile(path, content);
    const run = await runCli(["validate", path, "--format", "json"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe("");
    const document = JSON.parse(run.stdout);
    expect(document.valid).toBe(false);
    expect(document.files).toHaveLength(1);
    const [problem] = document.files[0].problems;
    expect(problem).toMatchObject({ severity: "error", code: EXPECTED_CODE[name], line });
    expect(problem.column).toBeGreaterThanOrEqual(1);
    expect(typeof problem.path).toBe("string");
    expect(problem.message.length).toBeGreaterThan(0);
    expect(run.stdout).not.toMatch(/\n\s+at /);
  });

  it("the same in text: file:line:col and the code, exit 1", async () => {
    const path = join(folder, "dup-text.yaml");
    await writeFile(path, "version: 1\nname: a\nserver: builtin\nname: b\n");
    const run = await runCli(["validate", path]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      new RegExp(`^${path.replaceAll("/", "\\/")}:4:\\d+: error .*\\(duplicate-key\\)$`, "m"),
    );
  });

  it("the huge file's problem says 1 MiB", async () => {
    const path = join(folder, "huge2.yaml");
    await writeFile(path, `#${"y".repeat(1024 * 1024 + 10)}\n`);
    const run = await runCli(["validate", path, "--format", "json"]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout).files[0].problems[0].message).toContain("1 MiB");
  });
});

/** code, line and severity of each problem of a YAML text. */
function problems(yaml: string) {
  return loadDeclarationText(yaml, "fixture.yaml").problems.map(({ code, line, severity }) => ({
    code,
    line,
    severity,
  }));
}

const basicAuth = "auth: { method: basic, username: u, password: { env: P } }";

describe("rule variants the issue names (code and line)", () => {
  const cases: Array<[string, string, string, number, ("error" | "warning")?]> = [
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
  it.each(cases)("%s", (_what, code, yaml, line, severity) => {
    expect(problems(yaml)).toEqual([{ code, line, severity: severity ?? "error" }]);
  });

  it("preset-mismatch: office365 on port 465 (STARTTLS on 587 only), with the port warning too", () => {
    expect(
      problems(
        `version: 1\nname: p\npreset: office365\nsmtp:\n  port: 465\n${basicAuth}\nfrom: { address: a@example.com }\n`,
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
