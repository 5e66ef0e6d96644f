// `mailserver diff`: two files, two folders, and --base GIT_REF in a real temporary git repository;
// the Markdown a pull request shows is pinned, secrets stay references, exit codes are as documented.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

const exec = promisify(execFile);
let root: string;
let repo: string;

const basic = `version: 1
name: corp-mail
smtp: { host: smtp.example.com, protocol: tls }
auth: { method: basic, username: mailer@example.com, password: { env: SMTP_PASSWORD } }
from: { name: "Corp | Notifications", address: mailer@example.com }
testEmail: { to: [ops@example.com] }
`;
const changed = basic
  .replace("protocol: tls", "protocol: starttls")
  .replace("env: SMTP_PASSWORD", "file: .secrets/smtp-password")
  .replace("to: [ops@example.com]", "to: [ops@example.com, audit@example.com]");

const oauth = `version: 1
name: alerts
preset: office365
auth:
  method: oauth
  clientId: 00000000-0000-0000-0000-000000000000
  scopes: [https://outlook.office365.com/SMTP.Send, openid, email, offline_access]
  username: alerts@contoso.com
  refreshToken: { file: ../.secrets/alerts.json }
from: { address: alerts@contoso.com }
`;

async function git(...args: string[]) {
  await exec("git", ["-c", "user.email=ci@example.com", "-c", "user.name=CI", ...args], { cwd: repo });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "mailserver-diff-"));
  await writeFile(join(root, "old.yaml"), basic);
  await writeFile(join(root, "new.yaml"), changed);
  await writeFile(join(root, "broken.yaml"), "version: 1\nname: corp-mail\nsmtp: [\n");
  repo = join(root, "repo");
  await mkdir(join(repo, "mailservers", ".github"), { recursive: true });
  await exec("git", ["init", "-q", "-b", "main"], { cwd: repo });
  await writeFile(join(repo, "mailservers", "corp.yaml"), basic);
  await writeFile(join(repo, "mailservers", "alerts.yaml"), oauth);
  await writeFile(join(repo, "mailservers", "retired.yaml"), basic.replace("corp-mail", "retired"));
  await writeFile(
    join(repo, "mailservers", "ci.yml"),
    "on: [push]\njobs: { check: { runs-on: ubuntu-latest } }\n",
  );
  await git("add", ".");
  await git("commit", "-qm", "base");
  // The pull request: corp changed, alerts moved to another file, retired removed, one added.
  await writeFile(join(repo, "mailservers", "corp.yaml"), changed);
  await git("mv", "mailservers/alerts.yaml", "mailservers/alerts-o365.yaml");
  await git("rm", "-q", "mailservers/retired.yaml");
  await writeFile(join(repo, "mailservers", "builtin.yaml"), "version: 1\nname: fallback\nserver: builtin\n");
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe("mailserver diff OLD NEW", () => {
  it("prints Markdown for a pull-request comment: flags first, then a table", async () => {
    const run = await runCli(
      ["diff", join(root, "old.yaml"), join(root, "new.yaml"), "--format", "markdown"],
      {
        env: { SMTP_PASSWORD: "hunter2-value" },
      },
    );
    expect(run.code).toBe(0);
    expect(run.stdout.replaceAll(root, "ROOT")).toMatchInlineSnapshot(`
      "<!-- mailserver-diff -->
      ## Mail server changes

      **1** declaration: 1 changed. Risk flags: \`protocol-downgrade\`, \`recipients-change\`.

      ### \`corp-mail\` (changed)

      \`ROOT/old.yaml\` -> \`ROOT/new.yaml\`

      **Risk flags**

      - :warning: \`protocol-downgrade\` (\`smtp.protocol\`): smtp.protocol changes from tls (implicit TLS, preferred by RFC 8314) to starttls: the session starts in plain text and is upgraded
      - :warning: \`recipients-change\` (\`testEmail.to\`): the test email goes to ops@example.com, audit@example.com (was ops@example.com)

      | Setting | Before | After |
      | --- | --- | --- |
      | \`smtp.protocol\` | \`tls\` | \`starttls\` |
      | \`smtp.port\` | \`465\` | \`587\` |
      | \`auth.password\` | \`env:SMTP_PASSWORD\` (secret reference) | \`file:.secrets/smtp-password\` (secret reference) |
      | \`testEmail.to\` | \`ops@example.com\` | \`ops@example.com\` \`audit@example.com\` |

      <sub>Secrets are shown as references (env, file, config), never as values.</sub>
      "
    `);
    expect(run.stdout).not.toContain("hunter2-value");
  });

  it("prints one JSON document, and text by default", async () => {
    const json = await runCli(["diff", join(root, "old.yaml"), join(root, "new.yaml"), "--format", "json"]);
    const document = JSON.parse(json.stdout);
    expect(document).toMatchObject({
      changed: true,
      invalid: false,
      flags: ["protocol-downgrade", "recipients-change"],
    });
    expect(document.declarations[0].changes[2]).toEqual({
      field: "auth.password",
      change: "changed",
      before: { value: "env:SMTP_PASSWORD", secret: true },
      after: { value: "file:.secrets/smtp-password", secret: true },
    });
    const text = await runCli(["diff", join(root, "old.yaml"), join(root, "new.yaml")]);
    expect(text.stdout).toContain("  ! protocol-downgrade (smtp.protocol): ");
    expect(text.stdout).toContain("  ~ smtp.port: 465 -> 587");
  });

  it("escapes table cells: a pipe in a value does not break the table", async () => {
    const run = await runCli([
      "diff",
      join(root, "old.yaml"),
      join(root, "new.yaml"),
      "--format",
      "markdown",
    ]);
    expect(run.stdout).not.toMatch(/Corp \| Notifications/); // unchanged: not shown at all
    await writeFile(join(root, "renamed.yaml"), basic.replace("Corp | Notifications", "Corp | Alerts"));
    const renamed = await runCli([
      "diff",
      join(root, "old.yaml"),
      join(root, "renamed.yaml"),
      "--format",
      "markdown",
    ]);
    expect(renamed.stdout).toContain("| `from.name` | `Corp \\| Notifications` | `Corp \\| Alerts` |");
  });

  it("says so when nothing changed (exit 0)", async () => {
    const run = await runCli([
      "diff",
      join(root, "old.yaml"),
      join(root, "old.yaml"),
      "--format",
      "markdown",
    ]);
    expect(run).toMatchObject({ code: 0 });
    expect(run.stdout).toContain("No mail server declaration changes.");
  });

  it("exits 1 when a side is invalid, and 2 for usage errors", async () => {
    const invalid = await runCli([
      "diff",
      join(root, "old.yaml"),
      join(root, "broken.yaml"),
      "--format",
      "json",
    ]);
    expect(invalid.code).toBe(1);
    expect(JSON.parse(invalid.stdout).declarations[0]).toMatchObject({
      status: "invalid",
      problems: [{ side: "after", code: "yaml-syntax" }],
    });
    expect((await runCli(["diff", join(root, "old.yaml")])).code).toBe(2);
    expect((await runCli(["diff", join(root, "old.yaml"), join(root, "missing.yaml")])).code).toBe(2);
    expect((await runCli(["diff", join(root, "old.yaml"), root])).code).toBe(2);
    expect(
      (await runCli(["diff", join(root, "old.yaml"), join(root, "new.yaml"), "--format", "html"])).code,
    ).toBe(2);
  });
});

describe("mailserver diff --base GIT_REF", () => {
  it("reviews the working tree against the revision: changed, moved, removed and added files", async () => {
    const run = await runCli(["diff", "--base", "main", "mailservers", "--format", "json"], { cwd: repo });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const { declarations, flags } = JSON.parse(run.stdout);
    expect(
      declarations.map((d: { name: string; status: string; before: string; after: string }) => [
        d.name,
        d.status,
        d.before,
        d.after,
      ]),
    ).toEqual([
      ["fallback", "added", null, "mailservers/builtin.yaml"],
      ["corp-mail", "changed", "main:mailservers/corp.yaml", "mailservers/corp.yaml"],
      ["retired", "removed", "main:mailservers/retired.yaml", null],
    ]);
    expect(flags).toEqual(["protocol-downgrade", "recipients-change", "server-switch"]);
  });

  it("defaults to the current folder and skips other tools' files", async () => {
    const run = await runCli(["diff", "--base", "main", "--format", "markdown"], {
      cwd: join(repo, "mailservers"),
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("**3** declarations: 1 added, 1 changed, 1 removed.");
    expect(run.stdout).not.toContain("ci.yml");
  });

  it("exits 2 for an unknown revision or outside a git repository", async () => {
    const unknown = await runCli(["diff", "--base", "origin/nope", "mailservers"], { cwd: repo });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      "--base origin/nope: no such git revision here (in CI, fetch it first: git fetch origin nope)",
    );
    const outside = await runCli(["diff", "--base", "main", "."], { cwd: tmpdir() });
    expect(outside.code).toBe(2);
    expect((await runCli(["diff", "--base", "main", "no-such-folder"], { cwd: repo })).code).toBe(2);
  });
});
