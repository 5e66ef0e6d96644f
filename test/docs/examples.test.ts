// examples/ has a declaration for every case of the admin console's Mail Server page (and of the
// flows and services added to it), and every one of them passes `mailserver validate` with no
// warning (test/docs/manual.test.ts).
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { MailServerDeclaration } from "../../provider/declaration/generated/declaration.js";
import { loadDeclarationFile } from "../../provider/declaration/load.js";
import { type NormalizedDeclaration, normalizeDeclaration } from "../../provider/declaration/normalize.js";
import { ROOT } from "../helpers/manual.js";

interface Example {
  file: string;
  declared: MailServerDeclaration;
  normalized: NormalizedDeclaration;
}

type Auth = Record<string, unknown> | undefined;
const auth = (example: Example): Auth => example.declared.auth as Auth;
const custom = (example: Example) =>
  example.normalized.server === "custom" ? example.normalized : undefined;
const oauth = (example: Example) => auth(example)?.method === "oauth";

/** The cases of the Mail Server page: each must be shown by at least one example. */
const CASES: Record<string, (example: Example) => boolean> = {
  "built-in mail server": (e) => e.normalized.server === "builtin",
  "custom SMTP server, Basic, TLS (465)": (e) =>
    auth(e)?.method === "basic" && custom(e)?.smtp.protocol === "tls",
  "custom SMTP server, Basic, STARTTLS (587)": (e) =>
    auth(e)?.method === "basic" && custom(e)?.smtp.protocol === "starttls",
  "OAuth, Gmail preset": (e) => oauth(e) && e.declared.preset === "gmail",
  "OAuth, Office365 preset": (e) => oauth(e) && e.declared.preset === "office365",
  "OAuth, issuer URL of another provider (Fetch Configuration)": (e) =>
    oauth(e) && e.declared.preset === undefined && auth(e)?.issuer !== undefined,
  "OAuth, endpoints entered by hand": (e) =>
    oauth(e) && auth(e)?.issuer === undefined && auth(e)?.authorizationEndpoint !== undefined,
  "OAuth, device flow": (e) => oauth(e) && auth(e)?.flow === "device",
  "OAuth app-only, client credentials (Microsoft 365)": (e) =>
    oauth(e) && auth(e)?.flow === "client-credentials",
  "OAuth app-only, service account (Google Workspace)": (e) =>
    oauth(e) && auth(e)?.flow === "service-account",
  "saved into an identity service (Keycloak)": (e) => e.declared.service?.type === "keycloak",
  "OAuth, loopback flow": (e) => oauth(e) && (auth(e)?.flow ?? "loopback") === "loopback",
  "OAuth, client secret": (e) => oauth(e) && auth(e)?.clientSecret !== undefined,
  "OAuth, public client (no secret)": (e) => oauth(e) && auth(e)?.clientSecret === undefined,
  "SMTP username and From Address from the ID token": (e) =>
    oauth(e) && auth(e)?.username === undefined && e.declared.from?.address === undefined,
  "From Name, From Address and Reply-To set": (e) =>
    e.declared.from?.name !== undefined && e.declared.from?.address !== undefined && !!e.declared.replyTo,
  'Reply-To disabled ("")': (e) => e.declared.replyTo === "",
  "extra trust anchors (a private CA)": (e) => e.declared.smtp?.tls?.ca !== undefined,
  "Send Test Email that must succeed (testEmail.required)": (e) => e.declared.testEmail?.required === true,
};

async function loadExamples(): Promise<Example[]> {
  const files = readdirSync(join(ROOT, "examples")).filter((name) => /\.(ya?ml|json)$/.test(name));
  return Promise.all(
    files.map(async (name) => {
      const loaded = await loadDeclarationFile(join(ROOT, "examples", name));
      if (!loaded.declaration) throw new Error(`examples/${name} is not valid`);
      return {
        file: name,
        declared: loaded.declaration,
        normalized: normalizeDeclaration(loaded.declaration),
      };
    }),
  );
}

describe("examples/", () => {
  it.each(Object.keys(CASES))("shows the case: %s", async (name) => {
    const examples = await loadExamples();
    expect(
      examples.filter(CASES[name] as (example: Example) => boolean).map((example) => example.file),
    ).not.toEqual([]);
  });
});
