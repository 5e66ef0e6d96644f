/**
 * The real Pulumi CLI (built by scripts/install-pulumi.sh, or on the PATH) with Basic auth against
 * the sandbox SMTP server: scenarios a (create, outputs, update not replace, destroy), e (secrets
 * never in plain text, with an OAuth confidential client beside it) and g (the serialized provider
 * is the same in two checkouts). Local file backend, passphrase secrets, no network beyond loopback.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MailServerDeclaration } from "../../provider/declaration/generated/declaration.js";
import { declarationYaml } from "../../sandbox/declarations.js";
import { sandboxDeclaredAuth, writeSandboxGrant } from "../../sandbox/grant.js";
import { accessTokenVerifier, type SandboxOP, startSandboxOP } from "../../sandbox/op.js";
import { TYPE_TOKEN } from "../../sandbox/provider-host.js";
import { type SandboxSmtp, startSandboxSmtp } from "../../sandbox/smtp.js";
import {
  createPulumiProject,
  filesUnder,
  MAILSERVER_PROGRAM,
  type PulumiProject,
  pulumiCli,
  resourcesOfType,
  skipWithoutPulumi,
} from "../helpers/pulumi-cli.js";

const skip = skipWithoutPulumi("the real Pulumi CLI scenarios a, e and g (test/pulumi/basic.test.ts)");
const schema = join(process.cwd(), "schema/mailserver.schema.json");
let smtp: SandboxSmtp;
let op: SandboxOP;
const projects: PulumiProject[] = [];

function basicDeclaration(name: string, fromName: string): MailServerDeclaration {
  return {
    version: 1,
    name,
    smtp: { host: smtp.host, protocol: "tls", port: smtp.tlsPort, tls: { ca: { file: "ca.pem" } } },
    auth: {
      method: "basic",
      username: smtp.account.username,
      password: { config: "mailserver:smtpPassword" },
    },
    from: { name: fromName, address: smtp.account.username },
    testEmail: { to: ["ops@sandbox.test"], onDeploy: false },
  };
}

/** A project with the test program, the sandbox CA and the SMTP password as a stack secret. */
async function basicProject(name: string, dir?: string): Promise<PulumiProject> {
  const project = await createPulumiProject({
    cli: pulumiCli!,
    name,
    program: MAILSERVER_PROGRAM,
    ...(dir && { dir }),
    env: { MAILSERVER_INTERACTIVE: "0" },
  });
  projects.push(project);
  await project.writeFile("mailservers/ca.pem", smtp.caPem);
  await project.pulumi(["config", "set", "--secret", "mailserver:smtpPassword", smtp.account.password]);
  return project;
}

async function writeDeclaration(project: PulumiProject, declaration: MailServerDeclaration): Promise<void> {
  await project.writeFile(`mailservers/${declaration.name}.yaml`, declarationYaml(declaration, schema));
}

beforeAll(async () => {
  if (skip) return;
  op = await startSandboxOP({ deviceFlowInterval: 1 });
  smtp = await startSandboxSmtp({ verifyAccessToken: accessTokenVerifier(op) });
});

afterAll(async () => {
  for (const project of projects) project.remove();
  await smtp?.stop();
  await op?.stop();
});

describe.skipIf(skip)(
  `the real pulumi CLI ${pulumiCli?.version ?? ""} (${pulumiCli?.source ?? ""}), Basic auth`,
  // Several CLI runs per scenario, each starting node programs and plugins: minutes on 2 busy cores.
  { timeout: 300_000 },
  () => {
    it("a. pulumi up creates, stack output has the outputs, a from-name change is an update (not a replace), destroy deletes", async () => {
      const project = await basicProject("mail-basic");
      await writeDeclaration(project, basicDeclaration("basic-mail", "Notifications"));

      const up = await project.pulumi(["up", "--yes", "--non-interactive", "--skip-preview"]);
      expect(up.stdout).toMatch(/\+ 2 created/);
      const { mail } = (await project.outputs()) as { mail: Record<string, Record<string, unknown>> };
      expect(mail["basic-mail"]).toMatchObject({
        host: smtp.host,
        port: smtp.tlsPort,
        username: smtp.account.username,
        fromName: "Notifications",
        fromAddress: smtp.account.username,
        verification: { ok: true, authenticatedAs: smtp.account.username },
      });
      const [created] = resourcesOfType((await project.stackExport()).deployment.resources, TYPE_TOKEN);

      await writeDeclaration(project, basicDeclaration("basic-mail", "Alerts"));
      const preview = await project.pulumi(["preview", "--json", "--non-interactive"]);
      const steps = (JSON.parse(preview.stdout).steps as { op: string; urn: string }[]).filter(
        (step) => step.urn === created?.urn,
      );
      expect(steps.map((step) => step.op)).toEqual(["update"]);
      const update = await project.pulumi(["up", "--yes", "--non-interactive", "--skip-preview"]);
      expect(update.stdout).toMatch(/~ 1 updated/);
      expect(update.stdout).not.toMatch(/replaced/);
      const [updated] = resourcesOfType((await project.stackExport()).deployment.resources, TYPE_TOKEN);
      expect(updated?.id).toBe(created?.id);
      expect(updated?.outputs?.fromName).toBe("Alerts");

      const destroy = await project.pulumi(["destroy", "--yes", "--non-interactive", "--skip-preview"]);
      expect(destroy.stdout).toMatch(/- 2 deleted/);
      expect(destroy.stdout).toContain(
        "basic-mail: deleted; the identity service goes back to its built-in mail server",
      );
      expect(resourcesOfType((await project.stackExport()).deployment.resources, TYPE_TOKEN)).toEqual([]);
    });

    it("e. stack export and the backend folder hold no plaintext password, client secret, refresh or access token; --show-secrets returns them", async () => {
      const project = await basicProject("mail-secrets");
      await writeDeclaration(project, basicDeclaration("basic-mail", "Notifications"));
      // An OAuth declaration with a confidential client: its secret is a stack secret too, and its
      // grant comes from `mailserver authorize` (here: the sandbox's pages) as a file.
      const confidential = op.clients.confidential;
      mkdirSync(join(project.dir, "mailservers/.secrets"), { mode: 0o700 });
      await writeSandboxGrant(op, join(project.dir, "mailservers/.secrets/oauth-mail.json"), {
        auth: { clientId: confidential.clientId },
        clientSecret: confidential.clientSecret,
      });
      await project.pulumi([
        "config",
        "set",
        "--secret",
        "mailserver:clientSecret",
        // The generated secret may start with "-": after "--" it is a value, not a flag.
        "--",
        confidential.clientSecret,
      ]);
      await writeDeclaration(project, {
        version: 1,
        name: "oauth-mail",
        smtp: { host: smtp.host, protocol: "tls", port: smtp.tlsPort, tls: { ca: { file: "ca.pem" } } },
        auth: {
          ...sandboxDeclaredAuth(op, { refreshToken: { file: ".secrets/oauth-mail.json" } }),
          clientId: confidential.clientId,
          clientSecret: { config: "mailserver:clientSecret" },
        },
        testEmail: { to: ["ops@sandbox.test"], onDeploy: false },
      });

      const up = await project.pulumi(["up", "--yes", "--non-interactive", "--skip-preview"]);
      const { secrets } = (await project.outputs(true)) as {
        secrets: Record<string, Record<string, string | undefined>>;
      };
      const values = {
        password: secrets["basic-mail"]?.password,
        clientSecret: secrets["oauth-mail"]?.clientSecret,
        refreshToken: secrets["oauth-mail"]?.refreshToken,
        accessToken: secrets["oauth-mail"]?.accessToken,
      };
      expect(values.password).toBe(smtp.account.password);
      expect(values.clientSecret).toBe(confidential.clientSecret);
      expect(values.refreshToken).toMatch(/^\S{20,}$/);
      expect(values.accessToken).toMatch(/^\S{20,}$/);
      // What `pulumi stack output` shows without --show-secrets.
      expect((await project.outputs()).secrets).toEqual({
        "basic-mail": { password: "[secret]" },
        "oauth-mail": { clientSecret: "[secret]", refreshToken: "[secret]", accessToken: "[secret]" },
      });

      const exported = JSON.stringify(await project.stackExport());
      const stored = filesUnder(project.stateDir);
      expect(stored.length).toBeGreaterThan(0);
      for (const [what, value] of Object.entries(values)) {
        expect(exported, `${what} in pulumi stack export`).not.toContain(value);
        for (const file of stored) expect(file.text, `${what} in ${file.path}`).not.toContain(value);
        expect(up.stdout + up.stderr, `${what} in the output of pulumi up`).not.toContain(value);
      }
      // The stack's config holds the two secrets encrypted, too.
      const config = readFileSync(join(project.dir, "Pulumi.dev.yaml"), "utf8");
      expect(config).toContain("secure:");
      expect(config).not.toContain(smtp.account.password);
      expect(config).not.toContain(confidential.clientSecret);
    });

    it("g. __provider in the checkpoint is byte-identical for the same program in two checkouts at different paths", async () => {
      const parent = mkdtempSync(join(tmpdir(), "pulumi-checkouts-"));
      try {
        const providers: string[] = [];
        for (const path of ["one/mail", "elsewhere/deeper/mail"]) {
          const project = await basicProject("mail-checkout", join(parent, path));
          await writeDeclaration(project, basicDeclaration("basic-mail", "Notifications"));
          await project.pulumi(["up", "--yes", "--non-interactive", "--skip-preview"]);
          const [resource] = resourcesOfType((await project.stackExport()).deployment.resources, TYPE_TOKEN);
          providers.push(String(resource?.inputs?.__provider));
        }
        expect(providers[0]).toMatch(/^exports\.handler = /);
        expect(providers[1]).toBe(providers[0]);
        expect(providers[0]).not.toContain(parent);
      } finally {
        rmSync(parent, { recursive: true, force: true });
      }
    });
  },
);
