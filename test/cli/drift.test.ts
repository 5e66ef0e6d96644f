// `mailserver drift` end to end (in-process) against the sandboxes: the JSON contract, exit codes,
// --state in both Pulumi formats, and the faults of the issue: unreadable state, another stack's
// state, declarations added or removed since the state, a hanging server, 200 declarations.
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refreshGrant } from "../../provider/oauth/index.js";
import { startSilentServer } from "../../sandbox/smtp.js";
import { closedPort, type DriftSandbox, startDriftSandbox } from "../drift/sandbox.js";
import { runCli } from "../helpers/cli.js";
import { sandboxAuth } from "../helpers/op-auth.js";

let sandbox: DriftSandbox;
let good: string;
let oauth: string;
beforeAll(async () => {
  sandbox = await startDriftSandbox();
  good = await sandbox.write("good.yaml", sandbox.basic({ name: "good" }));
  await sandbox.grant("oauth-grant.json");
  oauth = await sandbox.write("oauth.yaml", sandbox.oauth("oauth-mail", "oauth-grant.json"));
});
afterAll(() => sandbox.stop());

const drift = (args: string[], env: Record<string, string> = sandbox.env) =>
  runCli(["drift", ...args], { env });

async function stateFile(name: string, content: unknown): Promise<string> {
  const path = join(sandbox.dir, name);
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

describe("mailserver drift", () => {
  it("exits 0 in sync and prints the contract's JSON", async () => {
    const run = await drift([good, oauth, "--format", "json"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const document = JSON.parse(run.stdout);
    expect(document).toEqual({
      inSync: true,
      results: [
        { file: expect.stringMatching(/good\.yaml$/), name: "good", inSync: true, findings: [] },
        {
          file: expect.stringMatching(/oauth\.yaml$/),
          name: "oauth-mail",
          inSync: true,
          findings: [],
        },
      ],
    });
  });

  it("exits 0 with a cert-expiring warning, and 1 on drift", async () => {
    const warned = await drift([good, "--format", "json", "--cert-warn-days", "45"]);
    expect(warned.code).toBe(0);
    expect(JSON.parse(warned.stdout).results[0].findings).toEqual([
      {
        severity: "warning",
        code: "cert-expiring",
        field: "smtp.tls",
        message: expect.stringMatching(/days left, warning from 45/),
      },
    ]);
    const broken = await drift([good, "--format", "json"], { SANDBOX_SMTP_PASSWORD: "wrong" });
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.stdout)).toMatchObject({
      inSync: false,
      results: [{ name: "good", inSync: false, findings: [{ severity: "error", code: "auth-rejected" }] }],
    });
    expect(broken.stdout).not.toContain("wrong");
  });

  it("prints GitHub annotations and readable text", async () => {
    const port = await closedPort();
    const dead = await sandbox.write("dead.yaml", sandbox.basic({ name: "dead", port }));
    const github = await drift([dead, "--format", "github"]);
    expect(github.code).toBe(1);
    expect(github.stdout).toMatch(
      /^::error file=.*dead\.yaml,title=mailserver drift smtp-unreachable::dead \(smtp\.port\): 127\.0\.0\.1:\d+: /m,
    );
    const text = await drift([dead, good]);
    expect(text.stdout).toContain("dead (");
    expect(text.stdout).toMatch(/: drift\n {2}error smtp\.port: /);
    expect(text.stdout).toContain("good (");
    expect(text.stdout).toContain("2 declarations: 1 in sync, 1 drifted, 0 warnings");
  });

  it("a server that hangs gets a finding at the time limit while the others finish", async () => {
    const silent = await startSilentServer();
    try {
      const folder = join(sandbox.dir, "hang");
      await mkdir(folder, { recursive: true });
      await writeFile(join(folder, "ca.pem"), sandbox.fixture.smtp.caPem);
      const { stringify } = await import("yaml");
      const slow = { ...sandbox.basic({ name: "hangs", port: silent.port }) };
      slow.smtp = { ...slow.smtp, timeouts: { connectionMs: 30_000, greetingMs: 30_000, socketMs: 30_000 } };
      await writeFile(join(folder, "a-hangs.yaml"), stringify(slow));
      for (const name of ["b-one", "c-two", "d-three"]) {
        await writeFile(join(folder, `${name}.yaml`), stringify(sandbox.basic({ name })));
      }
      const run = await drift([folder, "--timeout", "1", "--concurrency", "2", "--format", "json"]);
      expect(run.code).toBe(1);
      const { results } = JSON.parse(run.stdout);
      expect(results.map((r: { name: string; inSync: boolean }) => [r.name, r.inSync])).toEqual([
        ["hangs", false],
        ["b-one", true],
        ["c-two", true],
        ["d-three", true],
      ]);
      expect(results[0].findings.map((f: { code: string }) => f.code)).toEqual(["smtp-unreachable"]);
    } finally {
      await silent.stop();
    }
  });

  it("writes nothing but the rotated refresh token back to its own file", async () => {
    const snapshot = async () => {
      const entries: Record<string, string> = {};
      for (const name of (await readdir(sandbox.dir)).sort()) {
        if (name === "hang") continue;
        const content = await readFile(join(sandbox.dir, name)).catch(() => Buffer.from("(folder)"));
        entries[name] = createHash("sha256").update(content).digest("hex");
      }
      return entries;
    };
    const before = await snapshot();
    const run = await drift([good, oauth]);
    expect(run.code).toBe(0);
    const after = await snapshot();
    const changed = Object.keys(after).filter((name) => after[name] !== before[name]);
    expect(changed).toEqual(["oauth-grant.json"]);
    const stored = JSON.parse(await readFile(join(sandbox.dir, "oauth-grant.json"), "utf8"));
    expect(run.stdout).not.toContain(stored.refreshToken);
    // The saved token is the live one: the next run refreshes with it (and rotates it again).
    expect((await drift([oauth])).code).toBe(0);
  });

  it("exits 2 for an invalid declaration, an unset secret, and usage errors", async () => {
    const invalid = join(sandbox.dir, "invalid.yml");
    await writeFile(invalid, "version: 1\nname: Not Valid\n");
    const bad = await drift([invalid, good, "--format", "json"]);
    expect(bad.code).toBe(2);
    // stdout is exactly the contract; the configuration error is said on stderr.
    expect(Object.keys(JSON.parse(bad.stdout).results[0])).toEqual(["file", "name", "inSync", "findings"]);
    expect(JSON.parse(bad.stdout).results[0]).toMatchObject({ inSync: false, findings: [] });
    expect(bad.stderr).toMatch(/invalid\.yml\): .*\(declaration-invalid\)/);
    const unset = await drift([good], {});
    expect(unset.code).toBe(2);
    expect(unset.stdout).toContain(
      "auth.password (env:SANDBOX_SMTP_PASSWORD) is not set or empty (secret-unresolved)",
    );
    const usage = [
      ["--concurrency", "0"],
      ["--format", "xml"],
      ["--cert-warn-days", "-1"],
      ["--timeout", "x"],
      ["--bogus"],
    ];
    for (const args of usage) expect((await drift([good, ...args])).code, args.join(" ")).toBe(2);
    expect((await drift(["no/such/path"])).code).toBe(2);
  });
});

describe("mailserver drift --state", () => {
  it("compares with `pulumi stack output --json --show-secrets`, both ways: removed and added declarations", async () => {
    const state = await stateFile("outputs.json", {
      good: {
        host: "127.0.0.1",
        port: sandbox.fixture.smtp.tlsPort,
        protocol: "tls",
        fromAddress: "other@sandbox.test",
      },
      retired: { host: "smtp.retired.example", port: 465, protocol: "tls" },
    });
    const run = await drift([good, oauth, "--state", state, "--format", "json"]);
    expect(run.code).toBe(1);
    const { results } = JSON.parse(run.stdout);
    expect(results).toEqual([
      {
        file: expect.stringMatching(/good\.yaml$/),
        name: "good",
        inSync: false,
        findings: [
          {
            severity: "error",
            code: "recorded-mismatch",
            field: "from.address",
            message: 'declared "sender@sandbox.test", recorded "other@sandbox.test"',
          },
        ],
      },
      {
        file: expect.stringMatching(/oauth\.yaml$/),
        name: "oauth-mail",
        inSync: false,
        findings: [
          {
            severity: "error",
            code: "recorded-mismatch",
            field: "name",
            message: `oauth-mail is not recorded in ${state}: not deployed yet, or deployed by another stack`,
          },
        ],
      },
      {
        file: state,
        name: "retired",
        inSync: false,
        findings: [
          {
            severity: "error",
            code: "recorded-mismatch",
            field: "name",
            message: `retired is recorded in ${state} but no declaration here declares it: the next pulumi up deletes it (back to the built-in mail server)`,
          },
        ],
      },
    ]);
  });

  it("reads a `pulumi stack export` checkpoint, secrets and all, and finds a changed certificate", async () => {
    const secret = (value: unknown) => ({
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
      plaintext: JSON.stringify(value),
    });
    const state = await stateFile("export.json", {
      version: 3,
      deployment: {
        manifest: { time: "2025-01-01T00:00:00Z" },
        resources: [
          {
            urn: "urn:pulumi:prod::mail::pulumi:pulumi:Stack::mail-prod",
            type: "pulumi:pulumi:Stack",
            outputs: {},
          },
          {
            urn: "urn:pulumi:prod::mail::pulumi-nodejs:dynamic/mailserver:MailServer::good",
            type: "pulumi-nodejs:dynamic/mailserver:MailServer",
            outputs: {
              stateVersion: 1,
              name: "good",
              host: "127.0.0.1",
              port: sandbox.fixture.smtp.tlsPort,
              protocol: "tls",
              password: secret("sandbox-password"),
              certificate: { fingerprint256: `${"AB:".repeat(31)}AB` },
            },
          },
        ],
      },
    });
    const run = await drift([good, "--state", state, "--format", "json"]);
    expect(run.code).toBe(1);
    const [result] = JSON.parse(run.stdout).results;
    expect(result.findings.map((f: { code: string }) => f.code)).toEqual(["cert-changed"]);
    expect(run.stdout).not.toContain("sandbox-password");
  });

  it("exits 2 with a clear message for an unreadable, non-JSON, empty or foreign state", async () => {
    const missing = await drift([good, "--state", join(sandbox.dir, "no-such-state.json")]);
    expect(missing).toMatchObject({ code: 2, stdout: "" });
    expect(missing.stderr).toMatch(
      /^mailserver: the state file .*no-such-state\.json cannot be read \(ENOENT\) \(state-unreadable\)\n {2}hint: Pass the output of/,
    );
    const notJson = await drift([good, "--state", await stateFile("broken.json", "{ not json")]);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/is not JSON/);
    const empty = await drift([
      good,
      "--state",
      await stateFile("empty.json", { url: "https://example.com" }),
    ]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/holds no MailServer outputs/);
    const foreign = await drift([
      good,
      "--state",
      await stateFile("foreign.json", {
        mailservers: { "billing-mail": { host: "smtp.billing.example", port: 587 } },
      }),
    ]);
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toMatch(
      /records billing-mail, none of which is declared here \(good\) \(state-mismatch\)/,
    );
  });
});

describe("200 declarations at once", () => {
  it("checks them all against one SMTP server and one OP, with grant files shared and kept alive", async () => {
    const folder = join(sandbox.dir, "many");
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, "ca.pem"), sandbox.fixture.smtp.caPem);
    const { stringify } = await import("yaml");
    const grants = ["g0.json", "g1.json", "g2.json", "g3.json"];
    for (const file of grants) {
      await sandbox.grant(file);
      await writeFile(join(folder, file), await readFile(join(sandbox.dir, file)));
    }
    const names: string[] = [];
    for (let i = 0; i < 200; i++) {
      const name = `decl-${String(i).padStart(3, "0")}`;
      names.push(name);
      const declaration =
        i % 5 === 0 ? sandbox.oauth(name, grants[i % 4] as string) : sandbox.basic({ name });
      await writeFile(join(folder, `${name}.yaml`), stringify(declaration));
    }
    const run = await drift([folder, "--concurrency", "16", "--format", "json"]);
    expect(run.stderr).toBe("");
    const document = JSON.parse(run.stdout);
    expect(document.results.map((r: { name: string }) => r.name)).toEqual(names);
    expect(document.results.filter((r: { inSync: boolean }) => !r.inSync)).toEqual([]);
    expect(run.code).toBe(0);
    // 40 OAuth declarations took turns on 4 rotating grants: each file still holds a live token.
    for (const file of grants) {
      const { refreshToken } = JSON.parse(await readFile(join(folder, file), "utf8"));
      await expect(refreshGrant(sandboxAuth(sandbox.op), { refreshToken })).resolves.toBeTruthy();
    }
  });
});
