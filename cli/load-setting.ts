// Shared by the commands that act on one declaration (authorize, verify, test-email): read the
// file, stop at its errors, and normalize it.
import { stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { loadDeclarationFile } from "../provider/declaration/load.js";
import { type NormalizedDeclaration, normalizeDeclaration } from "../provider/declaration/normalize.js";
import { MailServerError } from "../provider/errors.js";
import { type CliIO, UsageError } from "./io.js";

export interface LoadedSetting {
  /** The absolute path of the declaration. */
  file: string;
  /** The declaration's folder: its `file` references and smtp.tls.ca are relative to it. */
  baseDir: string;
  decl: NormalizedDeclaration;
}

/**
 * Loads the DECLARATION a command was given (relative to io.cwd). A missing file is a usage
 * error; an invalid declaration throws `declaration-invalid` listing every error with its line.
 */
export async function loadSetting(path: string, io: CliIO): Promise<LoadedSetting> {
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
  return { file, baseDir: dirname(file), decl: normalizeDeclaration(loaded.declaration) };
}
