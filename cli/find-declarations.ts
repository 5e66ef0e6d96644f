import { stat } from "node:fs/promises";
import { relative, sep } from "node:path";
import { findDeclarationFilesIn, isOtherToolsFile } from "../provider/declaration/find.js";
import { type LoadedDeclaration, readDeclarationFile } from "../provider/declaration/load.js";
import { validateParsed } from "../provider/declaration/validate.js";
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

/**
 * Reads and validates a file that findDeclarationFiles gave; undefined for another tool's YAML or
 * JSON found in a folder (a file named on the command line is always validated).
 */
export async function loadFoundDeclaration({
  path,
  explicit,
}: DeclarationPath): Promise<LoadedDeclaration | undefined> {
  const parsed = await readDeclarationFile(path);
  return !explicit && isOtherToolsFile(parsed) ? undefined : validateParsed(parsed);
}

/** A path as people read it in output: relative to `cwd` when under it, with forward slashes. */
export function displayPath(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return rel.startsWith("..") ? path : slashes(rel);
}

/** A path with forward slashes, as git and the outputs write it. */
export function slashes(path: string): string {
  return sep === "/" ? path : path.split(sep).join("/");
}
