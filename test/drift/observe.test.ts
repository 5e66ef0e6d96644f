// observe + compare against the real sandboxes: each finding code from a real fault, and the
// promise about rotating refresh tokens (never consumed without the rotated one being saved).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MailServerDeclaration } from "../../provider/declaration/generated/declaration.js";
import { type NormalizedDeclaration, normalizeDeclaration } from "../../provider/declaration/normalize.js";
import { compare, type Finding } from "../../provider/drift/compare.js";
import { type ObserveOptions, observe } from "../../provider/drift/observe.js";
import type { RecordedOutputs } from "../../provider/drift/recorded-state.js";
import { refreshGrant, revokeGrant } from "../../provider/oauth/index.js";
import { startSandboxSmtp, startSilentServer } from "../../sandbox/smtp.js";
import { sandboxAuth } from "../helpers/op-auth.js";
import { closedPort, type DriftSandbox, startDriftSandbox } from "./sandbox.js";

let sandbox: DriftSandbox;
beforeAll(async () => {
  sandbox = await startDriftSandbox();
});
afterAll(() => sandbox.stop());

async function check(
  declaration: MailServerDeclaration,
  options: Partial<ObserveOptions> & { recorded?: RecordedOutputs; certWarnDays?: number } = {},
) {
  const { recorded, certWarnDays, ...observeOptions } = options;
  const declared: NormalizedDeclaration = normalizeDeclaration(declaration);
  const observed = await observe(declared, { baseDir: sandbox.dir, env: sandbox.env, ...observeOptions });
  const findings = compare({
    declared,
    observed,
    ...(recorded && { recorded }),
    ...(certWarnDays !== undefined && { certWarnDays }),
  });
  return { observed, findings, codes: findings.map((finding: Finding) => finding.code) };
}

describe("observe and compare: in sync", () => {
  it("finds nothing for a working Basic setting, and reports the TLS facts it saw", async () => {
    const { observed, findings } = await check(sandbox.basic());
    expect(findings).toEqual([]);
    expect(observed.smtp).toMatchObject({
      reached: true,
      authChecked: true,
      authenticatedAs: sandbox.fixture.smtp.account.username,
    });
    expect(observed.smtp?.tls?.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(observed.configErrors).toEqual([]);
  });

  it("finds nothing for a working OAuth setting and writes the rotated refresh token back to its file", async () => {
    const first = await sandbox.grant("in-sync.json");
    const { observed, findings } = await check(sandbox.oauth("in-sync", "in-sync.json"));
    expect(findings).toEqual([]);
    expect(observed.grant).toMatchObject({
      checked: true,
      ok: true,
      rotated: true,
      persisted: true,
      email: sandbox.op.account.email,
    });
    expect(observed.smtp).toMatchObject({ authChecked: true, authenticatedAs: sandbox.op.account.email });
    const stored = JSON.parse(await readFile(join(sandbox.dir, "in-sync.json"), "utf8"));
    expect(stored.refreshToken).not.toBe(first);
    expect(stored.email).toBe(sandbox.op.account.email); // the other fields are kept
    // The saved token is the live one: the grant keeps working after drift used it.
    const refreshed = await refreshGrant(sandboxAuth(sandbox.op), { refreshToken: stored.refreshToken });
    expect(refreshed.accessToken.length).toBeGreaterThan(0);
    expect(JSON.stringify(observed)).not.toContain(stored.refreshToken);
  });

  it("reports a builtin declaration as in sync without any network", async () => {
    const { observed, findings } = await check({ version: 1, name: "builtin", server: "builtin" });
    expect(findings).toEqual([]);
    expect(observed).toMatchObject({ server: "builtin", notes: [] });
  });
});

describe("observe and compare: each finding code", () => {
  it("grant-revoked: the grant was revoked at the issuer", async () => {
    const token = await sandbox.grant("revoked.json");
    await revokeGrant(sandboxAuth(sandbox.op), { refreshToken: token });
    const { findings, observed } = await check(sandbox.oauth("revoked", "revoked.json"));
    expect(findings[0]).toMatchObject({
      severity: "error",
      code: "grant-revoked",
      field: "auth.refreshToken",
    });
    expect(findings[0]?.message).toMatch(/invalid_grant/);
    expect(observed.smtp).toMatchObject({ reached: true, authChecked: false });
    expect(observed.notes.join("\n")).toMatch(/SMTP AUTH not checked: no access token/);
  });

  it("endpoint-changed: the token endpoint differs from the recorded one", async () => {
    await sandbox.grant("endpoints.json");
    const { findings } = await check(sandbox.oauth("endpoints", "endpoints.json"), {
      recorded: {
        endpoints: {
          token: "https://login.example.com/old/token",
          authorization: `${sandbox.op.issuer}/auth`,
        },
      },
    });
    expect(findings).toEqual([
      {
        severity: "error",
        code: "endpoint-changed",
        field: "auth.tokenEndpoint",
        message: `the token endpoint is now ${sandbox.op.issuer}/token (recorded: https://login.example.com/old/token)`,
      },
    ]);
  });

  it("issuer-unreachable: the OP is down (discovery fails, the grant is not touched)", async () => {
    const port = await closedPort();
    const { findings, observed } = await check(
      sandbox.oauth("op-down", "unused.json", { auth: { issuer: `http://127.0.0.1:${port}` } }),
    );
    expect(findings.map((f) => [f.code, f.field])).toEqual([["issuer-unreachable", "auth.issuer"]]);
    expect(findings[0]?.message).toMatch(/ECONNREFUSED/);
    expect(observed.grant).toMatchObject({
      checked: false,
      skipped: "the issuer's configuration could not be fetched",
    });
  });

  it("smtp-unreachable: nothing listens on the port", async () => {
    const port = await closedPort();
    const { findings } = await check(sandbox.basic({ port }));
    expect(findings.map((f) => f.code)).toEqual(["smtp-unreachable"]);
    expect(findings[0]?.message).toContain(`127.0.0.1:${port}`);
  });

  it("smtp-unreachable: a server that never greets ends at the declaration's time limit", async () => {
    const silent = await startSilentServer();
    try {
      const { findings } = await check(
        sandbox.basic({
          port: silent.port,
          smtp: { timeouts: { connectionMs: 5000, greetingMs: 30_000, socketMs: 30_000 } },
        }),
        {
          timeoutMs: 700,
        },
      );
      expect(findings.map((f) => f.code)).toEqual(["smtp-unreachable"]);
    } finally {
      await silent.stop();
    }
  });

  it("starttls-missing: the server stopped offering STARTTLS, and no credential was sent", async () => {
    const plain = await startSandboxSmtp({ hideSTARTTLS: true });
    try {
      const { findings } = await check(sandbox.basic({ protocol: "starttls", port: plain.starttlsPort }));
      expect(findings.map((f) => [f.code, f.field])).toEqual([["starttls-missing", "smtp.protocol"]]);
      expect(plain.authAttempts).toEqual([]);
    } finally {
      await plain.stop();
    }
  });

  it("auth-rejected: the password no longer works", async () => {
    const { findings } = await check(sandbox.basic(), {
      env: { SANDBOX_SMTP_PASSWORD: "changed-elsewhere" },
    });
    expect(findings.map((f) => f.code)).toEqual(["auth-rejected"]);
    expect(findings[0]?.message).toMatch(/535/);
    expect(findings[0]?.message).not.toContain("changed-elsewhere");
  });

  it("cert-changed: the server presents another certificate than the recorded one", async () => {
    const recordedFingerprint = "AA:".repeat(31) + "AA";
    const { findings, observed } = await check(sandbox.basic(), {
      recorded: { certificate: { fingerprint256: recordedFingerprint } },
    });
    expect(findings.map((f) => [f.code, f.field])).toEqual([["cert-changed", "smtp.tls"]]);
    expect(findings[0]?.message).toContain(observed.smtp?.tls?.fingerprint256 as string);
    const same = await check(sandbox.basic(), {
      recorded: { certificate: { fingerprint256: observed.smtp?.tls?.fingerprint256 as string } },
    });
    expect(same.findings).toEqual([]);
  });

  it("cert-expiring: a warning within --cert-warn-days (the sandbox certificate lasts 30 days)", async () => {
    const { findings } = await check(sandbox.basic(), { certWarnDays: 45 });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: "warning", code: "cert-expiring", field: "smtp.tls" });
    expect((await check(sandbox.basic())).findings).toEqual([]); // default 21 days
  });

  it("username-mismatch: the ID token is for another address than auth.username", async () => {
    await sandbox.grant("other-user.json");
    const { findings } = await check(
      sandbox.oauth("other-user", "other-user.json", { auth: { username: "someone-else@sandbox.test" } }),
    );
    expect(findings.map((f) => f.code)).toContain("username-mismatch");
    expect(findings.find((f) => f.code === "username-mismatch")?.message).toBe(
      `the ID token is for ${sandbox.op.account.email}, but auth.username is someone-else@sandbox.test`,
    );
  });

  it("recorded-mismatch: what Pulumi recorded differs from the declaration", async () => {
    const { findings } = await check(sandbox.basic(), {
      recorded: {
        host: "smtp.old.example",
        port: sandbox.fixture.smtp.tlsPort,
        fromAddress: "old@sandbox.test",
        replyTo: "",
      },
    });
    expect(findings.map((f) => [f.code, f.field])).toEqual([
      ["recorded-mismatch", "smtp.host"],
      ["recorded-mismatch", "from.address"],
    ]);
    expect(findings[0]?.message).toBe('declared "127.0.0.1", recorded "smtp.old.example"');
  });
});

describe("rotating refresh tokens are never consumed without being saved", () => {
  it("skips the grant check (and says so) when the token comes from env and the issuer may rotate", async () => {
    const token = await sandbox.grant("env-grant.json");
    const before = sandbox.op.tokenRequests("refresh_token").length;
    const { findings, observed } = await check(
      sandbox.oauth("env-grant", "unused.json", { auth: { refreshToken: { env: "GRANT" } } }),
      { env: { ...sandbox.env, GRANT: token } },
    );
    expect(sandbox.op.tokenRequests("refresh_token").length).toBe(before);
    expect(findings).toEqual([]);
    expect(observed.grant?.skipped).toMatch(/may rotate refresh tokens and env:GRANT cannot be written back/);
    expect(observed.notes[0]).toMatch(/^grant not checked: /);
    // The token was not touched: it still refreshes.
    await expect(refreshGrant(sandboxAuth(sandbox.op), { refreshToken: token })).resolves.toBeTruthy();
  });

  it("hands the rotated token to persistRotated (the provider's read) and reports a failure to keep it", async () => {
    const token = await sandbox.grant("state-grant.json");
    const saved: string[] = [];
    const declaration = sandbox.oauth("state-grant", "state-grant.json");
    const ok = await check(declaration, {
      refreshToken: token,
      persistRotated: async (next) => void saved.push(next),
    });
    expect(ok.findings).toEqual([]);
    expect(saved).toHaveLength(1);
    expect(saved[0]).not.toBe(token);
    const lost = await check(declaration, {
      refreshToken: saved[0] as string,
      persistRotated: () => Promise.reject(Object.assign(new Error("disk full"), { code: "ENOSPC" })),
    });
    expect(lost.findings.map((f) => f.code)).toEqual(["grant-revoked"]);
    expect(lost.findings[0]?.message).toMatch(
      /could not be saved to the refresh token given by the caller \(ENOSPC\)/,
    );
  });

  it("reports an unset secret as a configuration error, not as drift", async () => {
    const { findings, observed } = await check(sandbox.basic(), { env: {} });
    expect(findings).toEqual([]);
    expect(observed.configErrors).toEqual([
      {
        code: "secret-unresolved",
        field: "auth.password",
        message: "auth.password (env:SANDBOX_SMTP_PASSWORD) is not set or empty",
      },
    ]);
    expect(observed.smtp).toMatchObject({ reached: true, authChecked: false });
  });
});
