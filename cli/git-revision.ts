/**
 * Declaration files as they were at a git revision, for `mailserver diff --base REF`: listed with
 * `git ls-tree` and read with `git cat-file`, never checked out (the working tree is untouched).
 */
import { execFile } from "node:child_process";
import { posix } from "node:path";
import { DECLARATION_FILE, NOT_DECLARATIONS, SKIPPED_FOLDERS } from "../provider/declaration/find.js";
import { MAX_DECLARATION_BYTES } from "../provider/declaration/load.js";
import { UsageError } from "./io.js";

/** One file at the revision; `bytes` is undefined when it is larger than a declaration may be. */
export interface RevisionFile {
  /** Path relative to the folder git ran in, with forward slashes. */
  path: string;
  bytes?: Buffer;
  size: number;
}

export interface GitOptions {
  cwd: string;
  /** The git executable (default `git`). */
  git?: string;
}

/** Runs git and returns stdout as bytes; failures carry git's stderr. */
function git(args: string[], options: GitOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      options.git ?? "git",
      args,
      { cwd: options.cwd, encoding: "buffer", maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(Object.assign(error, { stderr: stderr.toString("utf8").trim() }));
        else resolve(stdout);
      },
    );
  });
}

/** Checks that `ref` names a commit; a usage error says how to get it when it does not. */
export async function verifyRevision(ref: string, options: GitOptions): Promise<string> {
  if (ref.startsWith("-")) throw new UsageError(`--base ${ref}: not a git revision`);
  try {
    await git(["rev-parse", "--is-inside-work-tree"], options);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === "ENOENT"
        ? "--base needs git, which is not installed"
        : `--base needs a git repository; ${options.cwd} is not in one`,
    );
  }
  try {
    return (await git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], options))
      .toString("utf8")
      .trim();
  } catch {
    throw new UsageError(
      `--base ${ref}: no such git revision here (in CI, fetch it first: git fetch origin ${ref.replace(/^origin\//, "")})`,
    );
  }
}

/**
 * The declaration files under `paths` (relative to `options.cwd`) at `ref`: *.yaml, *.yml and
 * *.json, skipping dot-folders, node_modules, dist and other tools' files, as a folder scan does.
 */
export async function revisionFiles(
  ref: string,
  paths: string[],
  options: GitOptions,
): Promise<RevisionFile[]> {
  const listing = await git(["ls-tree", "-r", "-z", "-l", ref, "--", ...paths], options);
  const entries = listing
    .toString("utf8")
    .split("\0")
    .filter((line) => line.length > 0)
    .map((line) => {
      const tab = line.indexOf("\t");
      const [, type, object, size] = line.slice(0, tab).split(/\s+/);
      return { type, object: object ?? "", size: Number(size), path: line.slice(tab + 1) };
    })
    .filter((entry) => entry.type === "blob" && isDeclarationPath(entry.path));
  const files: RevisionFile[] = [];
  for (const entry of entries) {
    if (entry.size > MAX_DECLARATION_BYTES) {
      files.push({ path: entry.path, size: entry.size });
      continue;
    }
    files.push({
      path: entry.path,
      size: entry.size,
      bytes: await git(["cat-file", "blob", entry.object], options),
    });
  }
  return files;
}

function isDeclarationPath(path: string): boolean {
  const segments = path.split("/");
  const name = segments.pop() ?? "";
  const folders = segments.filter((segment) => segment !== "..");
  // The same rule as the working tree's walker (findDeclarationFilesIn): no dot-files or dot-folders.
  if (name.startsWith(".") || folders.some((folder) => folder.startsWith(".") || SKIPPED_FOLDERS.has(folder)))
    return false;
  return DECLARATION_FILE.test(name) && !NOT_DECLARATIONS.test(posix.basename(path));
}
