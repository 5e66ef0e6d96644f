/**
 * The real Pulumi CLI for the tests, `npm run demo` and the benches: where to find it (the tools
 * folder that scripts/install-pulumi.sh builds into, else the PATH) and a throwaway project to run
 * it in, with a local file backend and the passphrase secrets provider, offline: no update check,
 * no plugin downloads. One implementation, compiled to dist/sandbox.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file runs as sandbox/pulumi-cli.ts under vitest and as dist/sandbox/pulumi-cli.js). */
export const REPOSITORY_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

/** The CLI version scripts/install-pulumi.sh builds (scripts/pulumi/version). */
export const PULUMI_VERSION = readFileSync(join(REPOSITORY_ROOT, "scripts/pulumi/version"), "utf8").trim();

/** The plugins a Node.js program with dynamic providers needs beside `pulumi`. */
const COMPANIONS = ["pulumi-language-nodejs", "pulumi-resource-pulumi-nodejs"];

export interface PulumiCli {
  /** Absolute path of the `pulumi` executable. */
  bin: string;
  /** Its folder, put first on the PATH of every run so that its plugins are the ones used. */
  dir: string;
  /** What `pulumi version` printed, e.g. `v3.274.1`. */
  version: string;
  /** Where it was found. */
  source: "tools folder" | "PATH";
}

/** The tools folder: `${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-mailserver/pulumi/<version>/bin`. */
export function pulumiToolsDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache");
  return join(cache, "pulumi-mailserver", "pulumi", PULUMI_VERSION, "bin");
}

/**
 * Finds the Pulumi CLI with its Node.js plugins: first in the tools folder, then on the PATH.
 * Returns the reason when there is none, for a test to print when it skips.
 * @example
 * const cli = findPulumiCli();
 * if ("missing" in cli) console.log(`skipped: ${cli.missing}`);
 */
export function findPulumiCli(env: NodeJS.ProcessEnv = process.env): PulumiCli | { missing: string } {
  const tools = pulumiToolsDir(env);
  const candidates: { dir: string; source: PulumiCli["source"] }[] = [{ dir: tools, source: "tools folder" }];
  for (const dir of (env.PATH ?? "").split(delimiter)) if (dir) candidates.push({ dir, source: "PATH" });
  for (const { dir, source } of candidates) {
    const bin = join(dir, "pulumi");
    if (!isExecutable(bin)) continue;
    const lacking = COMPANIONS.filter(
      (name) => !isExecutable(join(dir, name)) && !onPath(name, env.PATH ?? ""),
    );
    if (lacking.length > 0) {
      return { missing: `${bin} was found, but not ${lacking.join(" and ")} beside it or on the PATH` };
    }
    const version = spawnSync(bin, ["version"], {
      encoding: "utf8",
      env: { ...env, PULUMI_SKIP_UPDATE_CHECK: "true" },
    });
    if (version.status !== 0) return { missing: `${bin} version failed: ${version.stderr.trim()}` };
    return { bin, dir, version: version.stdout.trim(), source };
  }
  return {
    missing: `the Pulumi CLI is neither in ${tools} (\`npm run setup:pulumi\` builds it there) nor on the PATH`,
  };
}

export interface PulumiProjectOptions {
  cli: PulumiCli;
  /** Project name (Pulumi.yaml `name`). */
  name: string;
  /** The program, an ES module (index.mjs); it can import `pulumi-mailserver` and `@pulumi/pulumi`. */
  program: string;
  /** Stack name (default `dev`); created by createPulumiProject. */
  stack?: string;
  /** A folder to create the project in (default a new temporary folder); it must not exist yet. */
  dir?: string;
  /** Extra environment for every run (e.g. MAILSERVER_INTERACTIVE). */
  env?: NodeJS.ProcessEnv;
}

export interface PulumiRun {
  args: string[];
  /** Exit code (null when killed by the timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface PulumiRunOptions {
  env?: NodeJS.ProcessEnv;
  /** Called with each chunk of stdout and stderr as it arrives. */
  onOutput?: (text: string) => void;
  /** Kill the CLI after this long (default 240 s). */
  timeoutMs?: number;
  /** Called with the child once spawned (e.g. to sample its memory). */
  onSpawn?: (child: ChildProcess) => void;
}

export interface PulumiProject {
  dir: string;
  /** The file backend's folder (`PULUMI_BACKEND_URL=file://…`). */
  stateDir: string;
  stack: string;
  /** The environment every run gets. */
  env: NodeJS.ProcessEnv;
  /** Runs `pulumi ARGS` in the project; resolves whatever the exit code. */
  run(args: string[], options?: PulumiRunOptions): Promise<PulumiRun>;
  /** Runs `pulumi ARGS` and rejects with its output when it exits non-zero. */
  pulumi(args: string[], options?: PulumiRunOptions): Promise<PulumiRun>;
  /** `pulumi stack export` (`--show-secrets` to decrypt): the checkpoint. */
  stackExport(showSecrets?: boolean): Promise<StackExport>;
  /** `pulumi stack output --json` (`--show-secrets` to decrypt). */
  outputs(showSecrets?: boolean): Promise<Record<string, unknown>>;
  /** Writes a file relative to the project folder (creating folders). */
  writeFile(path: string, content: string): Promise<void>;
  /** Deletes the project folder and its backend. */
  remove(): void;
}

export interface StackResource {
  urn: string;
  type: string;
  id?: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
}

export interface StackExport {
  version: number;
  deployment: { resources?: StackResource[]; secrets_providers?: unknown };
}

/**
 * A Pulumi project in a temporary folder: Pulumi.yaml (runtime nodejs, main index.mjs), the
 * program, node_modules linking this repository's `pulumi-mailserver` and `@pulumi` (so the program,
 * the language host and the dynamic provider host load the same SDK), a file backend beside it
 * and the stack, created with the passphrase secrets provider.
 * @example
 * const project = await createPulumiProject({ cli, name: "mail", program: "export const x = 1;" });
 * await project.pulumi(["up", "--yes"]);
 */
export async function createPulumiProject(options: PulumiProjectOptions): Promise<PulumiProject> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), `pulumi-${options.name}-`));
  mkdirSync(dir, { recursive: true });
  const stateDir = join(dir, ".state");
  const home = join(dir, ".pulumi-home");
  mkdirSync(stateDir);
  mkdirSync(home);
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(REPOSITORY_ROOT, join(dir, "node_modules/pulumi-mailserver"), "dir");
  symlinkSync(join(REPOSITORY_ROOT, "node_modules/@pulumi"), join(dir, "node_modules/@pulumi"), "dir");
  const stack = options.stack ?? "dev";
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: [options.cli.dir, process.env.PATH].filter(Boolean).join(delimiter),
    PULUMI_HOME: home,
    PULUMI_BACKEND_URL: `file://${stateDir}`,
    PULUMI_CONFIG_PASSPHRASE: "sandbox-only-passphrase",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_SKIP_CONFIRMATIONS: "true",
    // Plain text output: the tests and the captured walk-through read it.
    NO_COLOR: "1",
    ...options.env,
  };
  const project: PulumiProject = {
    dir,
    stateDir,
    stack,
    env,
    run: (args, runOptions = {}) =>
      runPulumi(options.cli.bin, dir, args, { ...env, ...runOptions.env }, runOptions),
    async pulumi(args, runOptions) {
      const result = await project.run(args, runOptions);
      if (result.code !== 0) {
        throw new Error(
          `pulumi ${args.join(" ")} exited with ${result.code}:\n${result.stdout}\n${result.stderr}`,
        );
      }
      return result;
    },
    async stackExport(showSecrets = false) {
      const result = await project.pulumi(["stack", "export", ...(showSecrets ? ["--show-secrets"] : [])]);
      return JSON.parse(result.stdout) as StackExport;
    },
    async outputs(showSecrets = false) {
      const result = await project.pulumi([
        "stack",
        "output",
        "--json",
        ...(showSecrets ? ["--show-secrets"] : []),
      ]);
      return JSON.parse(result.stdout) as Record<string, unknown>;
    },
    async writeFile(path, content) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), content);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  await project.writeFile(
    "Pulumi.yaml",
    `name: ${options.name}\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: index.mjs\n`,
  );
  await project.writeFile("package.json", `${JSON.stringify({ name: options.name, type: "module" })}\n`);
  await project.writeFile("index.mjs", options.program);
  await project.pulumi(["stack", "init", stack, "--secrets-provider", "passphrase", "--non-interactive"]);
  return project;
}

function runPulumi(
  bin: string,
  cwd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  options: PulumiRunOptions,
): Promise<PulumiRun> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    options.onSpawn?.(child);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      stdout += text;
      options.onOutput?.(text);
    });
    child.stderr.setEncoding("utf8").on("data", (text: string) => {
      stderr += text;
      options.onOutput?.(text);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 240_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ args, code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "scripts/pulumi/version"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no scripts/pulumi/version above ${from}`);
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, path: string): boolean {
  return path.split(delimiter).some((dir) => dir && isExecutable(join(dir, name)));
}
