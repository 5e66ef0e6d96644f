#!/usr/bin/env node
import { spawnSync } from "node:child_process";
// Worst-case declarations just under the 1 MiB limit, each through `mailserver validate` as a CI
// job would run it: 80,000 unknown fields, 40,000 invalid recipients and a header injection, and
// nesting 100,000 levels deep. Baseline: validating one small declaration in the same run.
// Targets: each at most 2 s; 10,000 -> 80,000 unknown fields grows at most 10x (linear, not
// quadratic: before the fix 10,000 took 3.8 s and 80,000 took 227 s).
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, ms, QUICK, ratio, report } from "./lib/stats.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "bin/mailserver.js");
const work = mkdtempSync(join(tmpdir(), "mailserver-bench-hostile-"));

function unknownFields(count) {
  const lines = ["version: 1", "name: many", "server: builtin"];
  for (let i = 0; i < count; i++) lines.push(`k${i}: 1`);
  return `${lines.join("\n")}\n`;
}

function recipients(count) {
  const lines = [
    "version: 1",
    "name: recipients",
    "smtp: { host: smtp.example.com }",
    "auth: { method: basic, username: u, password: { env: P } }",
    'from: { name: "Ops\\r\\nBcc: x@evil.test", address: no-reply@example.com }',
    "testEmail:",
    "  to:",
  ];
  // Every other one an address with a header injection, the others not addresses at all.
  for (let i = 0; i < count; i++) lines.push(i % 2 ? `  - "u${i}@x.io\\nB"` : `  - not-an-address-${i}`);
  return `${lines.join("\n")}\n`;
}

/**
 * One run under GNU time: wall time, CPU time (user + system: on a shared machine the fairer
 * figure, since waiting for a core is not work) and peak RSS.
 */
function measure(name, file, exit) {
  const run = spawnSync("/usr/bin/time", ["-f", "%e %U %S %M", process.execPath, cli, "validate", file], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== exit) throw new Error(`${name}: exit ${run.status}, expected ${exit}: ${run.stderr}`);
  const [wall, user, system, rss] = run.stderr.trimEnd().split("\n").pop().split(" ").map(Number);
  return { ms: wall * 1000, cpuMs: (user + system) * 1000, rss: rss / 1024 };
}

const cases = [
  ["one small declaration (baseline)", "version: 1\nname: small\nserver: builtin\n", 0],
  ["10,000 unknown fields", unknownFields(10_000), 1],
  ["80,000 unknown fields", unknownFields(80_000), 1],
  ["40,000 recipients, each invalid, and a header injection", recipients(40_000), 1],
  [
    "nesting 100,000 levels deep (flow)",
    `version: 1\nname: deep\nsmtp: ${"{a: ".repeat(100_000)}x${"}".repeat(100_000)}\n`,
    1,
  ],
  ["2,000 levels of `a: ` on one line (6 KB)", `version: 1\nname: deep\nsmtp: ${"a: ".repeat(2000)}x\n`, 1],
];

try {
  const runs = QUICK ? 1 : 5;
  const results = [];
  for (const [name, text, exit] of cases) {
    const file = join(work, `${results.length}.yaml`);
    writeFileSync(file, text);
    const size = statSync(file).size;
    if (size > 1024 * 1024) throw new Error(`${name}: ${size} bytes is above the 1 MiB limit`);
    const samples = [];
    for (let i = 0; i < runs; i++) samples.push(measure(name, file, exit));
    results.push({
      name,
      size,
      ms: median(samples.map((s) => s.ms)),
      cpuMs: median(samples.map((s) => s.cpuMs)),
      rss: Math.max(...samples.map((s) => s.rss)),
    });
  }
  const [baseline, tenK, eightyK] = results;
  const growth = eightyK.ms / tenK.ms;
  const cpuGrowth = eightyK.cpuMs / tenK.cpuMs;
  const worst = results.slice(1).reduce((a, b) => (a.ms >= b.ms ? a : b));
  const met = report(
    `Worst-case declarations: \`mailserver validate FILE\` (load average ${loadavg()[0].toFixed(1)})`,
    ["declaration", "size", "median wall", "median CPU", "wall vs baseline", "peak RSS"],
    results.map((r) => [
      r.name,
      `${(r.size / 1024).toFixed(0)} KB`,
      ms(r.ms),
      ms(r.cpuMs),
      ratio(r.ms, baseline.ms),
      `${r.rss.toFixed(0)} MB`,
    ]),
    [
      {
        name: "each <= 2 s",
        ok: worst.ms <= 2000,
        detail: `slowest: ${worst.name}, ${ms(worst.ms)} wall, ${ms(worst.cpuMs)} CPU`,
      },
      {
        name: "10,000 -> 80,000 unknown fields <= 10x",
        ok: growth <= 10,
        detail: `${growth.toFixed(2)}x wall, ${cpuGrowth.toFixed(2)}x CPU`,
      },
    ],
  );
  if (!met) console.log("\n(some targets missed: see above)");
} finally {
  rmSync(work, { recursive: true, force: true });
}
