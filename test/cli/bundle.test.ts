// The bundled CLI (scripts/bundle.mjs, run by `npm run build`; `npm test` builds first): bin/mailserver.js
// runs it, it keeps each command's heavy modules lazy, and paths relative to its files still resolve.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bundleDir = join(root, "dist", "cli-bundle");

interface Output {
  entryPoint?: string;
  inputs: Record<string, unknown>;
  imports: { path: string; kind: string; external?: boolean }[];
}
const meta = JSON.parse(readFileSync(join(bundleDir, "metafile.json"), "utf8")) as {
  outputs: Record<string, Output>;
};

/** The packages an output loads before its code runs: its static imports, followed through chunks. */
function loadedPackages(start: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    const output = meta.outputs[path];
    if (!output) throw new Error(`no output ${path} in the metafile`);
    for (const input of Object.keys(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
      if (match?.[1]) packages.add(match[1]);
    }
    for (const imported of output.imports) {
      if (imported.kind === "dynamic-import") continue;
      if (imported.external) packages.add(imported.path.replace(/^((?:@[^/]+\/)?[^/]+).*$/, "$1"));
      else visit(imported.path);
    }
  };
  visit(start);
  return packages;
}

function commandOutput(command: string): string {
  const found = Object.entries(meta.outputs).find(
    ([, output]) => output.entryPoint === `dist/cli/commands/${command}.js`,
  );
  if (!found) throw new Error(`no chunk for the ${command} command`);
  return found[0];
}

describe("the bundled CLI", () => {
  it("is what bin/mailserver.js runs", () => {
    expect(existsSync(join(bundleDir, "main.js"))).toBe(true);
    const bin = readFileSync(join(root, "bin", "mailserver.js"), "utf8");
    expect(bin).toContain("../dist/cli-bundle/main.js");
    // The bin prefers the bundle only while it is at least as new as the compiled files.
    const bundled = statSync(join(bundleDir, "main.js")).mtimeMs;
    expect(bundled).toBeGreaterThanOrEqual(statSync(join(root, "dist", "cli", "main.js")).mtimeMs);
  });

  it("starts with none of the heavy packages", () => {
    expect([...loadedPackages("dist/cli-bundle/main.js")]).toEqual([]);
  });

  it("keeps validate free of nodemailer, OAuth and Pulumi", () => {
    const packages = loadedPackages(commandOutput("validate"));
    expect(packages).toContain("yaml");
    for (const heavy of ["nodemailer", "openid-client", "@pulumi/pulumi", "oidc-provider"]) {
      expect(packages).not.toContain(heavy);
    }
  });

  it("loads nodemailer for test-email only when it sends, and never OAuth or Pulumi up front", () => {
    const packages = loadedPackages(commandOutput("test-email"));
    for (const heavy of ["nodemailer", "openid-client", "@pulumi/pulumi", "oidc-provider"]) {
      expect(packages).not.toContain(heavy);
    }
  });

  it("still finds package.json and the schema validator's runtime next to its files", () => {
    const version = spawnSync(process.execPath, [join(root, "bin", "mailserver.js"), "--version"], {
      encoding: "utf8",
    });
    expect(version.stdout.trim()).toBe(
      (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version,
    );
    // `format: email` is checked by ajv-formats, which the schema validator requires at run time.
    const dir = mkdtempSync(join(tmpdir(), "mailserver-bundle-"));
    try {
      const file = join(dir, "bad-from.yaml");
      writeFileSync(
        file,
        "version: 1\nname: x\nsmtp: { host: smtp.example.com }\n" +
          "auth: { method: basic, username: u, password: { env: P } }\nfrom: { address: not-an-email }\n",
      );
      const validate = spawnSync(
        process.execPath,
        [join(root, "bin", "mailserver.js"), "validate", file, "--format", "json"],
        { encoding: "utf8" },
      );
      expect(validate.status).toBe(1);
      expect(JSON.parse(validate.stdout).files[0].problems[0]).toMatchObject({
        code: "schema",
        path: "/from/address",
        message: "from.address must be an email address",
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
