// Never lose a grant: real CLI processes on one rotating grant file, and real write faults (a
// read-only bind mount, a full tmpfs, an immutable file, a folder the user cannot write). The
// sandbox OP rotates refresh tokens and revokes the whole grant when a spent one is used again:
// "the grant is alive" means the token now in the file still refreshes at the OP.
import { spawn, spawnSync } from "node:child_process";
import { chmod, chown, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { resolveSecret } from "../../provider/declaration/secrets.js";
import { refreshGrant } from "../../provider/oauth/tokens.js";
import { sandboxAuth, writeSandboxGrant } from "../../sandbox/grant.js";
import { type DriftSandbox, startDriftSandbox } from "../drift/sandbox.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = join(root, "bin", "mailserver.js");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `mailserver ARGS` as its own process (the built CLI), optionally as another user. */
function cli(args: string[], options: { env?: Record<string, string>; as?: string } = {}): Promise<Run> {
  const command = options.as
    ? ["setpriv", `--reuid=${options.as}`, `--regid=${options.as}`, "--clear-groups", process.execPath]
    : [process.execPath];
  return new Promise((resolve, reject) => {
    const child = spawn(command[0] as string, [...command.slice(1), bin, ...args], {
      env: { PATH: process.env.PATH ?? "", ...options.env },
      cwd: "/",
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

let sandbox: DriftSandbox;
beforeAll(async () => {
  sandbox = await startDriftSandbox();
});
afterAll(async () => {
  await sandbox?.stop();
});

/** Whether the grant in `file` is alive: its token refreshes at the OP (the new one is written back). */
async function grantAlive(file: string): Promise<boolean> {
  const token = await resolveSecret({ file }, { baseDir: "/", field: "auth.refreshToken" });
  try {
    const refreshed = await refreshGrant(sandboxAuth(sandbox.op, { flow: "loopback" }), {
      refreshToken: token,
    });
    const grant = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...grant, refreshToken: refreshed.refreshToken }));
    return true;
  } catch {
    return false;
  }
}

/** A folder holding the CA, an OAuth declaration and a fresh grant; returns the paths. */
async function setting(dir: string, refreshToken: Record<string, string> = { file: "grant.json" }) {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "ca.pem"), sandbox.fixture.smtp.caPem);
  // The default SMTP timeouts, not the fault tests' short ones: a process waiting for the grant
  // file's lock holds its SMTP session open meanwhile (it is opened first, so that no token is
  // spent when the server is unreachable), and a loaded machine may take seconds per refresh.
  const declaration = sandbox.oauth("guarded", "grant.json", {
    auth: { refreshToken },
    smtp: { timeouts: { socketMs: 30_000, greetingMs: 10_000, connectionMs: 10_000 } },
  });
  const file = join(dir, "guarded.yaml");
  await writeFile(file, stringify(declaration));
  const token = await writeSandboxGrant(sandbox.op, join(dir, "grant.json"), { flow: "loopback" });
  return { file, grant: join(dir, "grant.json"), token };
}

describe("a refresh token that cannot be replaced is never spent", () => {
  it("{ env } with an issuer that may rotate: verify and test-email refuse before refreshing", async () => {
    const dir = join(sandbox.dir, "env-ref");
    const { file, grant, token } = await setting(dir, { env: "MAIL_GRANT" });
    for (const args of [
      ["verify", file],
      ["test-email", file, "--format", "json"],
    ]) {
      const run = await cli(args, { env: { MAIL_GRANT: token } });
      expect(run.code, args[0]).toBe(1);
      expect(`${run.stdout}${run.stderr}`).toContain("grant-not-replaceable");
      expect(`${run.stdout}${run.stderr}`).not.toContain(token);
    }
    // Not spent: the token still refreshes (the OP would have revoked the grant on its reuse).
    await writeFile(grant, JSON.stringify({ refreshToken: token }));
    expect(await grantAlive(grant)).toBe(true);
  });
});

describe("two processes on one rotating grant file", () => {
  it("10 rounds of two concurrent `mailserver verify` leave the grant alive 10/10", async () => {
    const { file, grant } = await setting(join(sandbox.dir, "concurrent"));
    let alive = 0;
    for (let round = 0; round < 10; round++) {
      const runs = await Promise.all([cli(["verify", file]), cli(["verify", file])]);
      for (const run of runs) expect(run.code, run.stderr).toBe(0);
      if (await grantAlive(grant)) alive++;
    }
    expect(alive).toBe(10);
    // The lock is gone once they are done, and no temporary file is left.
    expect(await readdir(join(sandbox.dir, "concurrent"))).toEqual(["ca.pem", "grant.json", "guarded.yaml"]);
  }, 240_000);
});

describe("drift and verify on one rotating grant file", () => {
  it("5 rounds of `mailserver drift` beside `mailserver verify` leave the grant alive 5/5", async () => {
    const { file, grant } = await setting(join(sandbox.dir, "drift-and-verify"));
    let alive = 0;
    for (let round = 0; round < 5; round++) {
      const [drift, verify] = await Promise.all([cli(["drift", file]), cli(["verify", file])]);
      expect(verify.code, verify.stderr).toBe(0);
      expect(drift.code, `${drift.stdout}${drift.stderr}`).toBe(0);
      if (await grantAlive(grant)) alive++;
    }
    expect(alive).toBe(5);
  }, 180_000);
});

const asRoot = process.getuid?.() === 0;
const why = asRoot ? "" : "not root: mounts, chattr and running as nobody need root";
if (!asRoot) console.log(`skipping the write-fault tests: ${why}`);

describe.skipIf(!asRoot)("a grant that cannot be stored fails before it is spent (grant-save-failed)", () => {
  const mounts: string[] = [];
  const immutable: string[] = [];
  afterAll(() => {
    for (const path of immutable) spawnSync("chattr", ["-i", path]);
    for (const mount of mounts.reverse()) spawnSync("umount", ["-l", mount]);
  });

  function run(command: string, ...args: string[]) {
    const result = spawnSync(command, args, { encoding: "utf8" });
    if (result.status !== 0) throw new Error(`${command} ${args.join(" ")}: ${result.stderr}`);
  }

  /** Fills what is left of a file system with one file, a block at a time. */
  async function fill(folder: string) {
    const filler = join(folder, "filler");
    for (let size = 4096; ; size += 4096) {
      try {
        await writeFile(filler, Buffer.alloc(size));
      } catch {
        await writeFile(filler, Buffer.alloc(size - 4096));
        return;
      }
    }
  }

  async function expectSaveFailed(file: string, grant: string, reason: RegExp, as?: string) {
    const who = as ? { as } : {};
    const text = await cli(["verify", file], who);
    expect(text.code, text.stderr).toBe(1);
    expect(text.stderr).toContain("(grant-save-failed)");
    expect(text.stderr).toContain(grant);
    expect(text.stderr).toMatch(reason);
    expect(text.stderr).not.toMatch(/smtp\.host/);
    const json = await cli(["verify", file, "--format", "json"], who);
    expect(json.code, json.stderr).toBe(1);
    const { error } = JSON.parse(json.stdout) as { error: { code: string; message: string } };
    expect(error.code).toBe("grant-save-failed");
    expect(error.message).toContain(grant);
    expect(error.message).toMatch(reason);
    // No stray temporary file holds a token.
    expect((await readdir(dirname(grant))).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  }

  it("on a read-only bind mount", async () => {
    const source = join(sandbox.dir, "ro-source");
    const { grant: sourceGrant } = await setting(source);
    const target = join(sandbox.dir, "ro");
    await mkdir(target);
    run("mount", "--bind", source, target);
    mounts.push(target);
    run("mount", "-o", "remount,ro,bind", target);
    await expectSaveFailed(join(target, "guarded.yaml"), join(target, "grant.json"), /EROFS/);
    expect(await grantAlive(sourceGrant)).toBe(true);
  });

  it("on a full disk (a small tmpfs)", async () => {
    const target = join(sandbox.dir, "full");
    await mkdir(target);
    run("mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", target);
    mounts.push(target);
    const { file, grant } = await setting(target);
    await fill(target);
    await expectSaveFailed(file, grant, /ENOSPC/);
    await rm(join(target, "filler"));
    expect(await grantAlive(grant)).toBe(true);
  });

  it("on an immutable grant file (chattr +i)", async (context) => {
    const { file, grant } = await setting(join(sandbox.dir, "immutable"));
    if (spawnSync("chattr", ["+i", grant]).status !== 0) {
      context.skip("chattr +i is not supported on this file system");
      return;
    }
    immutable.push(grant);
    await expectSaveFailed(file, grant, /EPERM/);
    run("chattr", "-i", grant);
    expect(await grantAlive(grant)).toBe(true);
  });

  it("in a folder the user cannot write (run as nobody)", async () => {
    const dir = join(sandbox.dir, "not-yours");
    const { file, grant } = await setting(dir);
    // nobody may read and write the grant, but not create files next to it.
    const nobody = Number(spawnSync("id", ["-u", "nobody"], { encoding: "utf8" }).stdout.trim());
    await chown(grant, nobody, nobody);
    await chmod(dir, 0o755);
    await chmod(sandbox.dir, 0o755);
    await expectSaveFailed(file, grant, /EACCES/, String(nobody));
    expect(await grantAlive(grant)).toBe(true);
  });

  it("authorize --out into a read-only, full or missing folder fails before the sign-in", async () => {
    const dir = join(sandbox.dir, "authorize");
    const { file } = await setting(dir);
    const full = join(sandbox.dir, "full");
    for (const [out, reason] of [
      [join(sandbox.dir, "ro", "new-grant.json"), /EROFS/],
      [join(full, "new-grant.json"), /ENOSPC/],
      [join(dir, "missing", "grant.json"), /ENOENT/],
    ] as const) {
      if (out.startsWith(full)) await fill(full);
      const result = await cli(["authorize", file, "--flow", "device", "--out", out, "--format", "json"]);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toMatch(reason);
      // Nobody was asked to sign in: no device code was shown.
      expect(result.stderr).not.toContain("To sign in");
      expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, error: { code: "grant-save-failed" } });
    }
  });
});
