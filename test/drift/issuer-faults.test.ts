// drift and the SMTP commands' credentials against an issuer that fails or breaks RFC 6749 (the
// sandbox OP's faults): only an OAuth error that means the grant is gone is grant-revoked.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { resolveSmtpCredentials } from "../../provider/credentials.js";
import type { MailServerDeclaration } from "../../provider/declaration/generated/declaration.js";
import {
  type NormalizedCustomDeclaration,
  normalizeDeclaration,
} from "../../provider/declaration/normalize.js";
import { compare } from "../../provider/drift/compare.js";
import { observe } from "../../provider/drift/observe.js";
import { refreshGrant } from "../../provider/oauth/index.js";
import { runCli } from "../helpers/cli.js";
import { rejection, sandboxAuth } from "../helpers/op-auth.js";
import { type DriftSandbox, startDriftSandbox } from "./sandbox.js";

let sandbox: DriftSandbox;
beforeAll(async () => {
  sandbox = await startDriftSandbox();
});
afterAll(() => sandbox.stop());
beforeEach(() => sandbox.op.resetFaults());

async function drift(declaration: MailServerDeclaration) {
  const declared = normalizeDeclaration(declaration);
  const observed = await observe(declared, { baseDir: sandbox.dir, env: sandbox.env });
  return compare({ declared, observed });
}

const stored = async (file: string) =>
  JSON.parse(await readFile(join(sandbox.dir, file), "utf8")).refreshToken as string;

describe("drift against a failing issuer", () => {
  it("a 502 HTML page is issuer-unreachable, not grant-revoked, and the grant still works", async () => {
    const token = await sandbox.grant("f502.json");
    sandbox.op.faults.tokenReply = { status: 502, html: "<title>502 Bad Gateway</title>" };
    const findings = await drift(sandbox.oauth("f502", "f502.json"));
    expect(findings).toEqual([
      {
        severity: "error",
        code: "issuer-unreachable",
        field: "auth.tokenEndpoint",
        message: expect.stringMatching(
          /answered HTTP 502, text\/html instead of JSON: "502 Bad Gateway" \(issuer-error\)$/,
        ),
      },
    ]);
    sandbox.op.resetFaults();
    expect(await stored("f502.json")).toBe(token);
    await expect(refreshGrant(sandboxAuth(sandbox.op), { refreshToken: token })).resolves.toBeTruthy();
  });

  it("an issuer that does not answer in time is issuer-unreachable", async () => {
    await sandbox.grant("slow.json");
    sandbox.op.faults.tokenDelayMs = 12_000;
    const declared = normalizeDeclaration(sandbox.oauth("slow", "slow.json"));
    const observed = await observe(declared, { baseDir: sandbox.dir, env: sandbox.env, timeoutMs: 1_500 });
    const codes = compare({ declared, observed }).map((finding) => finding.code);
    expect(codes).toContain("issuer-unreachable");
    expect(codes).not.toContain("grant-revoked");
  });

  it("invalid_grant sent with HTTP 200 is grant-revoked", async () => {
    await sandbox.grant("g200.json");
    sandbox.op.faults.tokenReply = { status: 200, json: { error: "invalid_grant" } };
    const findings = await drift(sandbox.oauth("g200", "g200.json"));
    expect(findings.map((finding) => finding.code)).toEqual(["grant-revoked"]);
    expect(findings[0]?.message).toMatch(/invalid_grant.*sent with HTTP 200/);
  });

  it("invalid_client is grant-refresh-failed: the grant is not said to be gone", async () => {
    await sandbox.grant("client.json");
    sandbox.op.faults.tokenReply = { status: 401, json: { error: "invalid_client" } };
    const findings = await drift(sandbox.oauth("client", "client.json"));
    expect(findings.map((finding) => finding.code)).toEqual(["grant-refresh-failed"]);
    expect(findings[0]?.message).toMatch(/invalid_client.*\(token-request-failed\)$/);
  });

  it("a response without token_type is the issuer's defect, and its rotated token is saved first", async () => {
    const token = await sandbox.grant("notype.json");
    sandbox.op.faults.omitFromTokenResponse = { fields: ["token_type"] };
    const findings = await drift(sandbox.oauth("notype", "notype.json"));
    expect(findings.map((finding) => finding.code)).toEqual(["issuer-unreachable"]);
    expect(findings[0]?.message).toMatch(/breaks RFC 6749 §5\.1: "token_type" is missing/);
    sandbox.op.resetFaults();
    const saved = await stored("notype.json");
    expect(saved).not.toBe(token);
    await expect(refreshGrant(sandboxAuth(sandbox.op), { refreshToken: saved })).resolves.toBeTruthy();
  });
});

describe("the SMTP commands' credentials against a failing issuer", () => {
  const declaration = (file: string) =>
    normalizeDeclaration(sandbox.oauth(file.replace(".json", ""), file)) as NormalizedCustomDeclaration;

  it("keep the issuer's code and its try-again remedy (not token-refresh-failed)", async () => {
    await sandbox.grant("verify502.json");
    sandbox.op.faults.tokenReply = { status: 500, html: "<title>Internal Server Error</title>" };
    const error = await rejection(
      resolveSmtpCredentials(declaration("verify502.json"), { baseDir: sandbox.dir }),
    );
    expect(error.code).toBe("issuer-error");
    expect(error.message).toMatch(/^no access token from auth\.refreshToken \(file:verify502\.json\): /);
    expect(error.remedy).toMatch(/^Try again later/);
  });

  it("save a token rotated in a non-conformant response to the grant file", async () => {
    const token = await sandbox.grant("verifynotype.json");
    sandbox.op.faults.omitFromTokenResponse = { fields: ["token_type"] };
    const error = await rejection(
      resolveSmtpCredentials(declaration("verifynotype.json"), { baseDir: sandbox.dir }),
    );
    expect(error.code).toBe("issuer-nonconformant");
    sandbox.op.resetFaults();
    const saved = await stored("verifynotype.json");
    expect(saved).not.toBe(token);
    await expect(refreshGrant(sandboxAuth(sandbox.op), { refreshToken: saved })).resolves.toBeTruthy();
  });
});

describe("what a person sees from the CLI", () => {
  it("verify: a 502 from the token endpoint is issuer-error with a try-again hint, and the grant file is untouched", async () => {
    const token = await sandbox.grant("cli502.json");
    const file = await sandbox.write("cli502.yaml", sandbox.oauth("cli502", "cli502.json"));
    sandbox.op.faults.tokenReply = { status: 502, html: "<title>502 Bad Gateway</title>" };
    const run = await runCli(["verify", file], { env: {} });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^mailserver: no access token from auth\.refreshToken \(file:cli502\.json\): the refresh-token grant: http:\/\/127\.0\.0\.1:\d+ answered HTTP 502, text\/html instead of JSON: "502 Bad Gateway"\. Try again later and check the issuer's status page; .* \(issuer-error\)\n$/,
    );
    expect(run.stderr).not.toMatch(/authorize FILE --out/);
    expect(await stored("cli502.json")).toBe(token);
  });

  it("drift: the same failure is issuer-unreachable, exit 1, never grant-revoked", async () => {
    await sandbox.grant("drift502.json");
    const file = await sandbox.write("drift502.yaml", sandbox.oauth("drift502", "drift502.json"));
    sandbox.op.faults.tokenReply = { status: 503, json: { error: "temporarily_unavailable" } };
    const run = await runCli(["drift", file, "--format", "json"], { env: sandbox.env });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('"code": "issuer-unreachable"');
    expect(run.stdout).not.toContain("grant-revoked");
  });
});
