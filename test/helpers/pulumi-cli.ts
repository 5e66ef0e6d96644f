/**
 * For test files that run the real Pulumi CLI: the CLI found once (sandbox/pulumi-cli.ts: the
 * tools folder, then the PATH), the reason printed when a file skips, and CI's rule that nothing
 * may skip (`.ci/run` sets PULUMI_MAILSERVER_REQUIRE_CLI=1 after building the CLI).
 *
 * @example
 * import { pulumiCli, skipWithoutPulumi } from "../helpers/pulumi-cli.js";
 * describe.skipIf(skipWithoutPulumi("keycloak scenario"))("…", () => { … });
 */
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { findPulumiCli, type PulumiCli } from "../../sandbox/pulumi-cli.js";

export {
  createPulumiProject,
  type PulumiProject,
  type PulumiRun,
  type StackResource,
} from "../../sandbox/pulumi-cli.js";

const found = findPulumiCli();

/** The CLI, or undefined when there is none (then skipWithoutPulumi is true). */
export const pulumiCli: PulumiCli | undefined = "missing" in found ? undefined : found;

/**
 * True when the CLI is missing, after printing why (`what` names the skipped tests). With
 * PULUMI_MAILSERVER_REQUIRE_CLI=1 (CI) a missing CLI throws instead: CI must run these tests.
 */
export function skipWithoutPulumi(what: string): boolean {
  if (!("missing" in found)) return false;
  if (process.env.PULUMI_MAILSERVER_REQUIRE_CLI === "1") {
    throw new Error(`${what} must run here (PULUMI_MAILSERVER_REQUIRE_CLI=1), but ${found.missing}`);
  }
  console.log(`skipping ${what}: ${found.missing}`);
  return true;
}

/** Every file under `dir` (recursively, not following links) as text: what anyone with the folder could read. */
export function filesUnder(dir: string): { path: string; text: string }[] {
  const files: { path: string; text: string }[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    if (stat.isDirectory()) files.push(...filesUnder(path));
    else if (stat.isFile()) files.push({ path, text: readFileSync(path, "latin1") });
  }
  return files;
}

/** The resources of a type in a stack export. */
export function resourcesOfType<T extends { type: string }>(resources: T[] | undefined, type: string): T[] {
  return (resources ?? []).filter((resource) => resource.type === type);
}

/**
 * The program of the real-CLI tests, as a user writes it: one MailServer per declaration in
 * `mailservers/` (like the repository's own program), exporting the public outputs as `mail` and
 * the secret ones as `secrets` (Pulumi keeps those encrypted unless `--show-secrets`).
 */
export const MAILSERVER_PROGRAM = `import { loadDeclarations, MailServer } from "pulumi-mailserver";

export const mail = {};
export const secrets = {};
for (const { declaration, baseDir } of await loadDeclarations("mailservers")) {
  const server = MailServer.fromDeclaration(declaration, baseDir);
  mail[declaration.name] = {
    host: server.host,
    port: server.port,
    username: server.username,
    fromName: server.fromName,
    fromAddress: server.fromAddress,
    issuer: server.issuer,
    grantedAt: server.grantedAt,
    verification: server.verification,
  };
  secrets[declaration.name] = {
    password: server.password,
    clientSecret: server.clientSecret,
    refreshToken: server.refreshToken,
    accessToken: server.accessToken,
  };
}
`;

/** Pulumi's marker of a secret in `pulumi stack export --show-secrets` (the value is in `plaintext`). */
const SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d";

/** A resource's outputs from `pulumi stack export --show-secrets`, with each secret replaced by its value. */
export function plainOutputs(
  resource: { outputs?: Record<string, unknown> } | undefined,
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(resource?.outputs ?? {}).map(([key, value]) => [key, revealed(value)]),
  );
}

function revealed(value: unknown): unknown {
  if (value && typeof value === "object" && SECRET_SIGNATURE in value && "plaintext" in value) {
    return JSON.parse(String((value as { plaintext: unknown }).plaintext));
  }
  return value;
}
