// Every `mailserver` command that README.md and docs/ show in a fenced `sh` block is run as a person
// runs it (a shell, the installed bin), against the files in examples/ or, for `.sandbox/` files,
// the folder `npm run sandbox` writes, with one sandbox OP and SMTP server for the whole file. Each
// must exit as the page says (0, or `# exit N` at the end of the line). Every `json` block that
// shows a command's output (```json COMMAND) has exactly the keys of that command's real output.
// Blocks that cannot run here are fenced `sh norun` (see docs/development.md, "Writing the manual").
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { declarationYaml, sandboxDeclaration, writeSandboxFolder } from "../../sandbox/declarations.js";
import { accessTokenVerifier, type SandboxOP, startSandboxOP } from "../../sandbox/op.js";
import { type SandboxSmtp, startSandboxSmtp } from "../../sandbox/smtp.js";
import { type Fence, fences, ROOT, readManual } from "../helpers/manual.js";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one line in a shell, with the package's `mailserver` first on the PATH. */
function shell(line: string, cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      "sh",
      ["-c", line],
      {
        cwd,
        env: {
          ...process.env,
          PATH: `${join(ROOT, "node_modules", ".bin")}:${process.env.PATH}`,
          CI: "true",
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

interface DocCommand {
  fence: Fence;
  line: string;
  expected: number;
  /** Runs in the folder that holds `.sandbox/` (else in the repository root). */
  sandbox: boolean;
}

const manual = readManual();
const shBlocks = manual.flatMap(fences).filter((fence) => fence.info[0] === "sh");
const runBlocks = shBlocks.filter((fence) => !fence.info.includes("norun"));

/** The commands of a block: continuation lines joined, blank and comment lines dropped. */
function commandLines(fence: Fence): string[] {
  return fence.content
    .replace(/\\\n\s*/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

const commands: DocCommand[] = runBlocks.flatMap((fence) =>
  commandLines(fence).map((line) => ({
    fence,
    line,
    expected: Number(/#\s*exit (\d+)\s*$/.exec(line)?.[1] ?? 0),
    sandbox: /(^|\s)\.sandbox\//.test(line),
  })),
);

let op: SandboxOP;
let smtp: SandboxSmtp;
let sandboxRoot: string;

beforeAll(async () => {
  op = await startSandboxOP({ deviceFlowInterval: 1, autoApproveDevice: { afterMs: 200 } });
  smtp = await startSandboxSmtp({ verifyAccessToken: accessTokenVerifier(op) });
  sandboxRoot = await mkdtemp(join(tmpdir(), "mailserver-doc-commands-"));
  writeSandboxFolder(join(sandboxRoot, ".sandbox"), op, smtp, join(ROOT, "schema/mailserver.schema.json"));
});

afterAll(async () => {
  await Promise.all([op?.stop(), smtp?.stop()]);
  if (sandboxRoot) await rm(sandboxRoot, { recursive: true, force: true });
});

describe("the sh blocks of the manual", () => {
  it("run only mailserver commands, or are fenced sh norun", () => {
    const mixed = shBlocks
      .filter((fence) => !fence.info.includes("norun"))
      .filter((fence) => commandLines(fence).some((line) => !line.startsWith("mailserver ")))
      .filter((fence) => commandLines(fence).some((line) => /\bmailserver /.test(line)))
      .map((fence) => `${fence.page}:${fence.line}`);
    expect(mixed).toEqual([]);
  });

  it("show commands for every page that has a command", () => {
    const pages = new Set(commands.map((command) => command.fence.page));
    for (const page of ["docs/validate.md", "docs/review.md", "docs/drift.md", "docs/sandbox.md"])
      expect(pages).toContain(page);
  });

  // In document order: the sandbox page authorizes before it sends with the grant.
  it.each(
    commands
      .filter((command) => command.line.startsWith("mailserver "))
      .map((command) => [`${command.fence.page}:${command.fence.line} ${command.line}`, command] as const),
  )("%s", async (_, command) => {
    const run = await shell(command.line, command.sandbox ? sandboxRoot : ROOT);
    expect(run.stderr, "no stack trace").not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(command.expected);
  });
});

describe("the JSON examples of the manual", () => {
  const blocks = manual.flatMap(fences).filter((fence) => fence.info[0] === "json");

  /** How to get each command's real JSON output, with the parts the example shows (a problem, a flag, an error). */
  const REAL: Record<string, () => Promise<Run>> = {
    validate: async () => {
      const file = join(sandboxRoot, "no-username.yaml");
      await writeFile(
        file,
        "version: 1\nname: no-username\npreset: office365\nauth: { method: oauth, clientId: c }\nfrom: { address: a@example.com }\n",
      );
      return shell(`mailserver validate ${file} --format json`, ROOT);
    },
    discover: () => shell(`mailserver discover ${op.issuer} --format json`, ROOT),
    verify: async () => {
      const declaration = sandboxDeclaration(op, smtp, {
        name: "wrong-password",
        protocol: "starttls",
        auth: { method: "basic", passwordFile: ".secrets/wrong-password" },
      });
      await writeFile(join(sandboxRoot, ".sandbox/.secrets/wrong-password"), "not-the-password\n");
      await writeFile(
        join(sandboxRoot, ".sandbox/wrong-password.yaml"),
        declarationYaml(declaration, "schema"),
      );
      return shell("mailserver verify .sandbox/wrong-password.yaml --format json", sandboxRoot);
    },
    "test-email": () =>
      shell("mailserver test-email .sandbox/basic-starttls.yaml --format json", sandboxRoot),
    diff: () =>
      shell("mailserver diff examples/gmail-basic.yaml examples/gmail-oauth.yaml --format json", ROOT),
    drift: () =>
      shell("mailserver drift .sandbox/basic-starttls.yaml --format json --cert-warn-days 3650", sandboxRoot),
  };

  it("name the command whose output they show", () => {
    const unnamed = blocks
      .filter((fence) => !fence.info.includes("norun") && !(fence.info[1] && fence.info[1] in REAL))
      .map((fence) => `${fence.page}:${fence.line} ${fence.info.join(" ")}`);
    expect(unnamed).toEqual([]);
  });

  it.each(
    blocks
      .filter((fence) => fence.info[1] && fence.info[1] in REAL)
      .map((fence) => [`${fence.page}:${fence.line} (${fence.info[1]})`, fence] as const),
  )("%s has the keys of the real output", async (_, fence) => {
    const shown = JSON.parse(fence.content);
    const run = await (REAL[fence.info[1] as string] as () => Promise<Run>)();
    const real = JSON.parse(run.stdout);
    expect(keyDifferences(shape(shown), shape(real), "")).toEqual([]);
  });
});

type Shape = "leaf" | { [key: string]: Shape };

/** The keys of a JSON value, nested; an array's elements are merged into one shape. */
function shape(value: unknown): Shape {
  if (Array.isArray(value)) return value.map(shape).reduce<Shape>(merge, "leaf");
  if (value !== null && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, shape(child)]));
  return "leaf";
}

function merge(a: Shape, b: Shape): Shape {
  if (a === "leaf") return b;
  if (b === "leaf") return a;
  const merged: Record<string, Shape> = { ...a };
  for (const [key, child] of Object.entries(b))
    merged[key] = key in merged ? merge(merged[key] as Shape, child) : child;
  return merged;
}

/** Where the example's keys and the real output's differ (where both sides are objects). */
function keyDifferences(shown: Shape, real: Shape, at: string): string[] {
  if (shown === "leaf" || real === "leaf") return [];
  const differences: string[] = [];
  for (const key of Object.keys(shown))
    if (!(key in real)) differences.push(`${at}${key}: not in the real output`);
  for (const key of Object.keys(real))
    if (!(key in shown)) differences.push(`${at}${key}: not in the example`);
  for (const key of Object.keys(shown))
    if (key in real)
      differences.push(...keyDifferences(shown[key] as Shape, real[key] as Shape, `${at}${key}.`));
  return differences;
}
