// `npm run demo -- --keycloak`: the same life with a real Keycloak as the identity service that
// stores the setting: a realm's email settings written after verification, Keycloak's own test
// email through the sandbox SMTP server, an edit in the admin console seen by refresh and by
// `mailserver drift`, the stored password tested with `--service-test`, `mailserver import`, and
// delete clearing the realm. Needs Java and Maven (scripts/install-keycloak.sh, run if needed).
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bold = (text) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const step = (title) => console.log(`\n${bold(`== ${title}`)}`);

const { keycloakUnavailable, startSandboxKeycloak } = await import("../dist/sandbox/keycloak.js");
if (keycloakUnavailable()) {
  for (const tool of ["java", "mvn"]) {
    if (spawnSync(tool, ["-version"]).error) {
      console.error(`demo --keycloak needs ${tool} (Java 17, 21 or 25 and Maven fetch and run Keycloak)`);
      process.exit(1);
    }
  }
  step("installing Keycloak (scripts/install-keycloak.sh, once)");
  if (spawnSync(join(root, "scripts/install-keycloak.sh"), { stdio: "inherit" }).status !== 0)
    process.exit(1);
}
const { startSandboxSmtp } = await import("../dist/sandbox/smtp.js");
const { declarationYaml } = await import("../dist/sandbox/declarations.js");
const { captureRegistrations } = await import("../dist/sandbox/capture-registrations.js");
const { startEngineServer } = await import("../dist/sandbox/engine-server.js");
const { startProviderHost, urnOf } = await import("../dist/sandbox/provider-host.js");

const cleanups = [];
const project = mkdtempSync(join(tmpdir(), "mailserver-demo-keycloak-"));
cleanups.push(() => rmSync(project, { recursive: true, force: true }));
try {
  step("starting the sandbox SMTP server and a real Keycloak on 127.0.0.1");
  const smtp = await startSandboxSmtp();
  cleanups.unshift(() => smtp.stop());
  const keycloak = await startSandboxKeycloak({ trustPem: smtp.caPem });
  cleanups.unshift(() => keycloak.stop());
  console.log(`SMTP     ${smtp.host}:${smtp.tlsPort} (implicit TLS, certificate from a throwaway CA)`);
  console.log(
    `Keycloak ${keycloak.url} (ready after ${(keycloak.startMs / 1000).toFixed(1)} s; it trusts that CA)`,
  );
  console.log(
    `realm corp: admin client ${keycloak.realm.clientId} (service account with manage-realm, email ${keycloak.realm.adminEmail})`,
  );
  // The admin client's secret, as CI would pass it: an environment variable the declaration names.
  process.env.KEYCLOAK_ADMIN_SECRET = keycloak.realm.clientSecret;

  mkdirSync(join(project, ".secrets"), { mode: 0o700 });
  writeFileSync(join(project, "ca.pem"), smtp.caPem);
  writeFileSync(join(project, ".secrets/smtp-password"), smtp.account.password, { mode: 0o600 });
  const declarationFile = join(project, "corp-mail.yaml");
  const declaration = {
    version: 1,
    name: "corp-mail",
    smtp: { host: smtp.host, protocol: "tls", port: smtp.tlsPort, tls: { ca: { file: "ca.pem" } } },
    auth: { method: "basic", username: smtp.account.username, password: { file: ".secrets/smtp-password" } },
    from: { name: "Corp Notifications", address: smtp.account.username },
    service: {
      type: "keycloak",
      url: keycloak.url,
      realm: "corp",
      clientId: keycloak.realm.clientId,
      clientSecret: { env: "KEYCLOAK_ADMIN_SECRET" },
    },
    testEmail: { to: ["ops@sandbox.test"], onDeploy: true },
  };
  writeFileSync(declarationFile, declarationYaml(declaration, join(root, "schema/mailserver.schema.json")));
  step(`the declaration, ${basename(declarationFile)} (in ${project})`);
  console.log(declarationYaml(declaration, "../schema/mailserver.schema.json").trimEnd());

  step(`mailserver validate ${basename(declarationFile)}`);
  await runCli(["validate", declarationFile]);
  step("mailserver verify (from here, before anything is saved)");
  await runCli(["verify", declarationFile]);

  const { MailServer } = await import("../dist/provider/index.js");
  const [registration] = await captureRegistrations(async () => [
    await MailServer.fromFile(declarationFile, { testEmailHooks: false }),
  ]);
  const engine = await startEngineServer();
  cleanups.unshift(() => engine.close());
  const host = await startProviderHost({
    engineAddress: engine.address,
    cwd: root,
    env: { MAILSERVER_INTERACTIVE: "0" },
    onOutput: (text) => process.stdout.write(text.replace(/^(?=.)/gm, "  [provider] ")),
  });
  cleanups.unshift(() => host.close());
  await host.configure();
  const urn = urnOf("corp-mail", "dev", "mailserver-demo");
  step("Pulumi's part: @pulumi/pulumi's dynamic provider host, driven over gRPC as the engine does");
  console.log(
    "  (the steps below are the provider calls that pulumi up, refresh and destroy make; the same life\n" +
      "  through the real pulumi CLI runs in test/services/keycloak-scenarios.test.ts)",
  );

  step(
    "create (pulumi up): verify, Keycloak's own test email with the new setting, then Save into the realm",
  );
  const created = await host.create(urn, registration.inputs);
  let state = created.properties;
  const message = await smtp.waitForMessage({ timeoutMs: 30_000 });
  console.log(
    `Keycloak's test email arrived: "${message.parsed.subject}" to ${message.envelope.to.join(", ")}, sent as ${message.user} over port ${message.port}`,
  );
  console.log(`the realm's email settings now: ${JSON.stringify(await realmSettings())}`);

  step("someone edits the host and the From display name in the admin console");
  const admin = await keycloak.consoleAdmin();
  await admin.realms.update(
    { realm: "corp" },
    { smtpServer: { ...(await realmSettings()), host: "localhost", fromDisplayName: "Edited By Hand" } },
  );
  step("mailserver drift (compares the realm's live settings; sends nothing)");
  await runCli(["drift", declarationFile], { allowExit: [1] });
  step("refresh (pulumi refresh): the live settings come back as inputs");
  const refreshed = await host.read(urn, created.id, state);
  console.log(
    `inputs after refresh: smtp.host ${refreshed.inputs.smtp.host}, from.name ${refreshed.inputs.from.name}`,
  );
  step("update (pulumi up): the declared values are written back");
  state = (
    await host.update(urn, created.id, { ...refreshed.properties, ...refreshed.inputs }, registration.inputs)
  ).properties;
  console.log(`the realm's email settings now: ${JSON.stringify(await realmSettings())}`);

  step("mailserver drift --service-test (Keycloak sends with its stored password)");
  smtp.reset();
  await runCli(["drift", declarationFile, "--service-test"]);

  step("mailserver import (the realm's setting as a declaration)");
  await runCli([
    "import",
    "--service",
    "keycloak",
    "--url",
    keycloak.url,
    "--realm",
    "corp",
    "--client-id",
    keycloak.realm.clientId,
    "--client-secret-env",
    "KEYCLOAK_ADMIN_SECRET",
  ]);

  step("delete (pulumi destroy): the realm's email settings are cleared");
  await host.delete(urn, created.id, state);
  console.log(`the realm's email settings now: ${JSON.stringify(await realmSettings())}`);
  step("done");

  async function realmSettings() {
    const consoleAdmin = await keycloak.consoleAdmin();
    return (await consoleAdmin.realms.findOne({ realm: "corp" })).smtpServer;
  }
} catch (error) {
  console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  for (const cleanup of cleanups) await cleanup();
}

/** Runs the CLI as a user would, showing its output; fails the demo on an unexpected exit code. */
function runCli(args, { allowExit = [] } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, "bin/mailserver.js"), ...args], {
      cwd: root,
      stdio: "inherit",
    });
    child.once("exit", (code) =>
      code === 0 || allowExit.includes(code)
        ? resolve()
        : reject(new Error(`mailserver ${args[0]} exited with ${code}`)),
    );
  });
}
