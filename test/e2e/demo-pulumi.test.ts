// README's first command with the real Pulumi CLI: `npm run demo` uses it when it is in the tools
// folder or on the PATH (scripts/install-pulumi.sh builds it), and runs `pulumi up`, shows the test
// email the post-deploy hook sent, `pulumi refresh`, a drift check and `pulumi destroy`.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { pulumiCli, skipWithoutPulumi } from "../helpers/pulumi-cli.js";

const run = promisify(execFile);
const skip = skipWithoutPulumi("`npm run demo` with the real Pulumi CLI (test/e2e/demo-pulumi.test.ts)");

describe.skipIf(skip)(`npm run demo with the real pulumi CLI ${pulumiCli?.version ?? ""}`, () => {
  it("runs pulumi up, the hook's test email, refresh, a drift check and destroy on a local backend", async () => {
    const { stdout, stderr } = await run(process.execPath, ["scripts/demo.mjs"], {
      env: { ...process.env, CI: "true", PATH: `${pulumiCli?.dir}:${process.env.PATH}` },
      timeout: 300_000,
    });
    const steps = stdout.split("\n").filter((line) => line.startsWith("== "));
    expect(steps.slice(6)).toEqual([
      expect.stringMatching(/^== pulumi CLI v\d+\.\d+\.\d+ found \((tools folder|PATH): .+\): pulumi up/),
      "== pulumi up --yes",
      "== the test email, sent by the post-deploy hook, as it arrived at the sandbox SMTP server",
      "== pulumi stack output --json",
      "== pulumi refresh --yes",
      "== pulumi preview --refresh --expect-no-changes",
      "== pulumi destroy --yes",
      "== done",
    ]);
    expect(stdout).toMatch(/\+ 2 created/);
    expect(stdout).toMatch(/demo-mail: test email <[^>]+> accepted for ops@sandbox\.test/);
    expect(stdout).toMatch(/Subject: +Test email from the mail server setting "demo-mail"/);
    expect(stdout).toContain(
      "demo-mail: deleted; the identity service goes back to its built-in mail server (grant revoked)",
    );
    expect(`${stdout}${stderr}`).not.toMatch(/"refreshToken": "(?!\[secret\])/);
    // docs/pulumi.md shows a captured run of this demo (scripts/capture-walkthrough.mjs): the same steps.
    const page = readFileSync("docs/pulumi.md", "utf8");
    const captured = page.slice(
      page.indexOf("<!-- captured-run:start -->"),
      page.indexOf("<!-- captured-run:end -->"),
    );
    const pulumiSteps = (text: string) => {
      const all = text.split("\n").filter((line) => line.startsWith("== "));
      return all.slice(all.indexOf("== pulumi up --yes"));
    };
    expect(pulumiSteps(captured)).toEqual(pulumiSteps(stdout));
  }, 320_000);
});
