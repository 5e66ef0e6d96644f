#!/usr/bin/env node
// A full refresh-token grant with ID-token validation (signature via the OP's JWKS, iss, aud, exp)
// against the sandbox OP on loopback, against a bare fetch of the OP's discovery document measured
// in the same run (the HTTP round trip to the same server is the floor). Imports the built dist/.
import { median, ms, percentile, QUICK, ratio, report, timeRuns } from "./lib/stats.mjs";

const { startSandboxOP } = await import("../dist/sandbox/op.js");
const { sandboxAuth, sandboxGrant } = await import("../dist/sandbox/grant.js");
const { refreshGrant } = await import("../dist/provider/oauth/index.js");

process.removeAllListeners("warning");
const op = await startSandboxOP({ deviceFlowInterval: 1 });
try {
  const auth = sandboxAuth(op);
  const grant = await sandboxGrant(op);
  let refreshToken = grant.refreshToken;
  const runs = QUICK ? 5 : 200;

  const baseline = await timeRuns(
    async () => {
      const response = await fetch(`${op.issuer}/.well-known/openid-configuration`);
      await response.json();
    },
    { runs, warmup: 5 },
  );
  const refresh = await timeRuns(
    async () => {
      const result = await refreshGrant(auth, { refreshToken });
      if (!result.idTokenClaims?.email) throw new Error("no validated ID token");
      refreshToken = result.refreshToken; // rotation: the old one is dead now
    },
    { runs, warmup: 5 },
  );

  report(
    `OAuth refresh-token grant + ID-token validation (sandbox OP, ${runs} runs)`,
    ["measure", "median", "p90", "ratio to baseline"],
    [
      [
        "bare fetch of the discovery document (baseline)",
        ms(median(baseline)),
        ms(percentile(baseline, 90)),
        "1.00x",
      ],
      [
        "refreshGrant (discovery cached, rotation, ID token validated)",
        ms(median(refresh)),
        ms(percentile(refresh, 90)),
        ratio(median(refresh), median(baseline)),
      ],
    ],
  );
} finally {
  await op.stop();
}
