// The example GitHub Actions workflows: valid YAML, every `mailserver` invocation names a real
// command with real flags (read from the commands' own usage text), and the preview checker tells
// changes from errors.
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { USAGE } from "../../cli/main.js";

const exec = promisify(execFile);
const folder = "examples/ci";

interface Invocation {
  workflow: string;
  command: string;
  args: string[];
}

async function workflows(): Promise<Array<{ file: string; value: Record<string, unknown> }>> {
  const files = (await readdir(folder)).filter((name) => /\.ya?ml$/.test(name)).sort();
  return Promise.all(
    files.map(async (file) => {
      const document = parseDocument(await readFile(join(folder, file), "utf8"), { uniqueKeys: true });
      expect(document.errors, file).toEqual([]);
      return { file, value: document.toJS() as Record<string, unknown> };
    }),
  );
}

/** Every `mailserver ...` command line in the workflows' `run:` scripts. */
function invocations(file: string, value: Record<string, unknown>): Invocation[] {
  const found: Invocation[] = [];
  const jobs = value.jobs as Record<string, { steps?: Array<{ run?: string }> }>;
  for (const job of Object.values(jobs)) {
    for (const step of job.steps ?? []) {
      const script = (step.run ?? "").replace(/\\\n/g, " ");
      for (const match of script.matchAll(/\bmailserver\s+([^\n|&;>]*)/g)) {
        const words = (match[1] ?? "").trim().split(/\s+/);
        found.push({ workflow: file, command: words[0] ?? "", args: words.slice(1) });
      }
    }
  }
  return found;
}

/** The commands' own usage texts: a flag is real when its command documents it. */
const USAGES: Record<string, () => Promise<{ usage: string }>> = {
  validate: () => import("../../cli/commands/validate.js"),
  discover: () => import("../../cli/commands/discover.js"),
  authorize: () => import("../../cli/commands/authorize.js"),
  verify: () => import("../../cli/commands/verify.js"),
  "test-email": () => import("../../cli/commands/test-email.js"),
  drift: () => import("../../cli/commands/drift.js"),
  diff: () => import("../../cli/commands/diff.js"),
  import: () => import("../../cli/commands/import.js"),
};

async function flagsOf(command: string): Promise<Set<string>> {
  const load = USAGES[command];
  if (!load) throw new Error(`no usage text for ${command}`);
  return new Set((await load()).usage.match(/--[a-z][a-z-]*/g) ?? []);
}

describe("examples/ci workflows", () => {
  it("are valid YAML with jobs that run on GitHub's runners", async () => {
    const all = await workflows();
    expect(all.map((workflow) => workflow.file)).toEqual(["mailserver-drift.yml", "mailserver-pr.yml"]);
    for (const { file, value } of all) {
      expect(value.on, file).toBeTruthy();
      for (const job of Object.values(
        value.jobs as Record<string, { "runs-on": string; steps: unknown[] }>,
      )) {
        expect(job["runs-on"]).toBe("ubuntu-latest");
        expect(job.steps.length).toBeGreaterThan(0);
      }
    }
  });

  it("call only real mailserver commands with real flags", async () => {
    const commands = new Set([...USAGE.matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((match) => match[1]));
    const all = (await workflows()).flatMap(({ file, value }) => invocations(file, value));
    expect(all.map(({ workflow, command }) => `${workflow}: ${command}`)).toEqual([
      "mailserver-drift.yml: drift",
      "mailserver-pr.yml: validate",
      "mailserver-pr.yml: diff",
    ]);
    expect(Object.keys(USAGES).sort()).toEqual([...commands].sort());
    for (const { workflow, command, args } of all) {
      expect(commands.has(command), `${workflow}: mailserver ${command}`).toBe(true);
      const flags = await flagsOf(command);
      for (const arg of args.filter((word) => word.startsWith("--"))) {
        expect(flags.has(arg.split("=")[0] as string), `${workflow}: mailserver ${command} ${arg}`).toBe(
          true,
        );
      }
    }
  });

  it("run what the issue asks for: validate for GitHub, the review against the base branch, drift on a schedule", async () => {
    const text = Object.fromEntries(
      await Promise.all(
        ["mailserver-pr.yml", "mailserver-drift.yml"].map(async (f) => [
          f,
          await readFile(join(folder, f), "utf8"),
        ]),
      ),
    );
    expect(text["mailserver-pr.yml"]).toContain("npx mailserver validate mailservers/ --format github");
    expect(text["mailserver-pr.yml"]).toContain(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not JavaScript.
      "npx mailserver diff --base origin/${{ github.base_ref }} mailservers/ --format markdown",
    );
    expect(text["mailserver-drift.yml"]).toContain("pulumi preview --refresh --expect-no-changes --json");
    const drift = parseDocument(text["mailserver-drift.yml"] as string).toJS();
    expect(drift.on.schedule[0].cron).toMatch(/^\S+ \S+ \S+ \S+ \S+$/);
  });
});

describe("examples/ci/check-preview.mjs", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mailserver-preview-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function check(preview: unknown, status = "255"): Promise<{ code: number; out: string }> {
    const file = join(dir, "preview.json");
    await writeFile(file, typeof preview === "string" ? preview : JSON.stringify(preview));
    try {
      const { stdout, stderr } = await exec(process.execPath, [
        join(folder, "check-preview.mjs"),
        file,
        status,
      ]);
      return { code: 0, out: stdout + stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, out: failed.stdout + failed.stderr };
    }
  }

  it("exits 0 without changes, 1 on drift, 2 on errors", async () => {
    expect(await check({ steps: [], changeSummary: { same: 3 } }, "0")).toMatchObject({ code: 0 });
    const drift = await check({
      steps: [
        { op: "refresh", urn: "a" },
        { op: "update", urn: "urn:pulumi:prod::mail::MailServer::corp", diffs: ["auth"] },
      ],
      changeSummary: { same: 2, update: 1 },
    });
    expect(drift.code).toBe(1);
    expect(drift.out).toContain("drift: 1 to update\nupdate urn:pulumi:prod::mail::MailServer::corp (auth)");
    const failed = await check({
      diagnostics: [{ severity: "error", message: "grant revoked\n" }],
      changeSummary: {},
    });
    expect(failed).toMatchObject({ code: 2, out: "error: grant revoked\n" });
    expect((await check("Error: no stack named 'prod' found")).code).toBe(2);
    expect((await check({ changeSummary: { same: 1 } }, "255")).code).toBe(2);
  });
});
