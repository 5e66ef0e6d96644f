// Shared measuring for the benchmarks: medians, percentiles, ratios against a baseline measured
// in the same run, and peak RSS of child processes. Benchmarks are not tests: they report, and
// flag a missed target, but never fail CI.
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";

export const QUICK = process.argv.includes("--quick") || process.env.BENCH_QUICK === "1";

export function median(values) {
  return percentile(values, 50);
}

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

/** Runs `fn` `runs` times (after `warmup` runs) and returns the durations in ms. */
export async function timeRuns(fn, { runs = 20, warmup = 2 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const durations = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    durations.push(performance.now() - start);
  }
  return durations;
}

/**
 * Runs a command to completion and returns its wall time (ms), exit code and peak RSS (MB, from
 * GNU time's %M when /usr/bin/time exists, else null).
 */
export function runCommand(command, args, { cwd, env, input } = {}) {
  return new Promise((resolve, reject) => {
    const useTime = hasGnuTime();
    const start = performance.now();
    const child = spawn(
      useTime ? "/usr/bin/time" : command,
      useTime ? ["-f", "%M", command, ...args] : args,
      {
        cwd,
        env: { ...process.env, ...env },
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.stdin.end(input ?? "");
    child.on("close", (code) => {
      const ms = performance.now() - start;
      let peakRssMb = null;
      if (useTime) {
        const lines = stderr.trimEnd().split("\n");
        peakRssMb = Number(lines.pop()) / 1024;
        stderr = lines.join("\n");
      }
      resolve({ ms, code, stdout, stderr, peakRssMb });
    });
  });
}

let gnuTime;
function hasGnuTime() {
  if (gnuTime === undefined) {
    try {
      gnuTime = (require_("node:fs").statSync("/usr/bin/time").mode & 0o111) !== 0;
    } catch {
      gnuTime = false;
    }
  }
  return gnuTime;
}

import { createRequire } from "node:module";

const require_ = createRequire(import.meta.url);

/** Formats a row of a markdown table. */
export function row(cells) {
  return `| ${cells.join(" | ")} |`;
}

export function ms(value) {
  return `${value.toFixed(1)} ms`;
}

export function ratio(value, baseline) {
  return `${(value / baseline).toFixed(2)}x`;
}

/** Prints a benchmark's table and a verdict per target; returns whether every target was met. */
export function report(title, header, rows, targets = []) {
  console.log(`\n### ${title}\n`);
  console.log(row(header));
  console.log(row(header.map(() => "---")));
  for (const cells of rows) console.log(row(cells));
  let met = true;
  for (const { name, ok, detail } of targets) {
    met &&= ok;
    console.log(`- target ${name}: ${ok ? "met" : "MISSED"} (${detail})`);
  }
  return met;
}
