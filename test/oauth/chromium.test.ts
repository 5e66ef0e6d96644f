// The loopback flow driven by a real browser: Debian's chromium through playwright-core (never a
// downloaded browser). Requests to anything but loopback are aborted, so the OP's pages cannot
// fetch their web font from the internet.
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorize } from "../../provider/oauth/index.js";
import { type SandboxOP, startSandboxOP } from "../../sandbox/op.js";
import { rejection, sandboxAuth } from "../helpers/op-auth.js";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

// A person's machine without Debian's chromium skips these tests and says why; CI installs it
// (.ci/run), so there a missing browser fails instead of passing silently.
const browserMissing = !existsSync(CHROMIUM) && !process.env.CI;
if (browserMissing)
  console.log(`skipping the browser tests: ${CHROMIUM} is missing (apt-get install -y chromium)`);

let op: SandboxOP;
let browser: Browser;
beforeAll(async () => {
  if (browserMissing) return;
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  [op, browser] = await Promise.all([
    startSandboxOP(),
    chromium.launch({ executablePath: CHROMIUM, args: ARGS }),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await op?.stop();
});

/** Opens the authorization URL in a fresh Chromium page and signs in (or cancels) like a person. */
function person(options: { cancel?: boolean } = {}) {
  let done: Promise<string> = Promise.resolve("");
  const openBrowser = async (url: string) => {
    done = (async () => {
      const context = await browser.newContext();
      await context.route("**/*", (route) => {
        const host = new URL(route.request().url()).hostname;
        return host === "127.0.0.1" ? route.continue() : route.abort();
      });
      const page = await context.newPage();
      try {
        await page.goto(url);
        if (options.cancel) {
          await page.click("text=[ Cancel ]");
        } else {
          await page.fill('input[name="login"]', op.account.login);
          await page.fill('input[name="password"]', op.account.password);
          await page.click('button[type="submit"]');
          await page.waitForSelector('input[name="prompt"][value="consent"]', { state: "attached" });
          await page.click('button[type="submit"]');
        }
        await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/);
        await page.waitForSelector("h1");
        return (await page.textContent("body")) ?? "";
      } finally {
        await context.close();
      }
    })();
  };
  return { openBrowser, page: () => done };
}

describe.skipIf(browserMissing)("loopback flow in Chromium", () => {
  it("signs in and consents on the OP's pages; the browser sees the success page", async () => {
    const someone = person();
    const grant = await authorize(sandboxAuth(op, { flow: "loopback" }), {
      prompt: () => undefined,
      openBrowser: someone.openBrowser,
    });
    expect(grant.username).toBe(op.account.email);
    expect(await someone.page()).toContain("The mail server setting is authorized.");
  });

  it("a cancelled sign-in ends with authorization-denied and a failure page", async () => {
    const someone = person({ cancel: true });
    const error = await rejection(
      authorize(sandboxAuth(op, { flow: "loopback" }), {
        prompt: () => undefined,
        openBrowser: someone.openBrowser,
      }),
    );
    expect(error.code).toBe("authorization-denied");
    expect(await someone.page()).toContain("Authorization failed");
  });
});
