// `--format json` is one JSON document on stdout for every command, success or failure: a failure
// is {"ok": false, "error": {"code", "message", "remedy"}} (authorize printed nothing before).
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { closedPort } from "../drift/sandbox.js";
import { runCli } from "../helpers/cli.js";
import { writeOAuthDeclaration } from "../helpers/op-auth.js";

let dir: string;
let unreachable: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mailserver-json-failure-"));
  unreachable = `http://127.0.0.1:${await closedPort()}`;
});

function document(stdout: string) {
  // Exactly one document: JSON.parse refuses anything after it.
  return JSON.parse(stdout) as {
    ok: boolean;
    error: { code: string; message: string; remedy: string | null };
  };
}

describe("--format json on failure", () => {
  it("authorize: the issuer's failure as a document", async () => {
    const file = await writeOAuthDeclaration(dir, "unreachable", {
      issuer: unreachable,
      clientId: "c",
      scopes: ["openid", "email", "offline_access"],
      flow: "device",
    });
    for (const format of [["--format", "json"], ["--format=json"]]) {
      const run = await runCli(["authorize", file, ...format]);
      expect(run.code).toBe(1);
      expect(document(run.stdout)).toEqual({
        ok: false,
        error: {
          code: "issuer-unreachable",
          message: expect.stringContaining(unreachable),
          remedy: expect.any(String),
        },
      });
      expect(run.stderr).toContain("(issuer-unreachable)");
    }
  });

  it("every command: a usage error as a document", async () => {
    const missing = join(dir, "missing.yaml");
    await writeFile(join(dir, "builtin.yaml"), "version: 1\nname: b\nserver: builtin\n");
    for (const args of [
      ["validate", missing],
      ["discover"],
      ["authorize", missing],
      ["verify", missing],
      ["test-email", missing],
      ["drift", missing],
      ["diff", missing, join(dir, "builtin.yaml")],
      ["verify", join(dir, "builtin.yaml"), "--unknown-flag"],
    ]) {
      const run = await runCli([...args, "--format", "json"]);
      expect(run.code, args.join(" ")).toBe(2);
      expect(document(run.stdout), args.join(" ")).toMatchObject({ ok: false, error: { code: "usage" } });
    }
  });

  it("discover: an unreachable issuer as a document", async () => {
    const run = await runCli(["discover", unreachable, "--format", "json"]);
    expect(run.code).toBe(1);
    expect(document(run.stdout).error.code).toBe("issuer-unreachable");
  });

  it("without --format json, stdout stays empty on failure", async () => {
    const run = await runCli(["discover", unreachable]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
  });
});
