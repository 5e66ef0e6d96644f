/**
 * The real Pulumi CLI with OAuth against the sandbox OpenID Provider and SMTP server, on one stack
 * whose life the scenarios follow in order (each builds on the state the previous one left):
 * b (the device flow at default verbosity, and CI without a grant), c (the post-deploy hook, and a
 * required test email that fails), f (rotation through `pulumi refresh`), d (drift caught by
 * `pulumi preview --refresh --expect-no-changes` and examples/ci/check-preview.mjs), h (destroy
 * revokes the grant). Local file backend, passphrase secrets, no network beyond loopback.
 */
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MailServerDeclaration } from "../../provider/declaration/generated/declaration.js";
import { declarationYaml } from "../../sandbox/declarations.js";
import { sandboxDeclaredAuth } from "../../sandbox/grant.js";
import {
  accessTokenVerifier,
  introspectAccessToken,
  type SandboxOP,
  startSandboxOP,
} from "../../sandbox/op.js";
import { TYPE_TOKEN } from "../../sandbox/provider-host.js";
import { type SandboxSmtp, startSandboxSmtp } from "../../sandbox/smtp.js";
import {
  createPulumiProject,
  MAILSERVER_PROGRAM,
  type PulumiProject,
  type PulumiRun,
  plainOutputs,
  pulumiCli,
  resourcesOfType,
  skipWithoutPulumi,
} from "../helpers/pulumi-cli.js";

const skip = skipWithoutPulumi("the real Pulumi CLI scenarios b, c, d, f and h (test/pulumi/oauth.test.ts)");
const schema = join(process.cwd(), "schema/mailserver.schema.json");
const DEVICE_PATH = /device/;
let op: SandboxOP;
let smtp: SandboxSmtp;
let project: PulumiProject;

interface Options {
  fromName?: string;
  testEmail?: MailServerDeclaration["testEmail"];
  /** Keep the grant in this file (relative to mailservers/), as `mailserver authorize --out` does. */
  grantFile?: string;
}

const GRANT_FILE = ".secrets/corp-mail.json";

async function writeDeclaration(options: Options = {}): Promise<void> {
  const declaration: MailServerDeclaration = {
    version: 1,
    name: "corp-mail",
    smtp: { host: smtp.host, protocol: "tls", port: smtp.tlsPort, tls: { ca: { file: "ca.pem" } } },
    auth: sandboxDeclaredAuth(op, {
      flow: "device",
      ...(options.grantFile && { refreshToken: { file: options.grantFile } }),
    }),
    from: { name: options.fromName ?? "Notifications" },
    testEmail: options.testEmail ?? { to: ["ops@sandbox.test"], onDeploy: true },
  };
  await project.writeFile("mailservers/corp-mail.yaml", declarationYaml(declaration, schema));
}

/** `pulumi up` watched by a person without a terminal: approves each device code it shows. */
async function upApprovingCodes(
  extraArgs: string[] = [],
): Promise<{ run: PulumiRun; codes: string[]; uris: string[] }> {
  const codes: string[] = [];
  const uris: string[] = [];
  const approvals: Promise<void>[] = [];
  let seen = "";
  const run = await project.run(["up", "--yes", "--non-interactive", "--skip-preview", ...extraArgs], {
    env: { MAILSERVER_INTERACTIVE: "1" },
    onOutput: (text) => {
      seen += text;
      for (const match of seen.matchAll(/open (\S+) and enter the code ([A-Z0-9-]+)/g)) {
        const [, uri, code] = match as unknown as [string, string, string];
        if (codes.includes(code)) continue;
        codes.push(code);
        uris.push(uri);
        approvals.push(op.approveDeviceCode(code));
      }
    },
  });
  await Promise.all(approvals);
  return { run, codes, uris };
}

async function mailServerState(): Promise<Record<string, unknown>> {
  return plainOutputs(resourcesOfType((await project.stackExport(true)).deployment.resources, TYPE_TOKEN)[0]);
}

function tokenInFile(): string {
  const grant = JSON.parse(readFileSync(join(project.dir, "mailservers", GRANT_FILE), "utf8"));
  return (grant as { refreshToken: string }).refreshToken;
}

/** Whether the OP still honours a refresh token (RFC 7662 introspection, which spends nothing). */
async function active(refreshToken: unknown): Promise<boolean> {
  return (await introspectAccessToken(op, String(refreshToken))).active;
}

/** examples/ci/check-preview.mjs on a preview's JSON, as a CI job runs it. */
function checkPreview(json: string, status: number | null): Promise<{ code: number | null; output: string }> {
  const file = join(project.dir, "preview.json");
  writeFileSync(file, json);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["examples/ci/check-preview.mjs", file, String(status)]);
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.once("close", (code) => resolve({ code, output }));
  });
}

beforeAll(async () => {
  if (skip) return;
  op = await startSandboxOP({ deviceFlowInterval: 1 });
  smtp = await startSandboxSmtp({ verifyAccessToken: accessTokenVerifier(op) });
  project = await createPulumiProject({
    cli: pulumiCli!,
    name: "mail-oauth",
    program: MAILSERVER_PROGRAM,
    env: { MAILSERVER_PROMPT_TTY: "none", MAILSERVER_INTERACTIVE: undefined, CI: undefined },
  });
  await project.writeFile("mailservers/ca.pem", smtp.caPem);
  await writeDeclaration();
});

afterAll(async () => {
  project?.remove();
  await smtp?.stop();
  await op?.stop();
});

describe.skipIf(skip)(
  `the real pulumi CLI ${pulumiCli?.version ?? ""} (${pulumiCli?.source ?? ""}), OAuth`,
  // Several CLI runs per scenario, each starting node programs and plugins: minutes on 2 busy cores.
  { timeout: 300_000 },
  () => {
    it("b. with CI=true and no grant, pulumi up fails at once saying to run `mailserver authorize`; watched, the device code shows at default verbosity and the sandbox approves it", async () => {
      const before = op.requests.length;
      const ci = await project.run(["up", "--yes", "--non-interactive", "--skip-preview"], {
        env: { CI: "true" },
      });
      expect(ci.code).not.toBe(0);
      expect(ci.stdout).toContain("(authorization-required)");
      expect(ci.stdout).toContain("mailserver authorize");
      // It failed before starting a device flow that nobody would complete (so it did not wait).
      expect(op.requests.slice(before).filter((request) => DEVICE_PATH.test(request.path))).toEqual([]);
      console.log(`pulumi up without a grant in CI failed after ${Math.round(ci.ms)} ms`);

      const { run, codes, uris } = await upApprovingCodes();
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(codes).toHaveLength(1);
      expect(uris[0]).toBe(`${op.url}/device`);
      expect(run.stdout).toMatch(/\+ 1 created/);
      const state = await mailServerState();
      expect(state).toMatchObject({ username: op.account.email, verification: { ok: true } });
    });

    it("c. the post-deploy hook sends the test email; a required test email that is refused fails pulumi up and keeps the previous outputs and grant", async () => {
      smtp.messages.length = 0;
      await writeDeclaration({ fromName: "Alerts" });
      const up = await project.pulumi(["up", "--yes", "--non-interactive", "--skip-preview"]);
      const message = await smtp.waitForMessage({ timeoutMs: 30_000 });
      expect(message.parsed.from?.value).toEqual([{ name: "Alerts", address: op.account.email }]);
      // The hook logs the message it sent, in the program's output that pulumi shows.
      expect(up.stdout).toContain(
        `corp-mail: test email ${message.parsed.messageId} accepted for ops@sandbox.test`,
      );
      const previous = await mailServerState();

      smtp.faults.rejectRecipients = ["nobody@sandbox.test"];
      await writeDeclaration({
        fromName: "Refused",
        testEmail: { to: ["nobody@sandbox.test"], required: true },
      });
      const failed = await project.run(["up", "--yes", "--non-interactive", "--skip-preview"]);
      smtp.faults.rejectRecipients = [];
      expect(failed.code).not.toBe(0);
      expect(failed.stdout).toContain("corp-mail: the required test email failed");
      expect(failed.stdout).toContain("recipient-rejected");
      const kept = await mailServerState();
      const { refreshToken: newest, accessToken: _a, lastVerifiedAt: _l, verification: _v, ...rest } = kept;
      const {
        refreshToken: spent,
        accessToken: _pa,
        lastVerifiedAt: _pl,
        verification: _pv,
        ...before
      } = previous;
      expect(rest).toEqual(before);
      expect(kept.fromName).toBe("Alerts");
      // The grant survived: the newest refresh token (rotated during the failed attempt) still works.
      expect(await active(newest)).toBe(true);
      if (newest !== spent) expect(await active(spent)).toBe(false);
      await writeDeclaration({ fromName: "Alerts" });
    });

    it("f. pulumi refresh against a rotating issuer stores the newest refresh token, and the next pulumi up works: the grant is never lost", async () => {
      // The grant moves into a file, as `mailserver authorize --out` keeps it: read (pulumi refresh)
      // only spends a rotating token it can keep where a preview's read is kept too.
      await project.writeFile(
        `mailservers/${GRANT_FILE}`,
        JSON.stringify({ refreshToken: (await mailServerState()).refreshToken }),
      );
      await writeDeclaration({ fromName: "Alerts", grantFile: GRANT_FILE });
      await project.pulumi(["up", "--yes", "--non-interactive", "--skip-preview"], { env: { CI: "true" } });
      const before = await mailServerState();
      expect(tokenInFile()).toBe(before.refreshToken);
      expect(await active(before.refreshToken)).toBe(true);

      // As a person runs it: the preview first (its read is not saved), then the refresh.
      const refresh = await project.pulumi(["refresh", "--yes", "--non-interactive"], {
        env: { CI: "true" },
      });
      expect(refresh.stdout).not.toContain("grant-revoked");
      const after = await mailServerState();
      expect(after.refreshToken).not.toBe(before.refreshToken);
      expect(after.refreshToken).toBe(tokenInFile());
      expect(await active(after.refreshToken)).toBe(true);
      expect(await active(before.refreshToken)).toBe(false);

      await writeDeclaration({ fromName: "After refresh", grantFile: GRANT_FILE });
      const up = await project.run(["up", "--yes", "--non-interactive", "--skip-preview"], {
        env: { CI: "true" },
      });
      expect(up.code, up.stdout + up.stderr).toBe(0);
      const updated = await mailServerState();
      expect(updated).toMatchObject({ fromName: "After refresh", verification: { ok: true } });
      expect(updated.grantedAt).toBe(before.grantedAt);
      expect(await active(updated.refreshToken)).toBe(true);
    });

    it("d. drift: unchanged, preview --refresh --expect-no-changes passes and check-preview.mjs says 0; with the grant revoked at the OP it fails and check-preview.mjs says drift (1)", async () => {
      const preview = ["preview", "--refresh", "--expect-no-changes", "--json", "--non-interactive"];
      const clean = await project.run(preview, { env: { CI: "true" } });
      expect(clean.code, clean.stdout + clean.stderr).toBe(0);
      expect(await checkPreview(clean.stdout, clean.code)).toMatchObject({ code: 0 });
      // The preview's read rotated the token into the grant file (the engine kept no state): it still works.
      expect(await active(tokenInFile())).toBe(true);

      const revoked = await fetch(new URL("token/revocation", `${op.url}/`), {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token: tokenInFile(), client_id: op.clients.native.clientId }),
      });
      expect(revoked.ok).toBe(true);
      expect(await active(tokenInFile())).toBe(false);
      const drifted = await project.run(preview, { env: { CI: "true" } });
      expect(drifted.code).not.toBe(0);
      expect(drifted.stdout).toContain("grant-revoked");
      const classified = await checkPreview(drifted.stdout, drifted.code);
      expect(classified.code, classified.output).toBe(1);
      expect(classified.output).toContain("drift: 1 to update");
    });

    it("h. pulumi destroy revokes the grant at the OP", async () => {
      // d left a revoked grant: `pulumi up --refresh` finds it, and a person watching authorizes again.
      const { run, codes } = await upApprovingCodes(["--refresh"]);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(codes).toHaveLength(1);
      const { refreshToken } = await mailServerState();
      expect(await active(refreshToken)).toBe(true);

      const destroy = await project.pulumi(["destroy", "--yes", "--non-interactive", "--skip-preview"]);
      expect(destroy.stdout).toContain(
        "corp-mail: deleted; the identity service goes back to its built-in mail server (grant revoked)",
      );
      expect(await active(refreshToken)).toBe(false);
    });
  },
);
