#!/usr/bin/env node
// `mailserver test-email` (the built CLI, spawned as a user runs it) against swaks (Debian package
// `swaks`) sending one message to the same sandbox SMTP server, in the same TLS mode, with the same
// certificate check (the throwaway CA trusted, nothing switched off) and AUTH PLAIN. Target: the
// CLI's median wall time at most 1.5x swaks'. Both pay the sandbox's fixed greeting delay
// (smtp-server waits 100 ms to catch clients that talk before the greeting). The CLI runs as
// installed: bin/mailserver.js, which loads the bundle `npm run build` makes (scripts/bundle.mjs).
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startSandboxSmtp } from "../dist/sandbox/smtp.js";
import { median, ms, percentile, QUICK, ratio, report, runCommand } from "./lib/stats.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = join(root, "bin", "mailserver.js");
const RUNS = QUICK ? 3 : 15;
const WARMUP = QUICK ? 1 : 2;
const TARGET = 1.5;

const swaksPath = spawnSync("sh", ["-c", "command -v swaks"], { encoding: "utf8" }).stdout.trim();
const smtp = await startSandboxSmtp();
const dir = await mkdtemp(join(tmpdir(), "mailserver-bench-"));
const env = { SMTP_PASSWORD: smtp.account.password, NO_COLOR: "1" };

try {
  await writeFile(join(dir, "ca.pem"), smtp.caPem);
  const rows = [];
  const targets = [];
  for (const protocol of ["tls", "starttls"]) {
    const port = protocol === "tls" ? smtp.tlsPort : smtp.starttlsPort;
    const declaration = join(dir, `bench-${protocol}.yaml`);
    await writeFile(
      declaration,
      [
        "version: 1",
        `name: bench-${protocol}`,
        `smtp: { host: 127.0.0.1, protocol: ${protocol}, port: ${port}, tls: { ca: { file: ca.pem } } }`,
        `auth: { method: basic, username: ${smtp.account.username}, password: { env: SMTP_PASSWORD } }`,
        `from: { name: Bench, address: ${smtp.account.username} }`,
        "testEmail: { to: [admin@sandbox.test] }",
        "",
      ].join("\n"),
    );
    const ours = () =>
      runCommand(process.execPath, [bin, "test-email", declaration, "--format", "json"], { env });
    const swaks = () =>
      runCommand(swaksPath, [
        "--server",
        "127.0.0.1",
        "--port",
        String(port),
        protocol === "tls" ? "--tls-on-connect" : "--tls",
        "--tls-verify",
        "--tls-ca-path",
        join(dir, "ca.pem"),
        "--auth",
        "PLAIN",
        "--auth-user",
        smtp.account.username,
        "--auth-password",
        smtp.account.password,
        "--from",
        smtp.account.username,
        "--to",
        "admin@sandbox.test",
        "--silent",
        "2",
      ]);

    const mine = [];
    const theirs = [];
    let rss = 0;
    for (let i = 0; i < WARMUP + RUNS; i++) {
      // Interleaved, so that a noisy moment on the machine weighs on both.
      const a = await ours();
      if (a.code !== 0)
        throw new Error(`mailserver test-email failed (${protocol}): ${a.stderr || a.stdout}`);
      if (i >= WARMUP) {
        mine.push(a.ms);
        rss = Math.max(rss, a.peakRssMb ?? 0);
      }
      if (swaksPath) {
        const b = await swaks();
        if (b.code !== 0) throw new Error(`swaks failed (${protocol}): ${b.stderr || b.stdout}`);
        if (i >= WARMUP) theirs.push(b.ms);
      }
    }
    const ourMedian = median(mine);
    const swaksMedian = swaksPath ? median(theirs) : Number.NaN;
    rows.push([
      protocol === "tls" ? "implicit TLS" : "STARTTLS",
      ms(ourMedian),
      ms(percentile(mine, 90)),
      swaksPath ? ms(swaksMedian) : "n/a",
      swaksPath ? ratio(ourMedian, swaksMedian) : "n/a",
      rss ? `${rss.toFixed(0)} MB` : "n/a",
    ]);
    if (swaksPath) {
      targets.push({
        name: `${protocol}: median <= ${TARGET}x swaks`,
        ok: ourMedian <= TARGET * swaksMedian,
        detail: `${ratio(ourMedian, swaksMedian)}`,
      });
    }
  }
  const expected = 2 * (WARMUP + RUNS) * (swaksPath ? 2 : 1);
  if (smtp.messages.length !== expected) {
    throw new Error(`the sandbox received ${smtp.messages.length} messages, expected ${expected}`);
  }
  report(
    `test-email vs swaks, one message to the sandbox SMTP server (${RUNS} runs each, AUTH PLAIN)`,
    ["mode", "mailserver median", "mailserver p90", "swaks median", "ratio", "mailserver peak RSS"],
    rows,
    targets,
  );
  if (!swaksPath) console.log("- swaks is not installed (apt-get install -y swaks): no baseline measured");
} finally {
  await smtp.stop();
  await rm(dir, { recursive: true, force: true });
}
