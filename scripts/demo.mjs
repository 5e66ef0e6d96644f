#!/usr/bin/env node
// `npm run demo`: the whole life of a MailServer against an embedded default - the sandbox OpenID
// Provider and SMTP server on loopback: validate, discover, authorize with the device flow (the
// sandbox approves the code after a few seconds unless --interactive), verify, then `pulumi up`,
// the test email sent by the post-deploy hook (and the message as it arrived), refresh, destroy.
// With the Pulumi CLI (built by `npm run setup:pulumi` into the tools folder, or on the PATH) it
// runs the real `pulumi up` / `refresh` / `destroy` on a local backend; without it, it drives
// Pulumi's dynamic provider host over gRPC as the engine does, and says which it uses.
//   --pulumi        build the CLI first when it is missing (scripts/install-pulumi.sh)
//   --no-pulumi     use the provider host even when the CLI is there
//   --interactive   approve the device code yourself
// Runs on a fresh machine after `npm install` (which builds dist/).
// `--keycloak`: the same life with a real Keycloak storing the setting (scripts/demo-keycloak.mjs).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const interactive = process.argv.includes("--interactive");
const bold = (text) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const step = (title) => console.log(`\n${bold(`== ${title}`)}`);

if (
  !existsSync(join(root, "dist/provider/index.js")) ||
  !existsSync(join(root, "dist/sandbox/pulumi-cli.js"))
) {
  step("building (npm run build)");
  if (spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" }).status !== 0) process.exit(1);
}

if (process.argv.includes("--keycloak")) {
  // The same life with a real Keycloak as the identity service that stores the setting.
  await import("./demo-keycloak.mjs");
  process.exit(process.exitCode ?? 0);
}

const { findPulumiCli, createPulumiProject } = await import("../dist/sandbox/pulumi-cli.js");
const cli = chooseEngine();

const { startSandboxOP, accessTokenVerifier } = await import("../dist/sandbox/op.js");
const { startSandboxSmtp } = await import("../dist/sandbox/smtp.js");
const { declarationYaml, sandboxDeclaration } = await import("../dist/sandbox/declarations.js");
const { publicOutputs } = await import("../dist/provider/lifecycle/state.js");
const { captureRegistrations } = await import("../dist/sandbox/capture-registrations.js");
const { startEngineServer } = await import("../dist/sandbox/engine-server.js");
const { startProviderHost, urnOf } = await import("../dist/sandbox/provider-host.js");

const cleanups = [];
const folder = mkdtempSync(join(tmpdir(), "mailserver-demo-"));
cleanups.push(() => rmSync(folder, { recursive: true, force: true }));
try {
  step("starting the sandbox OpenID Provider and SMTP server on 127.0.0.1");
  const op = await startSandboxOP({
    deviceFlowInterval: 2,
    ...(!interactive && { autoApproveDevice: { afterMs: 4000 } }),
  });
  cleanups.unshift(() => op.stop());
  const smtp = await startSandboxSmtp({
    verifyAccessToken: accessTokenVerifier(op),
  });
  cleanups.unshift(() => smtp.stop());
  console.log(
    `issuer ${op.issuer}\nSMTP   ${smtp.host}:${smtp.tlsPort} (implicit TLS, certificate from a throwaway CA)`,
  );
  if (interactive) console.log(`sign in as ${op.account.login} (any password) when asked`);

  mkdirSync(join(folder, ".secrets"), { mode: 0o700 });
  writeFileSync(join(folder, "ca.pem"), smtp.caPem);
  const declarationFile = join(folder, "demo-mail.yaml");
  const declaration = sandboxDeclaration(op, smtp, {
    name: "demo-mail",
    auth: { method: "oauth", flow: "device", refreshTokenFile: ".secrets/demo-mail.json" },
    fromName: "Demo Notifications",
    replyTo: "support@sandbox.test",
    testEmail: { to: ["ops@sandbox.test"], onDeploy: true },
  });
  const yaml = declarationYaml(declaration, join(root, "schema/mailserver.schema.json"));
  writeFileSync(declarationFile, yaml);
  step(`the declaration, ${basename(declarationFile)} (in ${folder})`);
  console.log(yaml.trimEnd());

  step(`mailserver validate ${basename(declarationFile)}`);
  await runCli(["validate", declarationFile]);
  step(`mailserver discover ${op.issuer}`);
  await runCli(["discover", op.issuer]);
  step("mailserver authorize --flow device --out .secrets/demo-mail.json");
  if (!interactive)
    console.log(
      "(the sandbox approves the code on its real pages after 4 seconds; --interactive to do it yourself)",
    );
  await runCli([
    "authorize",
    declarationFile,
    "--flow",
    "device",
    "--out",
    join(folder, ".secrets/demo-mail.json"),
  ]);
  step("mailserver verify");
  await runCli(["verify", declarationFile]);

  if (cli) {
    await pulumiLifecycle(cli, declarationFile, smtp);
  } else {
    await hostLifecycle(declarationFile, smtp);
  }
  step("done");
} catch (error) {
  console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  for (const cleanup of cleanups) await cleanup();
}

/** Runs the CLI as a user would, showing its output; fails the demo on a non-zero exit. */
function runCli(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, "bin/mailserver.js"), ...args], {
      cwd: root,
      stdio: "inherit",
    });
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`mailserver ${args[0]} exited with ${code}`)),
    );
  });
}

/** The Pulumi engine's part, played by a small stand-in around @pulumi/pulumi's provider host. */
async function hostLifecycle(declarationFile, smtp) {
  step("without the pulumi CLI: driving Pulumi's dynamic provider host over gRPC, as the engine does");
  const { MailServer } = await import("../dist/provider/index.js");
  // The hook is called directly below: pulumi.runtime.setMocks (3.248) cannot register resource hooks.
  const [registration] = await captureRegistrations(async () => [
    await MailServer.fromFile(declarationFile, { testEmailHooks: false }),
  ]);
  console.log(
    `type ${registration.type}, serialized provider ${Buffer.byteLength(registration.inputs.__provider)} bytes`,
  );
  const engine = await startEngineServer();
  const host = await startProviderHost({
    engineAddress: engine.address,
    cwd: root,
    env: { MAILSERVER_INTERACTIVE: "0" },
    onOutput: (text) => process.stdout.write(text.replace(/^(?=.)/gm, "  [provider] ")),
  });
  try {
    await host.configure();
    const urn = urnOf("demo-mail", "dev", "mailserver-demo");
    step("check");
    const checked = await host.check(urn, {}, registration.inputs);
    console.log(checked.failures.length === 0 ? "no failures" : JSON.stringify(checked.failures, null, 2));
    step("create (discovery, the stored grant, ID-token facts, SMTP AUTH)");
    const created = await host.create(urn, checked.inputs);
    let state = created.properties;
    console.log(JSON.stringify(publicView(state), null, 2));

    step("post-deploy hook: the test email");
    const { sendDeployTestEmail } = await import("../dist/provider/lifecycle/deploy-hook.js");
    await sendDeployTestEmail(state, { cwd: root });
    showMessage(await smtp.waitForMessage());

    step("refresh (pulumi refresh: read observes the live facts)");
    const refreshed = await host.read(urn, created.id, state);
    state = refreshed.properties;
    console.log(
      `verification ok: ${state.verification?.ok}, drift: ${state.drift ? JSON.stringify(state.drift) : "none"}`,
    );
    const diff = await host.diff(urn, created.id, state, checked.inputs);
    console.log(`preview after refresh: ${diff.changes === "some" ? "changes" : "no changes"}`);

    step("delete (pulumi destroy: revoke the grant, back to the built-in mail server)");
    await host.delete(urn, created.id, state);
    await new Promise((resolve) => setTimeout(resolve, 100));
  } finally {
    await host.close();
    await engine.close();
  }
}

/** With the Pulumi CLI: a project in the temporary folder on a local backend, driven by pulumi up/refresh/destroy. */
async function pulumiLifecycle(cli, declarationFile, smtp) {
  const folder = dirname(declarationFile);
  step(
    `pulumi CLI ${cli.version} found (${cli.source}: ${cli.dir}): pulumi up / refresh / destroy on a local backend`,
  );
  const program = `import { loadDeclarations, MailServer } from "pulumi-mailserver";

// One MailServer per declaration in mailservers/ (file references are relative to each file).
export const mail = {};
for (const { declaration, baseDir } of await loadDeclarations("mailservers")) {
  const server = MailServer.fromDeclaration(declaration, baseDir);
  mail[declaration.name] = { host: server.host, username: server.username, verification: server.verification };
}
`;
  const project = await createPulumiProject({
    cli,
    name: "mailserver-demo",
    program,
    dir: join(folder, "pulumi"),
    env: { MAILSERVER_INTERACTIVE: "0" },
  });
  for (const name of [basename(declarationFile), "ca.pem", ".secrets/demo-mail.json"]) {
    await project.writeFile(join("mailservers", name), readFileSync(join(folder, name), "utf8"));
  }
  console.log(
    `index.mjs (Pulumi.yaml: runtime nodejs, main index.mjs; mailservers/${basename(declarationFile)}):`,
  );
  console.log(program.trimEnd().replace(/^/gm, "  "));
  const pulumi = async (args) => {
    step(`pulumi ${args.join(" ")}`);
    const result = await project.run(args, { onOutput: (text) => process.stdout.write(text) });
    if (result.code !== 0) throw new Error(`pulumi ${args[0]} exited with ${result.code}`);
  };
  try {
    await pulumi(["up", "--yes"]);
    step("the test email, sent by the post-deploy hook, as it arrived at the sandbox SMTP server");
    showMessage(await smtp.waitForMessage({ timeoutMs: 30_000 }));
    await pulumi(["stack", "output", "--json"]);
    await pulumi(["refresh", "--yes"]);
    await pulumi(["preview", "--refresh", "--expect-no-changes"]);
    await pulumi(["destroy", "--yes"]);
  } finally {
    project.remove();
  }
}

/** A message as it arrived at the sandbox SMTP server: its headers and text. */
function showMessage({ parsed }) {
  console.log(
    [
      `From:     ${parsed.from?.text}`,
      `To:       ${parsed.to && !Array.isArray(parsed.to) ? parsed.to.text : ""}`,
      `Reply-To: ${parsed.replyTo?.text ?? "(none)"}`,
      `Subject:  ${parsed.subject}`,
      "",
      (parsed.text ?? "").trim(),
    ].join("\n"),
  );
}

/**
 * The real Pulumi CLI when there is one (building it first with --pulumi), unless --no-pulumi;
 * undefined for the provider host. Says which, and why.
 */
function chooseEngine() {
  if (process.argv.includes("--no-pulumi")) return undefined;
  let found = findPulumiCli();
  if ("missing" in found && process.argv.includes("--pulumi")) {
    step("building the Pulumi CLI (npm run setup:pulumi)");
    const built = spawnSync("bash", [join(root, "scripts/install-pulumi.sh")], { stdio: "inherit" });
    if (built.status !== 0) {
      console.error("demo: the Pulumi CLI could not be built (see above)");
      process.exit(1);
    }
    found = findPulumiCli();
  }
  if ("missing" in found) {
    console.log(
      `(${found.missing}: using the provider host; \`npm run demo -- --pulumi\` builds the CLI first)`,
    );
    return undefined;
  }
  return found;
}

/** The outputs people look at in `pulumi stack output`; secrets stay secret. */
function publicView(state) {
  return { ...publicOutputs(state), refreshToken: "[secret]", transport: "[secret]" };
}
