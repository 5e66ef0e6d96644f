import { dirname, resolve } from "node:path";
import { DEFAULT_CERT_WARN_DAYS } from "../../provider/drift/compare.js";
import { DEFAULT_CONCURRENCY, type DriftTarget, detectDrift } from "../../provider/drift/detect.js";
import { DEFAULT_OBSERVE_TIMEOUT_MS } from "../../provider/drift/observe.js";
import { type RecordedState, readRecordedState } from "../../provider/drift/recorded-state.js";
import { isMailServerError } from "../../provider/errors.js";
import { displayPath, findDeclarationFiles, loadFoundDeclaration } from "../find-declarations.js";
import { type CliIO, formatOption, UsageError, writeJson } from "../io.js";
import { parseCommandArgs } from "../parse-args.js";
import { driftAsGithub, driftAsJson, driftAsText, driftNotesAsText } from "../render/drift.js";

export const usage = `Usage: mailserver drift [PATH...] [--state FILE] [--concurrency N] [--format text|json|github]
                       [--cert-warn-days N] [--timeout SECONDS] [--service-test]

Compares the live setting with each declaration: the issuer's endpoints, whether the grant still
refreshes, the SMTP server's TLS, STARTTLS, certificate and AUTH, the email in the ID token, and
the email settings stored in the identity service (service).
PATHs are files or folders (default: the current folder). Secrets come from env and file
references. A rotated refresh token is written back to its own file reference; when that is not
possible the grant check is skipped (and the output says so). Nothing else is written.

Options:
  --state FILE          also compare with what Pulumi recorded: the JSON of
                        \`pulumi stack output --json --show-secrets\` or of \`pulumi stack export\`
  --concurrency N       declarations checked at once (default ${DEFAULT_CONCURRENCY})
  --format F            text (default), json (one document) or github (annotations)
  --cert-warn-days N    warn when the SMTP certificate expires within N days (default ${DEFAULT_CERT_WARN_DAYS})
  --timeout SECONDS     time allowed per declaration (default ${DEFAULT_OBSERVE_TIMEOUT_MS / 1000})
  --service-test        ask each identity service to send its own test email with what it stores
                        (its stored password or client secret, which it never shows): this sends
                        a message to the service's admin account

Findings: grant-revoked, endpoint-changed, issuer-unreachable, smtp-unreachable, starttls-missing,
auth-rejected, cert-changed, cert-expiring (a warning), username-mismatch, recorded-mismatch,
grant-refresh-failed, service-mismatch, service-unreachable, service-test-failed.

Exit codes: 0 in sync (warnings allowed), 1 drift found, 2 usage or configuration error (unknown
flag, path not found, invalid declaration, unresolvable secret, unreadable or foreign state file).
`;

const FORMATS = ["text", "json", "github"] as const;

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    state: { type: "string" },
    concurrency: { type: "string", default: String(DEFAULT_CONCURRENCY) },
    format: { type: "string", default: "text" },
    "cert-warn-days": { type: "string", default: String(DEFAULT_CERT_WARN_DAYS) },
    timeout: { type: "string", default: String(DEFAULT_OBSERVE_TIMEOUT_MS / 1000) },
    "service-test": { type: "boolean", default: false },
  });
  const format = formatOption(values.format, FORMATS);
  const concurrency = integer("--concurrency", values.concurrency, 1, 1024);
  const certWarnDays = integer("--cert-warn-days", values["cert-warn-days"], 0, 3650);
  const timeoutSeconds = Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0 || timeoutSeconds > 600) {
    throw new UsageError("--timeout must be a number of seconds between 0 and 600");
  }

  const paths = positionals.length > 0 ? positionals : ["."];
  const found = await findDeclarationFiles(paths.map((path) => resolve(io.cwd, path)));
  const targets: DriftTarget[] = [];
  for (const file of found) {
    const loaded = await loadFoundDeclaration(file);
    if (loaded) targets.push({ file: displayPath(io.cwd, file.path), baseDir: dirname(file.path), loaded });
  }
  if (targets.length === 0) throw new UsageError(`no declarations found in ${paths.join(" ")}`);

  let state: RecordedState | undefined;
  let report: Awaited<ReturnType<typeof detectDrift>>;
  try {
    if (values.state !== undefined) state = await readRecordedState(resolve(io.cwd, values.state));
    report = await detectDrift(targets, {
      ...(state && { state }),
      concurrency,
      certWarnDays,
      timeoutMs: Math.round(timeoutSeconds * 1000),
      env: io.env,
      serviceTest: values["service-test"] === true,
    });
  } catch (error) {
    // A state file that cannot be used is a configuration error (exit 2), not drift.
    if (isMailServerError(error) && (error.code === "state-unreadable" || error.code === "state-mismatch")) {
      io.stderr.write(`mailserver: ${error.describe()}\n`);
      return 2;
    }
    throw error;
  }

  if (format === "json") {
    writeJson(io, driftAsJson(report));
    io.stderr.write(driftNotesAsText(report));
  } else if (format === "github") io.stdout.write(driftAsGithub(report));
  else io.stdout.write(driftAsText(report, io));
  if (report.configurationError) return 2;
  return report.inSync ? 0 : 1;
}

function integer(flag: string, text: string | undefined, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}`);
  }
  return value;
}
