// Shared by `mailserver verify` and `mailserver test-email`: read one declaration file, refuse
// what cannot be verified, and resolve its credentials from env and file references.
import { stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { ResolvedSmtpCredentials } from "../provider/credentials.js";
import { loadDeclarationFile } from "../provider/declaration/load.js";
import { type NormalizedCustomDeclaration, normalizeDeclaration } from "../provider/declaration/normalize.js";
import { MailServerError } from "../provider/errors.js";
import { type CliIO, UsageError } from "./io.js";

export interface SmtpSetting {
  file: string;
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
  const file = resolve(io.cwd, path);
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw new UsageError(`${path}: no such file`);
  const loaded = await loadDeclarationFile(file);
  if (!loaded.valid || !loaded.declaration) {
    const errors = loaded.problems
      .filter((problem) => problem.severity === "error")
      .map((problem) => `  ${path}:${problem.line}:${problem.column} ${problem.message} (${problem.code})`);
    throw new MailServerError("declaration-invalid", `${path} has errors:\n${errors.join("\n")}`, {
      remedy: `Run \`mailserver validate ${path}\` and fix what it reports.`,
    });
  }
  const decl = normalizeDeclaration(loaded.declaration);
  if (decl.server !== "custom") {
    throw new UsageError(`${path} declares the built-in mail server: there is no SMTP server to ${command}`);
  }
  const baseDir = dirname(file);
  return {
    file,
    baseDir,
    decl,
    credentials: async () => {
      // Loaded only when needed: Basic auth never loads the OAuth client.
      const { resolveSmtpCredentials } = await import("../provider/credentials.js");
      return resolveSmtpCredentials(decl, { baseDir, env: io.env });
    },
  };
}
