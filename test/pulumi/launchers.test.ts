/**
 * The launchers scripts/install-pulumi.sh puts beside `pulumi` (scripts/pulumi/): the engine starts
 * them in the program's (or policy pack's) folder. They run @pulumi/pulumi's host from the nearest
 * node_modules, or say what to install. pulumi-resource-pulumi-nodejs also runs in every real-CLI
 * scenario (test/pulumi/*.test.ts).
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = process.cwd();
const folder = mkdtempSync(join(tmpdir(), "launchers-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function launch(name: string, cwd: string, args: string[] = []) {
  return run(join(root, "scripts/pulumi", name), args, { cwd }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

describe.each([
  [
    "pulumi-resource-pulumi-nodejs",
    "run `npm install @pulumi/pulumi` in the Pulumi project",
    "fatal: Missing <engine> address",
  ],
  ["pulumi-analyzer-policy", "run `npm install` there", "usage: RUN <engine-address> <program>"],
])("%s", (name, remedy, usage) => {
  it("says what to install when no folder up to / has @pulumi/pulumi", async () => {
    const empty = join(folder, `${name}-empty`);
    mkdirSync(empty);
    const result = await launch(name, empty);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${name}: @pulumi/pulumi is not installed`);
    expect(result.stderr).toContain(remedy);
  });

  it("runs the @pulumi/pulumi host of the nearest node_modules, from a subfolder too", async () => {
    const project = join(folder, `${name}-project`);
    mkdirSync(join(project, "node_modules/@pulumi"), { recursive: true });
    mkdirSync(join(project, "src/deeper"), { recursive: true });
    symlinkSync(join(root, "node_modules/@pulumi/pulumi"), join(project, "node_modules/@pulumi/pulumi"));
    // Without the engine's arguments each host stops with its own usage error: proof it was the one started.
    const result = await launch(name, join(project, "src/deeper"));
    expect(result.code).toBe(255);
    expect(result.stderr.trim()).toBe(usage);
  });
});
