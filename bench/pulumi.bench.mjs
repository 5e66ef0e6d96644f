#!/usr/bin/env node
// The real Pulumi CLI (scripts/install-pulumi.sh builds it): `pulumi preview` of a stack with 50
// MailServers (Basic, sandbox SMTP) against a stack with 50 no-op dynamic resources, same CLI and
// run (target: at most 1.3x); `pulumi up` creating 10 Basic MailServers, with its wall time and the
// peak RSS of the whole process tree; and, once, how long the CLI took to build. Without the CLI
// it says why and measures nothing.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { watchPeakRss } from "./lib/process-tree.mjs";
import { median, QUICK, ratio, report } from "./lib/stats.mjs";

const { findPulumiCli, createPulumiProject } = await import("../dist/sandbox/pulumi-cli.js");
const { startSandboxSmtp } = await import("../dist/sandbox/smtp.js");

const cli = findPulumiCli();
if ("missing" in cli) {
  console.log(`skipped: ${cli.missing}`);
  process.exit(0);
}
const previewRuns = QUICK ? 1 : 5;
const upRuns = QUICK ? 1 : 3;
const RESOURCES = 50;
const UP_RESOURCES = 10;

const smtp = await startSandboxSmtp();
const env = { MAILSERVER_INTERACTIVE: "0", BENCH_SMTP_PASSWORD: smtp.account.password };

/** A program of COUNT Basic MailServers against the sandbox SMTP server (the count from the environment). */
const mailProgram = `import { MailServer } from "pulumi-mailserver";
const count = Number(process.env.BENCH_COUNT);
for (let i = 0; i < count; i++) {
  new MailServer(\`bench-\${i}\`, {
    smtp: { host: ${JSON.stringify(smtp.host)}, protocol: "tls", port: ${smtp.tlsPort}, tls: { ca: { file: "ca.pem" } } },
    auth: { method: "basic", username: ${JSON.stringify(smtp.account.username)}, password: { env: "BENCH_SMTP_PASSWORD" } },
    from: { address: ${JSON.stringify(smtp.account.username)} },
    testEmail: { to: ["ops@sandbox.test"], onDeploy: false },
  });
}
`;
/** The baseline: the same number of dynamic resources whose provider does nothing. */
const noopProgram = `import * as pulumi from "@pulumi/pulumi";
const noop = { async create(inputs) { return { id: "noop", outs: inputs }; } };
const count = Number(process.env.BENCH_COUNT);
for (let i = 0; i < count; i++) new pulumi.dynamic.Resource(noop, \`noop-\${i}\`, { value: i }, {});
`;

async function project(name, program, count) {
  const created = await createPulumiProject({
    cli,
    name,
    program,
    env: { ...env, BENCH_COUNT: String(count) },
  });
  await created.writeFile("ca.pem", smtp.caPem);
  return created;
}

const projects = [];
try {
  // preview: both stacks hold their resources, so every preview checks and diffs 50 of them.
  const mail = await project("bench-mail", mailProgram, RESOURCES);
  const noop = await project("bench-noop", noopProgram, RESOURCES);
  projects.push(mail, noop);
  await mail.pulumi(["up", "--yes", "--skip-preview", "--non-interactive"]);
  await noop.pulumi(["up", "--yes", "--skip-preview", "--non-interactive"]);
  const previews = { mail: [], noop: [] };
  const preview = ["preview", "--non-interactive", "--expect-no-changes"];
  await mail.pulumi(preview); // warm-up: file caches, the plugin binaries
  await noop.pulumi(preview);
  for (let i = 0; i < previewRuns; i++) {
    previews.mail.push((await mail.pulumi(preview)).ms);
    previews.noop.push((await noop.pulumi(preview)).ms);
  }
  const previewMail = median(previews.mail);
  const previewNoop = median(previews.noop);

  // up: a new stack each run, so every run creates (SMTP AUTH verified for each server).
  const ups = [];
  for (let i = 0; i < upRuns; i++) {
    const fresh = await project(`bench-up-${i}`, mailProgram, UP_RESOURCES);
    projects.push(fresh);
    let stop;
    const run = await fresh.pulumi(["up", "--yes", "--skip-preview", "--non-interactive"], {
      onSpawn: (child) => {
        stop = watchPeakRss(child.pid);
      },
    });
    ups.push({ ms: run.ms, peakMb: stop() });
  }

  const build = buildTime();
  const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;
  const met = report(
    `the real pulumi CLI ${cli.version} (${cli.source}), ${QUICK ? "quick run" : `${previewRuns} previews, ${upRuns} ups`}`,
    ["measure", "value", "baseline (same run)", "ratio"],
    [
      [
        `pulumi preview, ${RESOURCES} MailServers (median)`,
        seconds(previewMail),
        `${seconds(previewNoop)} (${RESOURCES} no-op dynamic resources)`,
        ratio(previewMail, previewNoop),
      ],
      [
        `pulumi up, ${UP_RESOURCES} Basic MailServers created (median)`,
        seconds(median(ups.map((up) => up.ms))),
        "-",
        "-",
      ],
      [
        "peak RSS of the pulumi up process tree (max)",
        `${Math.max(...ups.map((up) => up.peakMb)).toFixed(0)} MB`,
        "-",
        "-",
      ],
      ["building the CLI and language host (scripts/install-pulumi.sh, once)", build, "-", "-"],
    ],
    [
      {
        name: "preview <= 1.3x the no-op stack",
        ok: previewMail <= 1.3 * previewNoop,
        detail: ratio(previewMail, previewNoop),
      },
    ],
  );
  if (!met) console.log("(a missed target is reported, not failed: see docs/performance.md)");
} finally {
  for (const created of projects) created.remove();
  await smtp.stop();
}

/** The build's own record (tools folder), or why there is none. */
function buildTime() {
  const file = join(dirname(cli.dir), "build.json");
  if (cli.source !== "tools folder" || !existsSync(file)) return "not recorded (a CLI from the PATH)";
  const built = JSON.parse(readFileSync(file, "utf8"));
  return `${Math.round(built.seconds / 60)} min (${built.seconds} s, ${built.go}, ${built.builtAt}; modules ${built.modulesSeconds} s)`;
}
