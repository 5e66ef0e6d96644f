import { resolve } from "node:path";
import { isAppOnlyFlow, type NormalizedOAuthAuth } from "../../provider/declaration/normalize.js";
import type { AuthorizationPrompt } from "../../provider/oauth/authorize.js";
import { type CliIO, formatOption, UsageError, writeJson } from "../io.js";
import { parseCommandArgs } from "../parse-args.js";

export const usage = `Usage: mailserver authorize DECLARATION [--flow device|loopback] [--no-browser] [--out FILE]
                          [--timeout SECONDS] [--format text|json]

Signs in and consents at the declaration's OAuth issuer, out of band, so that \`pulumi up\` only
needs the stored grant. Instructions (the device code, or the URL to open) go to stderr.

Options:
  --flow device|loopback  the flow to run (default: auth.flow, else loopback)
  --no-browser            loopback flow: only print the URL, do not open the system browser
  --out FILE              write the grant as JSON (mode 0600); reference it in the declaration as
                          auth.refreshToken: { file: FILE }
  --timeout SECONDS       give up when nobody completes the sign-in in time
                          (default: loopback 300, device until the code expires)
  --format text|json      result for people (default), or {"username","email","scopes","stored"}

With an app-only flow (auth.flow client-credentials or service-account) nobody signs in: it
obtains one token to prove the credentials, prints what was granted and stores nothing.

Stdout never carries a token. Exit codes: 0 authorized, 1 authorization failed (denied, expired,
timeout, invalid ID token, credentials refused), 2 usage error.
`;

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    flow: { type: "string" },
    "no-browser": { type: "boolean", default: false },
    out: { type: "string" },
    timeout: { type: "string" },
    format: { type: "string", default: "text" },
  });
  const format = formatOption(values.format, ["text", "json"]);
  if (values.flow !== undefined && values.flow !== "device" && values.flow !== "loopback") {
    throw new UsageError("--flow must be device or loopback");
  }
  const timeoutSeconds = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeoutSeconds !== undefined && !(Number.isFinite(timeoutSeconds) && timeoutSeconds > 0)) {
    throw new UsageError("--timeout must be a positive number of seconds");
  }
  if (positionals.length !== 1) throw new UsageError("authorize needs exactly one DECLARATION file");
  const { auth, from, baseDir } = await loadOAuthSetting(positionals[0] as string, io);
  if (isAppOnlyFlow(auth.flow)) {
    const given = ["flow", "out", "timeout", "no-browser"].filter((name) => values[name as "flow"]);
    if (given.length > 0)
      throw new UsageError(
        `--${given[0]} is not used by flow ${auth.flow}: nobody signs in and nothing is stored`,
      );
    return proveAppCredentials(auth, baseDir, io, format);
  }
  const out = values.out === undefined ? undefined : resolve(io.cwd, values.out);

  const { checkGrantWritable, writeGrantFile } = await import("../../provider/oauth/grant-file.js");
  // Before anyone signs in: a grant that cannot be stored is lost (grant-save-failed).
  if (out !== undefined) await checkGrantWritable(out);
  const { resolveSecret } = await import("../../provider/declaration/secrets.js");
  const clientSecret = auth.clientSecret
    ? await resolveSecret(auth.clientSecret, { baseDir, env: io.env, field: "auth.clientSecret" })
    : undefined;
  const { authorize, storedGrantOf } = await import("../../provider/oauth/authorize.js");
  const grant = await authorize(auth, {
    ...(clientSecret !== undefined && { clientSecret }),
    ...(values.flow !== undefined && { flow: values.flow as "device" | "loopback" }),
    prompt: (prompt) => io.stderr.write(promptText(prompt, values["no-browser"] === true)),
    noBrowser: values["no-browser"] === true,
    ...(timeoutSeconds !== undefined && { timeoutMs: Math.round(timeoutSeconds * 1000) }),
    ...(from !== undefined && { fromAddress: from }),
    // A person is at this terminal: when the issuer blocks the device flow, offer the loopback flow.
    fallbackToLoopback: io.stderr.isTTY === true,
    onFallback: (reason) => io.stderr.write(`${reason}\nTrying the loopback flow instead.\n`),
  });

  if (out !== undefined) {
    await writeGrantFile(out, `${JSON.stringify(storedGrantOf(grant), null, 2)}\n`);
  }
  const storedAs = values.out ?? null;
  if (format === "json") {
    writeJson(io, { username: grant.username, email: grant.email, scopes: grant.scope, stored: storedAs });
    return 0;
  }
  io.stdout.write(
    `Authorized as ${grant.username}${grant.email && grant.email !== grant.username ? ` (${grant.email})` : ""}\n` +
      `Scopes: ${grant.scope.join(" ")}\n` +
      (storedAs
        ? `Grant stored in ${storedAs} (mode 0600): reference it as auth.refreshToken: { file: ${storedAs} }\n`
        : ""),
  );
  if (!storedAs) io.stderr.write("The grant was not stored: run again with --out FILE to keep it.\n");
  return 0;
}

/** The line(s) a person needs: the verification URI and the user code exactly as issued, or the URL. */
function promptText(prompt: AuthorizationPrompt, noBrowser: boolean): string {
  if (prompt.kind === "device") {
    return (
      `To sign in, open ${prompt.verificationUri} and enter the code ${prompt.userCode}\n` +
      (prompt.verificationUriComplete ? `(or open ${prompt.verificationUriComplete})\n` : "") +
      `The code expires at ${prompt.expiresAt}.\n`
    );
  }
  return `${noBrowser ? "Open this URL in a browser to sign in" : "Opening the browser to sign in; if it does not open, visit"}:\n${prompt.authorizationUrl}\n`;
}

async function loadOAuthSetting(
  path: string,
  io: CliIO,
): Promise<{ auth: NormalizedOAuthAuth; from: string | undefined; baseDir: string }> {
  const { loadSetting } = await import("../load-setting.js");
  const { decl, baseDir } = await loadSetting(path, io);
  if (decl.server !== "custom" || decl.auth.method !== "oauth") {
    throw new UsageError(`${path} does not use OAuth (auth.method: oauth): there is nothing to authorize`);
  }
  return { auth: decl.auth, from: decl.from.address, baseDir };
}

/**
 * The app-only flows: one token, to prove the credentials (and the scope, and the mailbox for a
 * service account). Nothing is stored: the token is fetched again whenever one is needed.
 */
async function proveAppCredentials(
  auth: NormalizedOAuthAuth,
  baseDir: string,
  io: CliIO,
  format: string,
): Promise<number> {
  const { secretResolver } = await import("../../provider/declaration/secrets.js");
  const { obtainAppToken } = await import("../../provider/oauth/app-token.js");
  const token = await obtainAppToken(auth, { baseDir, secret: secretResolver({ baseDir, env: io.env }) });
  const granted = {
    username: auth.username ?? null,
    email: null,
    scopes: token.scope,
    stored: null,
    flow: auth.flow,
    client: token.client,
    tokenEndpoint: token.tokenEndpoint,
    expiresAt: token.expiresAt,
  };
  if (format === "json") {
    writeJson(io, granted);
    return 0;
  }
  io.stdout.write(
    `Token granted to ${token.client} by ${token.tokenEndpoint} (flow ${auth.flow})\n` +
      `Sends as: ${auth.username}\n` +
      `Scopes: ${token.scope.join(" ")}\n` +
      (token.expiresAt ? `Expires: ${token.expiresAt}\n` : "") +
      "Nothing was stored: a new token is fetched whenever one is needed.\n",
  );
  return 0;
}
