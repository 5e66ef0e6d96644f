/**
 * scripts/install-pulumi.sh's promises that need no build: it does nothing when the pinned version
 * is built, and a build that cannot start says why (no Go; a module it cannot resolve, here with
 * the module proxy switched off, so nothing leaves the machine). The build itself runs in .ci/run,
 * and every test in test/pulumi/ uses what it built.
 */
import { execFile } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { PULUMI_VERSION } from "../../sandbox/pulumi-cli.js";

const run = promisify(execFile);
const script = join(process.cwd(), "scripts/install-pulumi.sh");
const cache = mkdtempSync(join(tmpdir(), "install-pulumi-"));

afterAll(() => rmSync(cache, { recursive: true, force: true }));

async function install(env: Record<string, string>) {
  return run("bash", [script], { env: { ...process.env, XDG_CACHE_HOME: cache, ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

describe("scripts/install-pulumi.sh", () => {
  it("fails at once, saying which module it could not resolve", async () => {
    const result = await install({ GOPROXY: "off", GOMODCACHE: join(cache, "empty-module-cache") });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`1/2 the CLI: github.com/pulumi/pulumi/pkg/v3@v${PULUMI_VERSION}`);
    expect(result.stderr).toContain(
      `install-pulumi: error: could not resolve github.com/pulumi/pulumi/pkg/v3@v${PULUMI_VERSION}: `,
    );
    expect(result.stderr).toContain("module lookup disabled by GOPROXY=off");
  });

  it("says that Go is missing instead of failing somewhere inside", async () => {
    const result = await install({ PATH: "/usr/bin:/bin", PULUMI_VERSION: "3.0.0-no-go" });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("install-pulumi: error: Go is not installed");
  });

  it("does nothing when the pinned version is built (and installs the launchers)", async () => {
    const bin = join(cache, "pulumi-mailserver/pulumi", PULUMI_VERSION, "bin");
    const source = join(cache, "pulumi-mailserver/pulumi", PULUMI_VERSION, "src/language-host");
    mkdirSync(bin, { recursive: true });
    mkdirSync(source, { recursive: true });
    for (const name of ["pulumi", "pulumi-language-nodejs"]) {
      writeFileSync(join(bin, name), "#!/bin/sh\nexit 3\n");
      chmodSync(join(bin, name), 0o755);
    }
    copyFileSync("scripts/pulumi/language-host/main.go", join(source, "main.go"));
    writeFileSync(join(bin, "../build.json"), "{}\n");
    // Without Go on the PATH: a built version must not need it.
    const result = await install({ PATH: "/usr/bin:/bin" });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`install-pulumi: pulumi v${PULUMI_VERSION} is built: ${bin}`);
    expect(result.stdout).toContain(`installed ${bin}/pulumi-resource-pulumi-nodejs`);
    expect(result.stdout).not.toContain("building");
    const again = await install({ PATH: "/usr/bin:/bin" });
    expect(again.stdout.trim()).toBe(`install-pulumi: pulumi v${PULUMI_VERSION} is built: ${bin}`);
  });
});
