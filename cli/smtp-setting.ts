// Shared by `mailserver verify` and `mailserver test-email`: read one declaration file, refuse
// what cannot be verified, resolve its credentials from env and file references, and print a
// report's failure.
import type { ResolvedSmtpCredentials } from "../provider/credentials.js";
import type { NormalizedCustomDeclaration } from "../provider/declaration/normalize.js";
import { escapeLines } from "../provider/declaration/problem.js";
import type { ReportError } from "../provider/smtp/report.js";
import { type CliIO, UsageError } from "./io.js";
import { loadSetting } from "./load-setting.js";

export interface SmtpSetting {
  /** The declaration's folder: its `file` references and smtp.tls.ca are relative to it. */
  baseDir: string;
  decl: NormalizedCustomDeclaration;
  /** Resolves the credentials (refreshing the OAuth grant), for verifySmtp and sendTestEmail. */
  credentials: () => Promise<ResolvedSmtpCredentials>;
}

/** Loads DECLARATION for a command that talks to its SMTP server. */
export async function loadSmtpSetting(
  path: string | undefined,
  io: CliIO,
  command: string,
): Promise<SmtpSetting> {
  if (!path) throw new UsageError(`${command} needs a DECLARATION file`);
  const { baseDir, decl } = await loadSetting(path, io);
  if (decl.server !== "custom") {
    throw new UsageError(`${path} declares the built-in mail server: there is no SMTP server to ${command}`);
  }
  return {
    baseDir,
    decl,
    credentials: async () => {
      // Loaded only when needed: Basic auth never loads the OAuth client.
      const { resolveSmtpCredentials } = await import("../provider/credentials.js");
      return resolveSmtpCredentials(decl, { baseDir, env: io.env });
    },
  };
}

/** A report's failure on stderr: its message (with the remedy), its code and the SMTP reply code. */
export function writeReportError(io: CliIO, error: ReportError | null): void {
  if (!error) return;
  const smtp = error.smtpCode === null ? "" : ` [SMTP ${error.smtpCode}]`;
  io.stderr.write(`mailserver: ${escapeLines(error.message)} (${error.code})${smtp}\n`);
}
