// README's commands, run as a person runs them: `npm run demo` (the main job) and
// `npm run sandbox` (the sandboxes for trying the tool). Both use the built dist/ (npm test builds).
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

describe("npm run demo", () => {
  it("takes a MailServer through its whole life against the sandboxes", async () => {
    const { stdout, stderr } = await run(process.execPath, ["scripts/demo.mjs", "--no-pulumi"], {
      env: { ...process.env, CI: "true" },
      timeout: 90_000,
    });
    const steps = stdout.split("\n").filter((line) => line.startsWith("== "));
    expect(steps).toEqual([
      "== starting the sandbox OpenID Provider and SMTP server on 127.0.0.1",
      expect.stringMatching(/^== the declaration, demo-mail\.yaml \(in .+mailserver-demo-\w+\)$/),
      "== mailserver validate demo-mail.yaml",
      expect.stringMatching(/^== mailserver discover http:\/\/127\.0\.0\.1:\d+$/),
      "== mailserver authorize --flow device --out .secrets/demo-mail.json",
      "== mailserver verify",
      "== without the pulumi CLI: driving Pulumi's dynamic provider host over gRPC, as the engine does",
      "== check",
      "== create (discovery, the stored grant, ID-token facts, SMTP AUTH)",
      "== post-deploy hook: the test email",
      "== refresh (pulumi refresh: read observes the live facts)",
      "== delete (pulumi destroy: revoke the grant, back to the built-in mail server)",
      "== done",
    ]);
    expect(stdout).toMatch(/Authorized as ops@sandbox\.test/);
    expect(stdout).toMatch(/Subject: +Test email from the mail server setting "demo-mail"/);
    expect(stdout).toContain("preview after refresh: no changes");
    expect(stdout).toContain("(grant revoked)");
    // The device code is shown as issued; no token ever is.
    expect(stderr).toMatch(/enter the code [A-Z]{4}-[A-Z]{4}/);
    expect(`${stdout}${stderr}`).not.toMatch(/"refreshToken": "(?!\[secret\])/);
    expect(`${stdout}${stderr}`).not.toContain("oidc-provider WARNING");
  }, 120_000);
});

describe("npm run sandbox", () => {
  it("writes declarations that validate and verify while it runs, and stops on SIGTERM", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mailserver-sandbox-"));
    const sandbox: ChildProcess = spawn(process.execPath, ["scripts/sandbox.mjs", "--dir", dir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      let output = "";
      await new Promise<void>((resolve, reject) => {
        sandbox.stdout?.on("data", (chunk) => {
          output += chunk;
          if (output.includes("Ctrl-C stops both servers")) resolve();
        });
        sandbox.once("exit", (code) => reject(new Error(`sandbox exited ${code}: ${output}`)));
      });
      expect((await readdir(dir)).sort()).toEqual([
        ".secrets",
        "app-client-credentials.yaml",
        "app-client-secret.yaml",
        "app-service-account.yaml",
        "basic-starttls.yaml",
        "ca.pem",
        "oauth-device.yaml",
        "oauth-loopback.yaml",
      ]);
      expect((await readdir(join(dir, ".secrets"))).sort()).toEqual([
        "app-certificate.pem",
        "app-client-secret",
        "app-key.pem",
        "service-account.json",
        "smtp-password",
      ]);
      const validate = await run(process.execPath, ["bin/mailserver.js", "validate", dir]);
      expect(validate.stdout).toContain("6 declarations checked: all valid");
      // The app-only declarations need nobody: their token proves the key files work.
      const authorize = await run(process.execPath, [
        "bin/mailserver.js",
        "authorize",
        join(dir, "app-service-account.yaml"),
      ]);
      expect(authorize.stdout).toMatch(
        /^Token granted to mailer@sandbox-project\.iam\.gserviceaccount\.test by http/,
      );
      const verify = await run(process.execPath, [
        "bin/mailserver.js",
        "verify",
        join(dir, "basic-starttls.yaml"),
      ]);
      expect(verify.stdout).toMatch(
        /^ok 127\.0\.0\.1:\d+ \(STARTTLS\) accepted the login of sender@sandbox\.test/,
      );
    } finally {
      const exited = new Promise((resolve) => sandbox.once("exit", resolve));
      sandbox.kill("SIGTERM");
      expect(await exited).toBe(0);
    }
  }, 60_000);
});
