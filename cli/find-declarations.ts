import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { UsageError } from "./io.js";

export const DECLARATION_FILE = /\.(ya?ml|json)$/i;
/** Files a folder scan meets that are plainly something else than a mail server declaration. */
export const NOT_DECLARATIONS =
  /^(Pulumi(\.[^.]+)?\.ya?ml|package(-lock)?\.json|tsconfig(\.[^.]+)?\.json|biome\.json)$/;
export const SKIPPED_FOLDERS = new Set(["node_modules", "dist"]);

export interface DeclarationPath {
  path: string;
  /** Named on the command line, rather than found in a folder. */
  explicit: boolean;
}

/**
 * A file found in a folder that is some other tool's YAML (a CI workflow: `jobs` and no `version`),
 * or a grant written by `mailserver authorize --out` (`refreshToken` and no `version`), not a
 * declaration with mistakes in it. Files named on the command line are never skipped.
 */
export function isOtherToolsFile(value: unknown): boolean {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  return ("jobs" in value || "refreshToken" in value) && !("version" in value);
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
    const found = await walk(path);
    if (found.length === 0)
      throw new UsageError(`${path}: no declarations (*.yaml, *.yml, *.json) in this folder`);
    files.push(...found.map((file) => ({ path: file, explicit: false })));
  }
  const seen = new Set<string>();
  return files.filter((file) => !seen.has(file.path) && seen.add(file.path));
}

async function walk(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  const files: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith(".")) continue;
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_FOLDERS.has(entry.name)) files.push(...(await walk(path)));
    } else if (entry.isFile() && DECLARATION_FILE.test(entry.name) && !NOT_DECLARATIONS.test(entry.name)) {
      files.push(path);
    }
  }
  return files;
}
