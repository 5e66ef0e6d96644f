/**
 * Which files in a folder are declarations: *.yaml, *.yml and *.json, found recursively, except
 * dot-files and dot-folders, node_modules and dist, and the files of other tools that live next to
 * declarations (Pulumi project and stack files, package and tsconfig files, biome.json). One rule
 * for the Pulumi program's loadDeclarations and the CLI's folder scans.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { DECLARATION_KEYS } from "./fields.js";
import type { ParsedDeclaration } from "./load.js";

export const DECLARATION_FILE = /\.(ya?ml|json)$/i;
/** Files a folder scan meets that are plainly something else than a mail server declaration. */
export const NOT_DECLARATIONS =
  /^(Pulumi(\.[^.]+)?\.ya?ml|package(-lock)?\.json|tsconfig(\.[^.]+)?\.json|biome\.json)$/;
/** Folders of build output and dependencies, never searched. */
export const SKIPPED_FOLDERS = new Set(["node_modules", "dist"]);

/**
 * The declaration files under `folder`, recursively, sorted by name within each folder.
 * @example
 * for (const file of await findDeclarationFilesIn("mailservers")) console.log(file);
 */
export async function findDeclarationFilesIn(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  const files: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith(".")) continue;
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_FOLDERS.has(entry.name)) files.push(...(await findDeclarationFilesIn(path)));
    } else if (entry.isFile() && DECLARATION_FILE.test(entry.name) && !NOT_DECLARATIONS.test(entry.name)) {
      files.push(path);
    }
  }
  return files;
}

/** Top-level fields that only a mail server declaration has (version and name are common words). */
const DECLARATION_FIELDS: readonly string[] = DECLARATION_KEYS.filter(
  (key) => key !== "version" && key !== "name",
);

/**
 * A file found in a folder that is some other tool's YAML or JSON - a CI workflow, a Kubernetes
 * manifest, a compose file, a JSON Schema, a grant written by `mailserver authorize --out` - rather
 * than a declaration with mistakes in it: a mapping with none of the declaration's own fields and
 * not `version: 1` with a `name`. A misspelt declaration still has one of them, so it is reported,
 * not skipped. Files named on the command line are never skipped.
 */
export function isOtherToolsFile({
  problems,
  value,
}: Pick<ParsedDeclaration, "problems" | "value">): boolean {
  // A file that does not even parse is reported: it may be a declaration with a syntax error.
  if (problems.length > 0) return false;
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const fields = value as Record<string, unknown>;
  if (DECLARATION_FIELDS.some((field) => field in fields)) return false;
  return !(fields.version === 1 && "name" in fields);
}
