import { escapeLines } from "../../provider/declaration/problem.js";
import type { VerifyReport } from "../../provider/smtp/verify.js";
import { type CliIO, colorizer, formatOption, UsageError, writeJson } from "../io.js";
import { parseCommandArgs } from "../parse-args.js";
import { loadSmtpSetting, writeReportError } from "../smtp-setting.js";

export const usage = `Usage: mailserver verify DECLARATION [--format text|json]

Proves that the SMTP login works, without sending a message: connects (implicit TLS, or plain
then STARTTLS, which is required), checks the server's certificate (always; smtp.tls.ca adds trust
anchors), logs in (AUTH PLAIN or LOGIN with the password, or AUTH XOAUTH2 with an access token
from the refresh token) and says QUIT. Secrets come from { env } and { file } references; a
{ config } reference needs the Pulumi program.

Options:
  --format text|json  for people (default), or one JSON document on stdout

Exit codes: 0 the login works, 1 it does not (the error code says why), 2 usage error.
`;

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { format: { type: "string", default: "text" } });
  const format = formatOption(values.format, ["text", "json"]);
  if (positionals.length > 1) throw new UsageError("verify takes one DECLARATION");
  // Start loading the SMTP client while the declaration is read and validated.
  const smtpModule = import("../../provider/smtp/verify.js");
  const setting = await loadSmtpSetting(positionals[0], io, "verify");
  const { verifySmtp } = await smtpModule;
  const report = await verifySmtp(setting.decl, setting.credentials, { baseDir: setting.baseDir });
  if (format === "json") writeJson(io, report);
  else writeText(report, io);
  return report.ok ? 0 : 1;
}

function writeText(report: VerifyReport, io: CliIO): void {
  const color = colorizer(io.stdout, io.env);
  const where = `${report.host}:${report.port} (${report.protocol === "tls" ? "implicit TLS" : "STARTTLS"})`;
  const lines: string[] = [];
  if (report.ok) {
    lines.push(
      `${color.green("ok")} ${where} accepted the login of ${report.authenticatedAs} in ${report.durationMs} ms`,
    );
  } else {
    lines.push(`${color.red("failed")} ${where} after ${report.durationMs} ms`);
  }
  if (report.tls) {
    const expiry = `${report.tls.validTo} (${report.tls.daysLeft} days left)`;
    lines.push(
      `  TLS          ${report.tls.version} ${report.tls.cipher}`,
      `  certificate  ${report.tls.subject}`,
      `  issuer       ${report.tls.issuer}`,
      `  sha256       ${report.tls.fingerprint256}`,
      `  expires      ${report.tls.daysLeft < 14 ? color.yellow(expiry) : expiry}`,
    );
  }
  if (report.authMechanisms.length > 0) lines.push(`  AUTH         ${report.authMechanisms.join(" ")}`);
  // Server replies and certificate names come from the server: no control character of theirs
  // reaches the terminal.
  io.stdout.write(`${escapeLines(lines.join("\n"))}\n`);
  writeReportError(io, report.error);
}
