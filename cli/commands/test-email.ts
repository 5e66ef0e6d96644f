import { escapeLines } from "../../provider/declaration/problem.js";
import { sendTestEmail, type TestEmailReport } from "../../provider/smtp/test-email.js";
import { type CliIO, colorizer, formatOption, UsageError, writeJson } from "../io.js";
import { parseCommandArgs } from "../parse-args.js";
import { loadSmtpSetting, writeReportError } from "../smtp-setting.js";

export const usage = `Usage: mailserver test-email DECLARATION [--to ADDRESS...] [--format text|json]

Sends the test email ("Send Test Email") through the declared SMTP server: From is
from.name <from.address> (with OAuth and no from.address, the ID token's email), Reply-To only when
replyTo is set, To is testEmail.to unless --to is given. A 4xx reply is retried twice with backoff;
a 5xx reply fails at once. Secrets come from { env } and { file } references; a { config }
reference needs the Pulumi program.

Options:
  --to ADDRESS        a recipient instead of testEmail.to (repeatable)
  --format text|json  for people (default), or one JSON document on stdout

Exit codes: 0 the server accepted the message for every recipient, 1 it did not, 2 usage error.
`;

const ADDRESS = /^[^\s@<>]+@[^\s@<>]+$/;

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    to: { type: "string", multiple: true },
    format: { type: "string", default: "text" },
  });
  const format = formatOption(values.format, ["text", "json"]);
  if (positionals.length > 1) throw new UsageError("test-email takes one DECLARATION");
  const to = values.to ?? [];
  const bad = to.find((address) => !ADDRESS.test(address));
  if (bad !== undefined) throw new UsageError(`--to ${JSON.stringify(bad)} is not an email address`);
  const setting = await loadSmtpSetting(positionals[0], io, "test-email");
  if (to.length === 0 && !setting.decl.testEmail?.to.length) {
    throw new UsageError(`${positionals[0]} has no testEmail.to: pass --to ADDRESS`);
  }
  const report = await sendTestEmail(setting.decl, setting.credentials, {
    baseDir: setting.baseDir,
    ...(to.length > 0 && { to }),
  });
  if (format === "json") writeJson(io, report);
  else writeText(report, io);
  return report.ok ? 0 : 1;
}

function writeText(report: TestEmailReport, io: CliIO): void {
  const color = colorizer(io.stdout, io.env);
  const lines: string[] = [];
  if (report.ok) {
    lines.push(
      `${color.green("sent")} ${report.messageId} to ${report.accepted.join(", ")} in ${report.durationMs} ms`,
    );
  } else {
    lines.push(`${color.red("failed")} after ${report.durationMs} ms`);
    if (report.accepted.length > 0) lines.push(`  accepted  ${report.accepted.join(", ")}`);
    if (report.rejected.length > 0) lines.push(`  rejected  ${report.rejected.join(", ")}`);
  }
  if (report.response) lines.push(`  server    ${report.response}`);
  // Server replies and certificate names come from the server: no control character of theirs
  // reaches the terminal.
  io.stdout.write(`${escapeLines(lines.join("\n"))}\n`);
  writeReportError(io, report.error);
}
