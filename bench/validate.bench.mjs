#!/usr/bin/env node
// (a) Cold start of `mailserver validate one.yaml` against `node -e 0`: the validate path must not
//     load @pulumi/pulumi, openid-client or nodemailer (target <= 3x the bare node start).
// (b) Validating 10,000 generated declarations in one folder against a minimal script that parses
//     each file with `yaml` and checks it with the same compiled ajv schema (target <= 1.5x, peak
//     RSS < 200 MB).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, ms, QUICK, ratio, report, runCommand } from "./lib/stats.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "bin/mailserver.js");
const work = mkdtempSync(join(tmpdir(), "mailserver-bench-validate-"));

function declaration(index) {
  return `# yaml-language-server: $schema=../schema/mailserver.schema.json
version: 1
name: setting-${index}
preset: office365
auth:
  method: oauth
  clientId: 00000000-0000-0000-0000-${String(index).padStart(12, "0")}
  tenantId: 11111111-1111-1111-1111-111111111111
  scopes: [https://outlook.office365.com/SMTP.Send, openid, email, offline_access]
  username: mailer-${index}@contoso.com
  refreshToken: { file: .secrets/setting-${index}.json }
from:
  name: Notifications ${index}
  address: mailer-${index}@contoso.com
replyTo: support@contoso.com
testEmail:
  to: [ops@contoso.com]
`;
}

async function sample(command, args, runs) {
  const results = [];
  for (let i = 0; i < runs; i++) results.push(await runCommand(command, args, { cwd: root }));
  const failed = results.find((result) => result.code !== 0);
  if (failed) throw new Error(`${command} ${args.join(" ")} exited ${failed.code}: ${failed.stderr}`);
  return { ms: median(results.map((r) => r.ms)), rss: Math.max(...results.map((r) => r.peakRssMb ?? 0)) };
}

try {
  const one = join(work, "one.yaml");
  writeFileSync(one, declaration(1));
  const runs = QUICK ? 5 : 30;
  const bare = await sample(process.execPath, ["-e", "0"], runs);
  const validate = await sample(process.execPath, [cli, "validate", one], runs);
  const coldRatio = validate.ms / bare.ms;
  const coldMet = report(
    "Cold start: `mailserver validate one.yaml`",
    ["command", "median", "ratio", "peak RSS"],
    [
      ["node -e 0", ms(bare.ms), "1.00x", `${bare.rss.toFixed(0)} MB`],
      [
        "mailserver validate one.yaml",
        ms(validate.ms),
        ratio(validate.ms, bare.ms),
        `${validate.rss.toFixed(0)} MB`,
      ],
    ],
    [{ name: "<= 3x node -e 0", ok: coldRatio <= 3, detail: `${coldRatio.toFixed(2)}x` }],
  );

  const count = QUICK ? 1000 : 10_000;
  const folder = join(work, "many");
  rmSync(folder, { recursive: true, force: true });
  const { mkdirSync } = await import("node:fs");
  mkdirSync(folder);
  for (let i = 0; i < count; i++) writeFileSync(join(folder, `setting-${i}.yaml`), declaration(i));
  const baselineScript = join(root, "bench/lib/minimal-validate.mjs");
  const manyRuns = QUICK ? 1 : 5;
  const minimal = await sample(process.execPath, [baselineScript, folder], manyRuns);
  const full = await sample(process.execPath, [cli, "validate", folder, "--format", "json"], manyRuns);
  const manyRatio = full.ms / minimal.ms;
  const manyMet = report(
    `Validating ${count.toLocaleString("en")} declarations in one folder`,
    ["command", "median", "ratio", "peak RSS"],
    [
      [
        "minimal script (yaml + the same compiled ajv schema)",
        ms(minimal.ms),
        "1.00x",
        `${minimal.rss.toFixed(0)} MB`,
      ],
      [
        "mailserver validate FOLDER --format json",
        ms(full.ms),
        ratio(full.ms, minimal.ms),
        `${full.rss.toFixed(0)} MB`,
      ],
    ],
    [
      { name: "<= 1.5x the minimal script", ok: manyRatio <= 1.5, detail: `${manyRatio.toFixed(2)}x` },
      { name: "peak RSS < 200 MB", ok: full.rss < 200, detail: `${full.rss.toFixed(0)} MB` },
    ],
  );
  if (!coldMet || !manyMet) console.log("\n(some targets missed: see above)");
} finally {
  rmSync(work, { recursive: true, force: true });
}
