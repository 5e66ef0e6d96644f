#!/usr/bin/env node
// Saving into a real Keycloak (the pinned distribution of scripts/install-keycloak.sh; skipped
// with the reason when it is not installed):
// - Keycloak's start in the test helper (spawn to ready, and the realm set up): reported, no target;
// - applying a setting through the service module (log in, read the realm, write it; SMTP verify
//   excluded) against a bare admin-client update of the same realm in the same run (log in,
//   write). Target: at most 1.5x;
// - `mailserver drift` of 50 declarations against one Keycloak (each also checks the sandbox SMTP
//   server), concurrency 8, as a child process: wall time and peak RSS.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import KeycloakAdminClient from "@keycloak/keycloak-admin-client";
import { stringify } from "yaml";
import { connectService } from "../dist/provider/services/index.js";
import { keycloakUnavailable, startSandboxKeycloak } from "../dist/sandbox/keycloak.js";
import { startSandboxSmtp } from "../dist/sandbox/smtp.js";
import { median, ms, QUICK, ratio, report, runCommand, timeRuns } from "./lib/stats.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = join(root, "bin", "mailserver.js");
const unavailable = keycloakUnavailable();
if (unavailable) {
  console.log(`skipped: ${unavailable}`);
  process.exit(0);
}

const RUNS = QUICK ? 5 : 30;
const DRIFT_RUNS = QUICK ? 1 : 3;
const DECLARATIONS = 50;
const CONCURRENCY = 8;

const smtp = await startSandboxSmtp();
const startedAt = performance.now();
const keycloak = await startSandboxKeycloak({ trustPem: smtp.caPem });
const startAndSetUpMs = performance.now() - startedAt;
const service = {
  type: "keycloak",
  url: keycloak.url,
  realm: "corp",
  adminRealm: "corp",
  clientId: keycloak.realm.clientId,
  clientSecret: { env: "KC_ADMIN_SECRET" },
};
const setting = (i) => ({
  host: "127.0.0.1",
  port: smtp.tlsPort,
  protocol: "tls",
  auth: { method: "basic", username: smtp.account.username, password: smtp.account.password },
  from: { address: `no-reply-${i}@sandbox.test`, name: "Bench" },
});

try {
  report(
    "Keycloak start in the test helper",
    ["what", "time"],
    [
      ["spawn to ready (kc.sh start --optimized, health/ready)", ms(keycloak.startMs)],
      ["spawn to ready, then realm, admin client and user set up", ms(startAndSetUpMs)],
    ],
  );

  // Both sides log in each time, as a deploy does; both write the same realm with the same map size.
  let i = 0;
  const ours = await timeRuns(
    async () => {
      const connection = await connectService(service, keycloak.realm.clientSecret);
      await connection.apply(setting(i++));
    },
    { runs: RUNS },
  );
  const bare = await timeRuns(
    async () => {
      const admin = new KeycloakAdminClient({ baseUrl: keycloak.url, realmName: "corp" });
      await admin.auth({
        grantType: "client_credentials",
        clientId: keycloak.realm.clientId,
        clientSecret: keycloak.realm.clientSecret,
      });
      const { host, port, protocol, auth, from } = setting(i++);
      await admin.realms.update(
        { realm: "corp" },
        {
          smtpServer: {
            host,
            port: String(port),
            ssl: String(protocol === "tls"),
            starttls: "false",
            auth: "true",
            user: auth.username,
            password: auth.password,
            from: from.address,
            fromDisplayName: from.name,
          },
        },
      );
    },
    { runs: RUNS },
  );
  const applyRatio = median(ours) / median(bare);
  report(
    `apply into a Keycloak realm (median of ${RUNS}, SMTP verify excluded)`,
    ["what", "median", "vs bare update"],
    [
      ["bare admin-client update (log in, PUT)", ms(median(bare)), "1.00x"],
      ["connectService + apply (log in, GET, PUT)", ms(median(ours)), ratio(median(ours), median(bare))],
    ],
    [{ name: "apply <= 1.5x the bare update", ok: applyRatio <= 1.5, detail: `${applyRatio.toFixed(2)}x` }],
  );

  // The realm holds the setting the declarations declare (drift: in sync).
  const connection = await connectService(service, keycloak.realm.clientSecret);
  await connection.apply({ ...setting(0), from: { address: "no-reply@sandbox.test", name: "Bench" } });
  const dir = await mkdtemp(join(tmpdir(), "mailserver-keycloak-bench-"));
  try {
    await writeFile(join(dir, "ca.pem"), smtp.caPem);
    for (let n = 0; n < DECLARATIONS; n++) {
      const declaration = {
        version: 1,
        name: `decl-${String(n).padStart(3, "0")}`,
        smtp: { host: "127.0.0.1", protocol: "tls", port: smtp.tlsPort, tls: { ca: { file: "ca.pem" } } },
        auth: { method: "basic", username: smtp.account.username, password: { env: "SMTP_PASSWORD" } },
        from: { name: "Bench", address: "no-reply@sandbox.test" },
        service: { ...service, adminRealm: undefined },
      };
      await writeFile(join(dir, `${declaration.name}.yaml`), stringify(declaration));
    }
    const env = { SMTP_PASSWORD: smtp.account.password, KC_ADMIN_SECRET: keycloak.realm.clientSecret };
    const runs = [];
    for (let r = 0; r < DRIFT_RUNS; r++) {
      const run = await runCommand(
        process.execPath,
        [bin, "drift", dir, "--concurrency", String(CONCURRENCY), "--format", "json"],
        { env },
      );
      if (run.code !== 0)
        throw new Error(`drift exited ${run.code}: ${run.stderr || run.stdout.slice(0, 2000)}`);
      runs.push(run);
    }
    const rss = runs.map((run) => run.peakRssMb).filter((value) => value !== null);
    report(
      `mailserver drift of ${DECLARATIONS} declarations against one Keycloak, concurrency ${CONCURRENCY} (median of ${DRIFT_RUNS})`,
      ["declarations", "wall time", "per declaration", "peak RSS (MB)"],
      [
        [
          DECLARATIONS,
          ms(median(runs.map((run) => run.ms))),
          ms(median(runs.map((run) => run.ms)) / DECLARATIONS),
          rss.length > 0 ? Math.max(...rss).toFixed(0) : "n/a",
        ],
      ],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
} finally {
  await keycloak.stop();
  await smtp.stop();
}
