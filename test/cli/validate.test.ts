import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { aliasBomb } from "../helpers/bad-input.js";
import { runCli } from "../helpers/cli.js";

let folder: string;
const valid = `version: 1
name: generic
smtp: { host: mail.example.org, protocol: starttls }
auth: { method: basic, username: u, password: { env: P } }
from: { address: a@example.org }
`;
const warning = `version: 1
name: warn
smtp:
  host: mail.example.org
  protocol: tls
  port: 587
auth: { method: basic, username: u, password: { env: P } }
from: { address: a@example.org }
`;
const broken = `version: 1
name: broken
server: builtin
from:
  address: a@example.org
`;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "mailserver-validate-"));
  await mkdir(join(folder, "nested", "ci"), { recursive: true });
  await mkdir(join(folder, "empty"));
  await writeFile(join(folder, "valid.yaml"), valid);
  await writeFile(join(folder, "nested", "warn.yml"), warning);
  await writeFile(
    join(folder, "nested", "ci", "workflow.yml"),
    "on: [push]\njobs: { check: { runs-on: ubuntu-latest } }\n",
  );
  await writeFile(join(folder, "nested", "Pulumi.yaml"), "name: stack\nruntime: nodejs\n");
  await writeFile(
    join(folder, "broken.json"),
    JSON.stringify({ version: 1, name: "broken", server: "builtin", replyTo: "x@example.org" }),
  );
  await writeFile(join(folder, "broken.yaml"), broken);
});

describe("mailserver validate", () => {
  it("exits 0 on the examples", async () => {
    const run = await runCli(["validate", "examples/"]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    // One declaration per examples/*.yaml; the workflows in ci/ and the Pulumi files in program/ are skipped.
    const declarations = readdirSync("examples").filter((name) => name.endsWith(".yaml")).length;
    expect(run.stdout).toContain(`${declarations} declarations checked: all valid`);
  });

  it("prints exactly one JSON document of the contract's shape", async () => {
    const run = await runCli([
      "validate",
      join(folder, "broken.yaml"),
      join(folder, "valid.yaml"),
      "--format",
      "json",
    ]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toEqual({
      valid: false,
      files: [
        {
          file: join(folder, "broken.yaml"),
          valid: false,
          problems: [
            {
              severity: "error",
              code: "builtin-extra-fields",
              message: "server: builtin uses the identity service's own mail server, so from does not apply",
              path: "/from",
              line: 4,
              column: 1,
            },
          ],
        },
        { file: join(folder, "valid.yaml"), valid: true, problems: [] },
      ],
    });
  });

  it("searches folders recursively, skipping Pulumi files and CI workflows", async () => {
    const run = await runCli(["validate", folder, "--format", "json"]);
    const files = JSON.parse(run.stdout).files.map((file: { file: string }) =>
      file.file.slice(folder.length + 1),
    );
    expect(files).toEqual(["broken.json", "broken.yaml", "nested/warn.yml", "valid.yaml"]);
  });

  it("skips other tools' YAML and JSON found in folders, but not a misspelt declaration", async () => {
    const mixed = await mkdtemp(join(tmpdir(), "mailserver-mixed-"));
    await writeFile(
      join(mixed, "configmap.yaml"),
      "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\n",
    );
    await writeFile(join(mixed, "compose.yml"), 'version: "3.8"\nservices: { web: { image: nginx } }\n');
    await writeFile(
      join(mixed, "thing.schema.json"),
      '{"$schema": "https://json-schema.org/draft/2020-12/schema"}',
    );
    await writeFile(join(mixed, "typo.yaml"), "version: 1\nname: typo\nserver: bultin\n");
    await writeFile(join(mixed, "misspelt.yaml"), "verson: 1\nname: misspelt\nserver: builtin\n");
    const run = await runCli(["validate", mixed]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      'misspelt.yaml:1:1: error unknown field "verson" at the top level (unknown-field)',
    );
    expect(run.stdout).toContain('typo.yaml:3:9: error server must be one of "custom", "builtin" (schema)');
    expect(run.stdout).toMatch(
      /2 declarations checked: 2 invalid .*; 3 other files skipped \(not declarations\)\n$/,
    );
    // Named on the command line, a file is always checked.
    const explicit = await runCli(["validate", join(mixed, "compose.yml"), "--format", "json"]);
    expect(explicit.code).toBe(1);
    expect(JSON.parse(explicit.stdout).files[0].problems.map((p: { code: string }) => p.code)).toContain(
      "unknown-field",
    );
  });

  it("allows warnings unless --strict", async () => {
    const file = join(folder, "nested", "warn.yml");
    expect((await runCli(["validate", file])).code).toBe(0);
    const strict = await runCli(["validate", file, "--strict", "--format", "json"]);
    expect(strict.code).toBe(1);
    expect(JSON.parse(strict.stdout).files[0]).toMatchObject({
      valid: false,
      problems: [{ severity: "warning", code: "port-protocol-mismatch", line: 6 }],
    });
  });

  it("prints GitHub annotations", async () => {
    const run = await runCli([
      "validate",
      join(folder, "broken.yaml"),
      join(folder, "nested", "warn.yml"),
      "--format",
      "github",
    ]);
    expect(run.stdout).toBe(
      `::error file=${join(folder, "broken.yaml")},line=4,col=1,title=mailserver builtin-extra-fields::server: builtin uses the identity service's own mail server, so from does not apply. Remove from, or set server: custom.\n` +
        `::warning file=${join(folder, "nested", "warn.yml")},line=6,col=9,title=mailserver port-protocol-mismatch::port 587 usually speaks STARTTLS, but protocol is tls. Use port 465 for tls, or protocol: starttls.\n`,
    );
  });

  it("prints file:line:col, severity, message and hint for people, in color only on a TTY", async () => {
    const plain = await runCli(["validate", join(folder, "broken.yaml")]);
    expect(plain.stdout).toBe(
      `${join(folder, "broken.yaml")}:4:1: error server: builtin uses the identity service's own mail server, so from does not apply (builtin-extra-fields)\n` +
        "  hint: Remove from, or set server: custom.\n" +
        "1 declaration checked: 1 invalid (1 error, 0 warnings)\n",
    );
    const tty = await runCli(["validate", join(folder, "broken.yaml")], { tty: true });
    expect(tty.stdout).toContain("\x1b[31merror\x1b[0m");
    const noColor = await runCli(["validate", join(folder, "broken.yaml")], {
      tty: true,
      env: { NO_COLOR: "1" },
    });
    expect(noColor.stdout).not.toContain("\x1b[");
  });

  it.each([
    [["validate", "--bogus"], "Unknown option '--bogus'"],
    [["validate", "does-not-exist.yaml"], "does-not-exist.yaml: no such file or folder"],
    [["validate", "examples", "--format", "xml"], "--format must be one of text, json, github"],
  ])("exits 2 for a usage error: %j", async (args, message) => {
    const run = await runCli(args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(message);
    expect(run.stderr).toContain("Usage: mailserver validate");
  });

  it("exits 2 for a folder with no declarations", async () => {
    const run = await runCli(["validate", join(folder, "empty")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("no declarations (*.yaml, *.yml, *.json) in this folder");
  });

  it("runs as the installed binary, without a stack trace on bad input", async () => {
    const result = await promisify(execFile)(process.execPath, [
      "bin/mailserver.js",
      "validate",
      join(folder, "broken.json"),
    ]).catch((error: { code: number; stdout: string; stderr: string }) => error);
    expect(result).toMatchObject({ code: 1, stderr: "" });
    expect(result.stdout).toContain("broken.json:1:");
    expect(result.stdout).not.toMatch(/\n\s+at /);
  });
});

// The foundation issue's "Bad input" list as a user meets it: each bad file gets a problem with
// its code and a line number in the contract's JSON, exit 1, and never a stack trace.
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
  ["an alias bomb", "bomb.yaml", aliasBomb(), 1],
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
  // A folder of its own: the folder scan above lists `folder` exactly.
  let badFolder: string;
  beforeAll(async () => {
    badFolder = await mkdtemp(join(tmpdir(), "mailserver-validate-bad-"));
  });

  it.each(BAD)("%s", async (_what, name, content, line) => {
    const path = join(badFolder, name);
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
    const path = join(badFolder, "dup-text.yaml");
    await writeFile(path, "version: 1\nname: a\nserver: builtin\nname: b\n");
    const run = await runCli(["validate", path]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      new RegExp(`^${path.replaceAll("/", "\\/")}:4:\\d+: error .*\\(duplicate-key\\)$`, "m"),
    );
  });

  it("the huge file's problem says 1 MiB", async () => {
    const path = join(badFolder, "huge2.yaml");
    await writeFile(path, `#${"y".repeat(1024 * 1024 + 10)}\n`);
    const run = await runCli(["validate", path, "--format", "json"]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout).files[0].problems[0].message).toContain("1 MiB");
  });
});

describe("mailserver", () => {
  it("lists the commands", async () => {
    const run = await runCli(["--help"]);
    expect(run.code).toBe(0);
    for (const command of ["validate", "discover", "authorize", "verify", "test-email", "drift", "diff"]) {
      expect(run.stdout).toContain(`  ${command}`);
    }
  });

  it("exits 2 for an unknown command", async () => {
    expect(await runCli(["frobnicate"])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown command "frobnicate"'),
    });
  });
});
