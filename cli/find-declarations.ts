import { stat } from "node:fs/promises";
import { findDeclarationFilesIn } from "../provider/declaration/find.js";

export { isOtherToolsFile } from "../provider/declaration/find.js";

import { UsageError } from "./io.js";

export interface DeclarationPath {
  path: string;
  /** Named on the command line, rather than found in a folder. */
  explicit: boolean;
}

/**
 * Expands the paths given on the command line: files as they are, folders recursively to their
 * *.yaml, *.yml and *.json files (skipping dot-folders, node_modules, Pulumi project and stack
 * files, package and tsconfig files). A path that does not exist, or a folder with no declaration,
 * is a usage error.
 */
export async function findDeclarationFiles(paths: string[]): Promise<DeclarationPath[]> {
  const files: DeclarationPath[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new UsageError(`${path}: no such file or folder`);
    if (!info.isDirectory()) {
      files.push({ path, explicit: true });
      continue;
    }
    const found = await findDeclarationFilesIn(path);
    if (found.length === 0)
      throw new UsageError(`${path}: no declarations (*.yaml, *.yml, *.json) in this folder`);
    files.push(...found.map((file) => ({ path: file, explicit: false })));
  }
  const seen = new Set<string>();
  return files.filter((file) => !seen.has(file.path) && seen.add(file.path));
}
