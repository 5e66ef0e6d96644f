/**
 * Loads every declaration in a folder for the Pulumi program: one validation (the lead's
 * loadDeclarationFile), all problems of all files reported at once, nothing created when any
 * file is invalid.
 */
import { stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { findDeclarationFilesIn, isOtherToolsFile } from "./declaration/find.js";
import type { MailServerDeclaration } from "./declaration/generated/declaration.js";
import { readDeclarationFile } from "./declaration/load.js";
import { describeErrors, type Problem } from "./declaration/problem.js";
import { validateParsed } from "./declaration/validate.js";
import { MailServerError } from "./errors.js";

export interface FolderDeclaration {
  /** The file, as found under the folder. */
  file: string;
  /** Absolute folder of the file: its `file` references are relative to it. */
  baseDir: string;
  declaration: MailServerDeclaration;
  /** Warnings only (a file with an error fails the whole load). */
  problems: Problem[];
}

/**
 * Reads every *.yaml, *.yml and *.json declaration under `folder` (recursively, skipping
 * dot-files and dot-folders, node_modules, dist, other tools' files and grant files: the same
 * rules as the CLI, see provider/declaration/find.ts), validates each, and returns them sorted by
 * path. Throws
 * `declaration-invalid` naming every error when any file is invalid, and when two files declare
 * the same `name` (names are resource names). A folder without declarations gives an empty list.
 * @example
 * for (const { declaration, baseDir } of await loadDeclarations("mailservers")) {
 *   MailServer.fromDeclaration(declaration, baseDir);
 * }
 */
export async function loadDeclarations(folder: string): Promise<FolderDeclaration[]> {
  const info = await stat(folder).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new MailServerError("declaration-invalid", `${folder}: no such folder`, {
      remedy: "Create the folder, or set `pulumi config set mailserver:declarations FOLDER`.",
    });
  }
  const files = await findDeclarationFilesIn(folder);
  const loaded: FolderDeclaration[] = [];
  const errors: string[] = [];
  for (const file of files) {
    const parsed = await readDeclarationFile(file);
    // A grant from `mailserver authorize --out` or a CI workflow next to the declarations is not one.
    if (isOtherToolsFile(parsed)) continue;
    const result = validateParsed(parsed);
    if (result.declaration && result.valid) {
      loaded.push({
        file,
        baseDir: dirname(resolve(file)),
        declaration: result.declaration,
        problems: result.problems,
      });
      continue;
    }
    errors.push(...describeErrors(file, result.problems));
  }
  const byName = new Map<string, string>();
  for (const { file, declaration } of loaded) {
    const other = byName.get(declaration.name);
    if (other) errors.push(`${file}: name "${declaration.name}" is already declared by ${other}`);
    byName.set(declaration.name, file);
  }
  if (errors.length > 0) {
    throw new MailServerError(
      "declaration-invalid",
      `invalid declarations in ${folder}:\n  ${errors.join("\n  ")}`,
    );
  }
  return loaded;
}
