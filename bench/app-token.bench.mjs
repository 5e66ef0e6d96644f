#!/usr/bin/env node
// The app-only flows against the delegated one, in the same run, against the same sandbox OP and
// SMTP server on loopback: what `mailserver verify` does for each - obtain a token (client
// credentials with a secret or a client assertion, a service account's JWT bearer grant; or the
// refresh-token grant with rotation written back to its grant file) and log in with XOAUTH2. The
// runs are interleaved, so load on the machine weighs on every path alike. Also: the cost of
// signing one service account JWT (jose, RS256), which the JWT bearer path pays per token.
// Target: client credentials + verify <= 1.1x the refresh-token path. Imports the built dist/.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { median, ms, percentile, QUICK, ratio, report } from "./lib/stats.mjs";

const { startSandboxOP, accessTokenVerifier } = await import("../dist/sandbox/op.js");
const { startSandboxSmtp } = await import("../dist/sandbox/smtp.js");
const { sandboxDeclaration } = await import("../dist/sandbox/declarations.js");
const { SANDBOX_APP_FILES, writeSandboxAppFiles } = await import("../dist/sandbox/app-auth.js");
const { writeSandboxGrant } = await import("../dist/sandbox/grant.js");
const { normalizeDeclaration } = await import("../dist/provider/declaration/normalize.js");
const { resolveSmtpCredentials } = await import("../dist/provider/credentials.js");
const { verifySmtp } = await import("../dist/provider/smtp/verify.js");
const { parseServiceAccountKey } = await import("../dist/provider/oauth/service-account-key.js");
const { signServiceAccountAssertion } = await import("../dist/provider/oauth/jwt-bearer.js");

process.removeAllListeners("warning");
const op = await startSandboxOP({ deviceFlowInterval: 1 });
const smtp = await startSandboxSmtp({ verifyAccessToken: accessTokenVerifier(op) });
const dir = await mkdtemp(join(tmpdir(), "mailserver-bench-app-"));
try {
  await writeFile(join(dir, "ca.pem"), smtp.caPem);
  writeSandboxAppFiles(op, dir);
  await writeSandboxGrant(op, join(dir, "grant.json"), { flow: "device" });
  const declare = (name, auth) => normalizeDeclaration(sandboxDeclaration(op, smtp, { name, auth }));
  const paths = {
    refresh: declare("refresh", { method: "oauth", flow: "device", refreshTokenFile: "grant.json" }),
    secret: declare("secret", {
      method: "oauth",
      app: { kind: "client-secret", clientSecret: { file: SANDBOX_APP_FILES.clientSecret } },
    }),
    assertion: declare("assertion", {
      method: "oauth",
      app: {
        kind: "client-assertion",
        privateKeyFile: SANDBOX_APP_FILES.privateKey,
        certificateFile: SANDBOX_APP_FILES.certificate,
      },
    }),
    serviceAccount: declare("service-account", {
      method: "oauth",
      app: { kind: "service-account", serviceAccountKey: { file: SANDBOX_APP_FILES.serviceAccountKey } },
    }),
  };
  const verifyOnce = async (decl) => {
    const result = await verifySmtp(decl, () => resolveSmtpCredentials(decl, { baseDir: dir }), {
      baseDir: dir,
    });
    if (!result.ok) throw new Error(`${decl.name}: ${result.error?.message}`);
  };

  const runs = QUICK ? 5 : 60;
  const times = Object.fromEntries(Object.keys(paths).map((key) => [key, []]));
  for (const decl of Object.values(paths)) await verifyOnce(decl); // warm-up: discovery, JWKS, TLS
  for (let i = 0; i < runs; i++) {
    for (const [key, decl] of Object.entries(paths)) {
      const start = performance.now();
      await verifyOnce(decl);
      times[key].push(performance.now() - start);
    }
  }

  const key = await parseServiceAccountKey(op.apps.serviceAccount.keyJson, "bench");
  const auth = paths.serviceAccount.auth;
  const signs = [];
  for (let i = 0; i < (QUICK ? 50 : 2000); i++) {
    const start = performance.now();
    await signServiceAccountAssertion(auth, key);
    signs.push(performance.now() - start);
  }

  const baseline = median(times.refresh);
  const target = median(times.secret) / baseline;
  report(
    `Token + XOAUTH2 verify, app-only flows vs the refresh-token grant (sandboxes, ${runs} interleaved runs each)`,
    ["path", "median", "p90", "ratio to refresh-token path"],
    [
      [
        "refresh-token grant (rotation written back) + verify (baseline)",
        ms(baseline),
        ms(percentile(times.refresh, 90)),
        "1.00x",
      ],
      [
        "client credentials, client secret + verify",
        ms(median(times.secret)),
        ms(percentile(times.secret, 90)),
        ratio(median(times.secret), baseline),
      ],
      [
        "client credentials, client assertion (x5t) + verify",
        ms(median(times.assertion)),
        ms(percentile(times.assertion, 90)),
        ratio(median(times.assertion), baseline),
      ],
      [
        "service account JWT bearer grant + verify",
        ms(median(times.serviceAccount)),
        ms(percentile(times.serviceAccount, 90)),
        ratio(median(times.serviceAccount), baseline),
      ],
      [
        "signing one service account JWT (jose, RS256 2048-bit)",
        ms(median(signs)),
        ms(percentile(signs, 90)),
        "",
      ],
    ],
    [{ name: "client credentials + verify <= 1.1x", ok: target <= 1.1, detail: `${target.toFixed(2)}x` }],
  );
} finally {
  await smtp.stop();
  await op.stop();
  await rm(dir, { recursive: true, force: true });
}
