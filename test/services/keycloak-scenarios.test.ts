/**
 * The Keycloak scenarios through the fronts people use: the real Pulumi CLI (`pulumi up`,
 * `preview --refresh`, `refresh`, `destroy`), the dynamic provider host over the engine protocol,
 * `mailserver drift` (with and without `--service-test`) and `mailserver import`, against one real
 * Keycloak for this file that sends through the sandbox SMTP server (it trusts the sandbox CA
 * through its truststore).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { loadDeclarationText } from "../../provider/declaration/load.js";
import { applyMailServer } from "../../provider/lifecycle/apply.js";
import { realSteps } from "../../provider/lifecycle/real-steps.js";
import { SECRET_OUTPUT_KEYS } from "../../provider/lifecycle/state.js";
import { declarationYaml } from "../../sandbox/declarations.js";
import { type EngineServer, startEngineServer } from "../../sandbox/engine-server.js";
import {
  keycloakErrors,
  keycloakUnavailable,
  type SandboxKeycloak,
  startSandboxKeycloak,
} from "../../sandbox/keycloak.js";
import { type ProviderHost, startProviderHost, TYPE_TOKEN, urnOf } from "../../sandbox/provider-host.js";
import { type SandboxSmtp, startSandboxSmtp } from "../../sandbox/smtp.js";
import { runCli } from "../helpers/cli.js";
import { captureMailServer } from "../helpers/engine-capture.js";
import {
  closedPort,
  consoleEdit as editInConsole,
  realmSettings as readRealmSettings,
} from "../helpers/keycloak.js";
import {
  createPulumiProject,
  filesUnder,
  MAILSERVER_PROGRAM,
  pulumiCli,
  resourcesOfType,
  skipWithoutPulumi,
} from "../helpers/pulumi-cli.js";

const unavailable = keycloakUnavailable();
if (unavailable) console.warn(`Keycloak scenarios skipped: ${unavailable}`);

const root = process.cwd();
let keycloak: SandboxKeycloak;
let smtp: SandboxSmtp;
let folder: string;

beforeAll(async () => {
  if (unavailable) return;
  smtp = await startSandboxSmtp();
  keycloak = await startSandboxKeycloak({ trustPem: smtp.caPem });
  folder = mkdtempSync(join(tmpdir(), "mailserver-keycloak-scenarios-"));
  writeFileSync(join(folder, "ca.pem"), smtp.caPem);
}, 300_000);

// Keycloak answers a failed send with "Failed to send email" only; its log says why.
afterEach((context) => {
  if (context.task.result?.state === "fail" && keycloak) console.log(keycloakErrors(keycloak));
});

afterAll(async () => {
  await keycloak?.stop();
  await smtp?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

/** The realm's smtpServer map as the admin console sees it. */
const realmSettings = (realm?: string) => readRealmSettings(keycloak, realm);

/** An edit made in the admin console (through the admin API, as the console does). */
const consoleEdit = (changes: Record<string, string>) => editInConsole(keycloak, changes);

function declaration(serviceOverrides: Record<string, unknown> = {}) {
  return {
    version: 1,
    name: "corp-mail",
    smtp: { host: "127.0.0.1", protocol: "tls", port: smtp.tlsPort, tls: { ca: { file: "ca.pem" } } },
    auth: { method: "basic", username: smtp.account.username, password: { env: "SMTP_PASSWORD" } },
    from: { name: "Corp", address: "no-reply@sandbox.test" },
    service: {
      type: "keycloak",
      url: keycloak.url,
      realm: "corp",
      clientId: keycloak.realm.clientId,
      clientSecret: { env: "KC_ADMIN_SECRET" },
      ...serviceOverrides,
    },
  };
}

const env = () => ({ SMTP_PASSWORD: smtp.account.password, KC_ADMIN_SECRET: keycloak.realm.clientSecret });

const noPulumi = unavailable ? true : skipWithoutPulumi("the Keycloak scenario through the real Pulumi CLI");

describe.skipIf(noPulumi)(
  `through the real pulumi CLI ${pulumiCli?.version ?? ""}`,
  // Several CLI runs, each starting node programs and plugins: minutes on 2 busy cores.
  { timeout: 300_000 },
  () => {
    it("up writes the realm, preview --refresh shows a console edit, up writes it back, destroy clears; secrets stay encrypted", async () => {
      const project = await createPulumiProject({
        cli: pulumiCli!,
        name: "mail-keycloak",
        program: MAILSERVER_PROGRAM,
        env: { MAILSERVER_INTERACTIVE: "0" },
      });
      try {
        await project.writeFile("mailservers/ca.pem", smtp.caPem);
        await project.pulumi(["config", "set", "--secret", "mailserver:smtpPassword", smtp.account.password]);
        await project.pulumi([
          "config",
          "set",
          "--secret",
          "mailserver:keycloakSecret",
          keycloak.realm.clientSecret,
        ]);
        const declared = {
          ...declaration({ clientSecret: { config: "mailserver:keycloakSecret" } }),
          auth: {
            method: "basic",
            username: smtp.account.username,
            password: { config: "mailserver:smtpPassword" },
          },
        };
        await project.writeFile(
          "mailservers/corp-mail.yaml",
          declarationYaml(declared as never, join(root, "schema/mailserver.schema.json")),
        );
        const admin = await keycloak.consoleAdmin();
        await admin.realms.update({ realm: "corp" }, { smtpServer: {} });

        const up = await project.pulumi(["up", "--yes", "--non-interactive", "--skip-preview"]);
        expect(up.stdout).toContain(`corp-mail: saved into Keycloak realm corp at ${keycloak.url}`);
        expect(await realmSettings()).toMatchObject({ host: "127.0.0.1", user: smtp.account.username });

        await consoleEdit({ host: "localhost" });
        const preview = await project.pulumi(["preview", "--refresh", "--json", "--non-interactive"]);
        const [created] = resourcesOfType((await project.stackExport()).deployment.resources, TYPE_TOKEN);
        const steps = (JSON.parse(preview.stdout).steps as { op: string; urn: string }[]).filter(
          (step) => step.urn === created?.urn,
        );
        expect(steps.map((step) => step.op)).toContain("update");
        await project.pulumi(["refresh", "--yes", "--non-interactive", "--skip-preview"]);
        const [refreshed] = resourcesOfType((await project.stackExport()).deployment.resources, TYPE_TOKEN);
        expect(refreshed?.inputs?.smtp).toMatchObject({ host: "localhost" });
        await project.pulumi(["up", "--yes", "--non-interactive", "--skip-preview"]);
        expect(await realmSettings()).toMatchObject({ host: "127.0.0.1" });

        const secrets = [keycloak.realm.clientSecret, smtp.account.password];
        const exported = JSON.stringify(await project.stackExport());
        for (const secret of secrets) {
          expect(exported).not.toContain(secret);
          for (const file of filesUnder(project.stateDir)) expect(file.text, file.path).not.toContain(secret);
          expect(up.stdout + up.stderr).not.toContain(secret);
        }
        const [resource] = resourcesOfType((await project.stackExport()).deployment.resources, TYPE_TOKEN);
        expect(resource?.outputs?.serviceClientSecret).toMatchObject({ ciphertext: expect.any(String) });

        const destroy = await project.pulumi(["destroy", "--yes", "--non-interactive", "--skip-preview"]);
        expect(destroy.stdout).toContain(
          `corp-mail: cleared the email settings of Keycloak realm corp at ${keycloak.url}`,
        );
        expect(await realmSettings()).toEqual({});
      } finally {
        project.remove();
      }
    });
  },
);

describe.skipIf(unavailable)("through the dynamic provider host", () => {
  let engine: EngineServer;
  let host: ProviderHost;
  let inputs: Record<string, unknown>;
  let state: Record<string, unknown>;
  const urn = () => urnOf("corp-mail");

  beforeAll(async () => {
    engine = await startEngineServer();
    host = await startProviderHost({
      engineAddress: engine.address,
      cwd: root,
      env: { MAILSERVER_INTERACTIVE: "0", MAILSERVER_PROMPT_TTY: "none" },
    });
    await host.configure();
    const { service, auth, ...rest } = declaration();
    const captured = await captureMailServer(root, "corp-mail", {
      ...rest,
      auth: { ...auth, password: { $secret: smtp.account.password } },
      service: { ...service, clientSecret: { $secret: keycloak.realm.clientSecret } },
      baseDir: relative(root, folder),
    });
    inputs = captured.inputs;
  }, 120_000);

  afterAll(async () => {
    await host?.close();
    await engine?.close();
  });

  it("the admin client secret is registered as a Pulumi secret, never in the inputs", () => {
    expect(inputs.service).toMatchObject({ clientSecret: { config: "inline:service.clientSecret" } });
    expect(JSON.stringify({ ...inputs, secretValues: undefined })).not.toContain(keycloak.realm.clientSecret);
  });

  it("create verifies, then writes the realm; the secrets are secret outputs only", async () => {
    expect((await host.check(urn(), {}, inputs)).failures).toEqual([]);
    const created = await host.create(urn(), inputs);
    state = created.properties;
    expect(await realmSettings()).toMatchObject({
      host: "127.0.0.1",
      port: String(smtp.tlsPort),
      ssl: "true",
      user: smtp.account.username,
      password: "**********",
      from: "no-reply@sandbox.test",
      fromDisplayName: "Corp",
    });
    for (const secret of [keycloak.realm.clientSecret, smtp.account.password]) {
      const plain = Object.keys(state).filter(
        (key) =>
          !(SECRET_OUTPUT_KEYS as readonly string[]).includes(key) &&
          JSON.stringify(state[key]).includes(secret),
      );
      expect(plain).toEqual([]);
      expect(host.output()).not.toContain(secret);
    }
    expect(state.serviceClientSecret).toBe(keycloak.realm.clientSecret);
  });

  it("diff: another realm or URL replaces the resource; another admin client updates it", async () => {
    const withService = (changes: Record<string, unknown>) => ({
      ...inputs,
      service: { ...(inputs.service as object), ...changes },
    });
    expect(await host.diff(urn(), "corp-mail", state, withService({ realm: "sales" }))).toMatchObject({
      changes: "some",
      replaces: ["service.realm"],
    });
    expect(
      await host.diff(urn(), "corp-mail", state, withService({ url: "https://sso.example.com" })),
    ).toMatchObject({ replaces: ["service.url"] });
    expect(await host.diff(urn(), "corp-mail", state, withService({ clientId: "other" }))).toMatchObject({
      changes: "some",
      replaces: [],
    });
  });

  it("refresh: an edit made in the admin console comes back as inputs (so preview shows it) and as drift", async () => {
    await consoleEdit({ host: "localhost", replyTo: "edited@sandbox.test" });
    const refreshed = await host.read(urn(), "corp-mail", state);
    expect(refreshed.inputs).toMatchObject({ smtp: { host: "localhost" }, replyTo: "edited@sandbox.test" });
    expect(
      (refreshed.properties.drift as { code: string; field: string }[]).map((f) => [f.code, f.field]),
    ).toEqual([
      ["service-mismatch", "smtp.host"],
      ["service-mismatch", "replyTo"],
    ]);
    // The declaration's inputs against the refreshed ones: an update that writes them back.
    expect(
      await host.diff(urn(), "corp-mail", { ...refreshed.properties, ...refreshed.inputs }, inputs),
    ).toMatchObject({
      changes: "some",
      replaces: [],
    });
    const updated = await host.update(
      urn(),
      "corp-mail",
      { ...refreshed.properties, ...refreshed.inputs },
      inputs,
    );
    state = updated.properties;
    expect(await realmSettings()).toMatchObject({ host: "127.0.0.1" });
    expect(await realmSettings()).not.toHaveProperty("replyTo");
  });

  it("destroy clears the realm's email settings", async () => {
    await host.delete(urn(), "corp-mail", state);
    expect(await realmSettings()).toEqual({});
  });
});

describe.skipIf(unavailable)("mailserver drift", () => {
  let file: string;

  beforeAll(async () => {
    file = join(folder, "corp-mail.yaml");
    writeFileSync(file, stringify(declaration()));
    await applyMailServer({ ...declaration(), baseDir: folder }, undefined, {
      steps: realSteps(),
      env: env(),
      log: () => {},
    });
  }, 60_000);

  const drift = (...flags: string[]) => runCli(["drift", file, "--format", "json", ...flags], { env: env() });

  it("in sync right after the apply", async () => {
    const result = await drift();
    expect(JSON.parse(result.stdout).results[0].findings).toEqual([]);
    expect(result.code).toBe(0);
  });

  it("a console edit is a service-mismatch with the field, the declared and the live value", async () => {
    await consoleEdit({ host: "localhost", fromDisplayName: "Someone Else" });
    const result = await drift();
    expect(result.code).toBe(1);
    const findings = JSON.parse(result.stdout).results[0].findings;
    expect(findings).toEqual([
      {
        severity: "error",
        code: "service-mismatch",
        field: "smtp.host",
        declared: "127.0.0.1",
        live: "localhost",
        message: `smtp.host is "127.0.0.1" in the declaration but "localhost" in Keycloak realm corp at ${keycloak.url} (edited in the admin console?); pulumi up writes the declared value`,
      },
      expect.objectContaining({
        code: "service-mismatch",
        field: "from.name",
        declared: "Corp",
        live: "Someone Else",
      }),
    ]);
    await consoleEdit({ host: "127.0.0.1", fromDisplayName: "Corp" });
  });

  it("a changed stored password is invisible to the comparison and caught by --service-test", async () => {
    await consoleEdit({ password: "rotated-elsewhere-77" });
    const plain = await drift();
    expect(plain.code).toBe(0);
    smtp.reset();
    const tested = await drift("--service-test");
    expect(tested.code).toBe(1);
    const [finding] = JSON.parse(tested.stdout).results[0].findings;
    expect(finding).toMatchObject({ severity: "error", code: "service-test-failed", field: "auth" });
    expect(finding.message).toContain(
      `Keycloak realm corp at ${keycloak.url} could not send with what it stores`,
    );
    expect(tested.stdout + tested.stderr).not.toContain("rotated-elsewhere-77");
    expect(tested.stdout + tested.stderr).not.toContain(keycloak.realm.clientSecret);
    // The working password again: --service-test passes, and Keycloak's message arrived.
    await consoleEdit({ password: smtp.account.password });
    smtp.reset();
    expect((await drift("--service-test")).code).toBe(0);
    expect((await smtp.waitForMessage({ timeoutMs: 20_000 })).envelope.to).toEqual([
      "mailserver-admin@sandbox.test",
    ]);
  });

  it("an unreachable service and a wrong admin secret are findings that name the cause", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const unreachable = join(folder, "unreachable.yaml");
    writeFileSync(unreachable, stringify({ ...declaration({ url }), name: "unreachable" }));
    const result = await runCli(["drift", unreachable, "--format", "json"], { env: env() });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).results[0].findings).toEqual([
      {
        severity: "error",
        code: "service-unreachable",
        field: "service.url",
        message: `Keycloak at ${url} could not be reached (ECONNREFUSED) (service-unreachable)`,
      },
    ]);
    const refused = await runCli(["drift", file, "--format", "json"], {
      env: { ...env(), KC_ADMIN_SECRET: "wrong-admin-secret-3" },
    });
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout).results[0].findings[0]).toMatchObject({
      code: "service-unreachable",
      field: "service.clientSecret",
    });
    expect(refused.stdout).toContain("refused the admin client mailserver-admin");
    expect(refused.stdout).not.toContain("wrong-admin-secret-3");
  });
});

describe.skipIf(unavailable)("mailserver import", () => {
  const importArgs = [
    "import",
    "--service",
    "keycloak",
    "--url",
    "",
    "--realm",
    "corp",
    "--client-id",
    "mailserver-admin",
  ];
  const args = (...more: string[]) => {
    const list = [...importArgs, "--client-secret-env", "KC_ADMIN_SECRET", ...more];
    list[4] = keycloak.url;
    return list;
  };

  it("writes the realm's setting as a declaration that validates, and applying it changes nothing", async () => {
    const admin = await keycloak.consoleAdmin();
    await admin.realms.update(
      { realm: "corp" },
      {
        smtpServer: {
          host: "127.0.0.1",
          port: String(smtp.starttlsPort),
          ssl: "false",
          starttls: "true",
          auth: "true",
          user: smtp.account.username,
          password: smtp.account.password,
          from: "clicked@sandbox.test",
          fromDisplayName: "Clicked Together",
          envelopeFrom: "bounces@sandbox.test",
        },
      },
    );
    const before = await realmSettings();
    const result = await runCli(args(), { env: env() });
    expect(result.stderr).toBe(
      `mailserver import: Keycloak realm corp at ${keycloak.url} never returns stored secrets; set CORP_MAIL_SMTP_PASSWORD (auth.password: the SMTP password) and KC_ADMIN_SECRET (service.clientSecret: the admin client's secret) before applying\n`,
    );
    expect(result.code).toBe(0);
    const loaded = loadDeclarationText(result.stdout, "imported.yaml");
    expect(loaded.problems).toEqual([]);
    expect(loaded.declaration).toEqual({
      version: 1,
      name: "corp-mail",
      smtp: { host: "127.0.0.1", protocol: "starttls", port: smtp.starttlsPort },
      auth: {
        method: "basic",
        username: smtp.account.username,
        password: { env: "CORP_MAIL_SMTP_PASSWORD" },
      },
      from: { name: "Clicked Together", address: "clicked@sandbox.test" },
      service: {
        type: "keycloak",
        url: keycloak.url,
        realm: "corp",
        clientId: "mailserver-admin",
        clientSecret: { env: "KC_ADMIN_SECRET" },
      },
    });
    expect(result.stdout).not.toContain(smtp.account.password);
    // The sandbox CA is private, so this process must be told to trust it (Keycloak has it in its
    // truststore); a CA is not part of the realm's settings, so import cannot know it.
    const imported = loaded.declaration as unknown as Record<string, unknown>;
    const adopted = { ...imported, smtp: { ...(imported.smtp as object), tls: { ca: { file: "ca.pem" } } } };
    await applyMailServer({ ...adopted, baseDir: folder }, undefined, {
      steps: realSteps(),
      env: { CORP_MAIL_SMTP_PASSWORD: smtp.account.password, KC_ADMIN_SECRET: keycloak.realm.clientSecret },
      log: () => {},
    });
    expect(await realmSettings()).toEqual(before);
  });

  it("--out FILE, and a setting no declaration can express", async () => {
    const out = join(folder, "imported.yaml");
    expect((await runCli(args("--out", out), { env: env(), cwd: folder })).code).toBe(0);
    await consoleEdit({ ssl: "false", starttls: "false" });
    const plain = await runCli(args(), { env: env() });
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain(
      "the realm's email settings send over plain SMTP (neither SSL nor StartTLS is on), which a declaration cannot express (service-setting-unsupported)",
    );
  });

  it("usage errors: a missing option, an insecure URL, an unset variable", async () => {
    const missing = await runCli(["import", "--service", "keycloak", "--realm", "corp"], { env: env() });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--url is required");
    const insecure = await runCli(
      args().map((arg) => (arg === keycloak.url ? "http://sso.example.com" : arg)),
      { env: env() },
    );
    expect(insecure.code).toBe(2);
    expect(insecure.stderr).toContain("service.url must use https");
    const unset = await runCli(args(), { env: {} });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain(
      "--client-secret-env KC_ADMIN_SECRET: the environment variable is not set",
    );
  });
});
