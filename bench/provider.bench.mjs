#!/usr/bin/env node
// The Pulumi provider through @pulumi/pulumi's own dynamic provider host, as the engine drives it:
// check+diff latency per resource against a no-op dynamic provider in the same host and run (the
// protocol is the floor; target median <= 1.5x), create against the sandboxes with an existing
// grant (target p50 <= 500 ms), the serialized providers' sizes, and the host's peak RSS.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { median, percentile, QUICK, timeRuns } from "./lib/stats.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const runs = QUICK ? 10 : 200;
const createRuns = QUICK ? 3 : 30;

const { startSandboxOP, accessTokenVerifier } = await import("../dist/sandbox/op.js");
const { startSandboxSmtp } = await import("../dist/sandbox/smtp.js");
const { sandboxDeclaredAuth, writeSandboxGrant } = await import("../dist/sandbox/grant.js");
const { MailServer } = await import("../dist/provider/index.js");
const { captureRegistrations } = await import("../dist/sandbox/capture-registrations.js");
const { startEngineServer } = await import("../dist/sandbox/engine-server.js");
const { startProviderHost, urnOf } = await import("../dist/sandbox/provider-host.js");

const op = await startSandboxOP({ deviceFlowInterval: 1 });
const smtp = await startSandboxSmtp({
  verifyAccessToken: accessTokenVerifier(op),
});
const folder = mkdtempSync(join(tmpdir(), "mailserver-bench-provider-"));
writeFileSync(join(folder, "ca.pem"), smtp.caPem);

// One grant, obtained once through the OP's real pages; every create then reuses (and rotates) it.
await writeSandboxGrant(op, join(folder, "grant.json"));

const noop = {
  check: async (_olds, news) => ({ inputs: news }),
  diff: async () => ({ changes: false }),
  create: async () => ({ id: "noop", outs: {} }),
};
const registered = await captureRegistrations(async (pulumi) => [
  new MailServer(
    "bench-mail",
    {
      smtp: { host: "127.0.0.1", protocol: "tls", port: smtp.tlsPort, tls: { ca: { file: "ca.pem" } } },
      auth: sandboxDeclaredAuth(op, { refreshToken: { file: "grant.json" } }),
      from: { name: "Bench" },
      baseDir: relative(root, folder),
    },
    { testEmailHooks: false },
  ),
  new pulumi.dynamic.Resource(noop, "noop", { value: 1 }, {}),
]);

const mail = registered.find((entry) => entry.name === "bench-mail");
const baseline = registered.find((entry) => entry.name === "noop");
const engine = await startEngineServer();
const host = await startProviderHost({
  engineAddress: engine.address,
  cwd: root,
  env: { MAILSERVER_INTERACTIVE: "0" },
});
await host.configure();
const mailUrn = urnOf("bench-mail", "dev", "mailserver-demo");
const noopUrn = "urn:pulumi:dev::mailserver-demo::pulumi-nodejs:dynamic:Resource::noop";
const checkDiff = async (urn, inputs) => {
  const checked = await host.check(urn, {}, inputs);
  await host.diff(urn, "id", checked.inputs, checked.inputs);
};
const noopTimes = await timeRuns(() => checkDiff(noopUrn, baseline.inputs), { runs, warmup: 5 });
const mailTimes = await timeRuns(() => checkDiff(mailUrn, mail.inputs), { runs, warmup: 5 });
const createTimes = await timeRuns(() => host.create(mailUrn, mail.inputs), { runs: createRuns, warmup: 1 });
const peakRssMb =
  Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${host.pid}/status`, "utf8"))?.[1] ?? Number.NaN) / 1024;

await host.close();
await engine.close();
await smtp.stop();
await op.stop();
rmSync(folder, { recursive: true, force: true });

const ms = (value) => `${value.toFixed(2)} ms`;
const ratio = median(mailTimes) / median(noopTimes);
console.log(
  `\nprovider host (@pulumi/pulumi cmd/dynamic-provider), ${runs} check+diff runs, ${createRuns} creates${QUICK ? " (quick)" : ""}\n`,
);
console.log("| measure | MailServer | no-op dynamic provider | ratio | target |");
console.log("| --- | --- | --- | --- | --- |");
console.log(
  `| check+diff median | ${ms(median(mailTimes))} | ${ms(median(noopTimes))} | ${ratio.toFixed(2)}x | <= 1.5x ${ratio <= 1.5 ? "ok" : "MISSED"} |`,
);
console.log(`| check+diff p95 | ${ms(percentile(mailTimes, 95))} | ${ms(percentile(noopTimes, 95))} | | |`);
const p50 = percentile(createTimes, 50);
console.log(
  `| create with existing grant p50 | ${ms(p50)} | | | <= 500 ms ${p50 <= 500 ? "ok" : "MISSED"} |`,
);
console.log(`| create p95 | ${ms(percentile(createTimes, 95))} | | | |`);
console.log(
  `| serialized provider | ${Buffer.byteLength(mail.inputs.__provider)} B | ${Buffer.byteLength(baseline.inputs.__provider)} B | | <= 8192 B |`,
);
console.log(`| provider host peak RSS | ${peakRssMb.toFixed(1)} MB | | | |`);
