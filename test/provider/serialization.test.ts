/**
 * The serialized provider (`__provider`) is a thin shim: small, without secrets, without absolute
 * paths (byte-identical in two checkouts in different folders), and it finds the implementation
 * from the project directory at call time - this repository itself, a copy of it elsewhere, or a
 * project that installed pulumi-mailserver as a dependency.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EngineServer, startEngineServer } from "../../sandbox/engine-server.js";
import { ProviderCallError, startProviderHost, urnOf } from "../../sandbox/provider-host.js";
import { captureMailServer } from "../helpers/engine-capture.js";

const root = process.cwd();
const SECRET = "s3cret-client-value-9f2";
const REFRESH = "refresh-token-value-77a";
let scratch: string;
let engine: EngineServer;

const args = {
  version: 1,
  smtp: { host: "smtp.sandbox.test", protocol: "starttls" },
  auth: {
    method: "oauth",
    issuer: "https://127.0.0.1:1/",
    clientId: "client-1",
    clientSecret: { $secret: SECRET },
    refreshToken: { $secret: REFRESH },
    scopes: ["openid", "email", "offline_access"],
    flow: "device",
  },
  from: { address: "no-reply@sandbox.test" },
};

/** A checkout of the package in another folder: package.json, dist/, schema and node_modules (linked). */
function checkout(name: string): string {
  const folder = join(scratch, name, "pulumi-mailserver");
  mkdirSync(folder, { recursive: true });
  cpSync(join(root, "package.json"), join(folder, "package.json"));
  cpSync(join(root, "dist"), join(folder, "dist"), { recursive: true });
  cpSync(join(root, "schema"), join(folder, "schema"), { recursive: true });
  symlinkSync(join(root, "node_modules"), join(folder, "node_modules"));
  return folder;
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "mailserver-serialization-"));
  engine = await startEngineServer();
});

afterAll(async () => {
  await engine?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe("the serialized provider", () => {
  it("is at most 8 KB, holds no secret and no path, and is byte-identical in two checkouts", async () => {
    const first = await captureMailServer(checkout("a"), "corp-mail", args);
    const second = await captureMailServer(checkout("b-other-folder"), "corp-mail", args);
    expect(Buffer.byteLength(first.provider)).toBeLessThanOrEqual(8 * 1024);
    expect(first.provider).toBe(second.provider);
    for (const text of [SECRET, REFRESH, root, scratch, tmpdir(), "/work", "file://"]) {
      expect(first.provider).not.toContain(text);
    }
    expect(first.secretKeys).toEqual(["secretValues"]);
    expect(first.inputs.secretValues).toEqual({
      "inline:auth.clientSecret": SECRET,
      "inline:auth.refreshToken": REFRESH,
    });
  });

  it("resolves the implementation from a project that installed the package as a dependency", async () => {
    const project = join(scratch, "infra");
    mkdirSync(join(project, "node_modules"), { recursive: true });
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "infra", type: "module" }));
    symlinkSync(checkout("installed"), join(project, "node_modules", "pulumi-mailserver"));
    const captured = await captureMailServer(root, "corp-mail", args);
    const host = await startProviderHost({ engineAddress: engine.address, cwd: project });
    try {
      const result = await host.check(urnOf("corp-mail"), {}, captured.inputs);
      expect(result.failures).toEqual([]);
    } finally {
      await host.close();
    }
  });

  it("says what to install when the project has no pulumi-mailserver", async () => {
    const empty = join(scratch, "empty");
    mkdirSync(empty, { recursive: true });
    writeFileSync(join(empty, "package.json"), JSON.stringify({ name: "empty" }));
    const captured = await captureMailServer(root, "corp-mail", args);
    const host = await startProviderHost({ engineAddress: engine.address, cwd: empty });
    try {
      const error = await host.check(urnOf("corp-mail"), {}, captured.inputs).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderCallError);
      expect((error as Error).message).toContain("pulumi-mailserver is not installed in the Pulumi project");
      expect((error as Error).message).toContain("npm install pulumi-mailserver");
    } finally {
      await host.close();
    }
  });
});
