#!/usr/bin/env node
// `mailserver drift` over 25, 50, 100 and 200 declarations against the sandboxes (one OP, one SMTP
// server on loopback), concurrency 16, as a child process so its wall time and peak RSS are those a
// CI job sees. Baseline in the same run: drift over one declaration (process start, module loading,
// one TLS session). Every fifth declaration is OAuth with its own grant file (a refresh with
// rotation, written back, then XOAUTH2); the others are Basic.
// Targets: 200 declarations in at most 10 s and 300 MB peak RSS.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { sandboxDeclaredAuth, writeSandboxGrant } from "../dist/sandbox/grant.js";
import { accessTokenVerifier, startSandboxOP } from "../dist/sandbox/op.js";
import { startSandboxSmtp } from "../dist/sandbox/smtp.js";
import { median, ms, QUICK, ratio, report, runCommand } from "./lib/stats.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = join(root, "bin", "mailserver.js");
const SIZES = [25, 50, 100, 200];
const RUNS = QUICK ? 1 : 3;
const CONCURRENCY = 16;

const op = await startSandboxOP();
const smtp = await startSandboxSmtp({
  verifyAccessToken: accessTokenVerifier(op),
});
const env = { SANDBOX_SMTP_PASSWORD: smtp.account.password };

/** A folder of `count` declarations pointing at the sandboxes. */
async function folderOf(count) {
  const dir = await mkdtemp(join(tmpdir(), `mailserver-drift-bench-${count}-`));
  await writeFile(join(dir, "ca.pem"), smtp.caPem);
  for (let i = 0; i < count; i++) {
    const name = `decl-${String(i).padStart(3, "0")}`;
    const oauth = i % 5 === 4;
    if (oauth) await writeSandboxGrant(op, join(dir, `.${name}-grant.json`), { flow: "loopback" });
    const declaration = {
      version: 1,
      name,
      smtp: { host: smtp.host, protocol: "tls", port: smtp.tlsPort, tls: { ca: { file: "ca.pem" } } },
      auth: oauth
        ? sandboxDeclaredAuth(op, { flow: "loopback", refreshToken: { file: `.${name}-grant.json` } })
        : { method: "basic", username: smtp.account.username, password: { env: "SANDBOX_SMTP_PASSWORD" } },
      from: { address: oauth ? op.account.email : smtp.account.username },
    };
    await writeFile(join(dir, `${name}.yaml`), stringify(declaration));
  }
  return dir;
}

async function measure(count) {
  const dir = await folderOf(count);
  const runs = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const run = await runCommand(
        process.execPath,
        [bin, "drift", dir, "--concurrency", String(CONCURRENCY), "--format", "json"],
        { env },
      );
      if (run.code !== 0)
        throw new Error(`drift over ${count} exited ${run.code}: ${run.stderr || run.stdout.slice(0, 2000)}`);
      const { results } = JSON.parse(run.stdout);
      if (results.length !== count) throw new Error(`drift over ${count} reported ${results.length} results`);
      runs.push(run);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const rss = runs.map((run) => run.peakRssMb).filter((value) => value !== null);
  return { count, ms: median(runs.map((run) => run.ms)), rss: rss.length > 0 ? Math.max(...rss) : null };
}

try {
  const baseline = await measure(1);
  const rows = [[1, ms(baseline.ms), "1.00x", "-", baseline.rss?.toFixed(0) ?? "n/a"]];
  const results = [];
  for (const count of SIZES) {
    const result = await measure(count);
    results.push(result);
    rows.push([
      count,
      ms(result.ms),
      ratio(result.ms, baseline.ms),
      ms(result.ms / count),
      result.rss?.toFixed(0) ?? "n/a",
    ]);
  }
  const largest = results.at(-1);
  report(
    `mailserver drift, concurrency ${CONCURRENCY}, 1 in 5 OAuth (median of ${RUNS})`,
    ["declarations", "wall time", "vs 1 declaration", "per declaration", "peak RSS (MB)"],
    rows,
    [
      { name: "200 declarations <= 10 s", ok: largest.ms <= 10_000, detail: ms(largest.ms) },
      {
        name: "peak RSS <= 300 MB",
        ok: largest.rss === null || largest.rss <= 300,
        detail: largest.rss === null ? "not measured (no /usr/bin/time)" : `${largest.rss.toFixed(0)} MB`,
      },
    ],
  );
} finally {
  await Promise.all([smtp.stop(), op.stop()]);
}
