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

/** Runs git (writing `input` to its stdin) and returns stdout as bytes; failures carry git's stderr. */
function git(args: string[], options: GitOptions, input?: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      options.git ?? "git",
      args,
      { cwd: options.cwd, encoding: "buffer", maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(Object.assign(error, { stderr: stderr.toString("utf8").trim() }));
        else resolve(stdout);
      },
    );
    if (input !== undefined) {
      // A git that exits early (bad revision, not installed) closes its stdin: the callback reports
      // that failure, so the write's EPIPE is not a second one.
      child.stdin?.on("error", () => undefined);
      child.stdin?.end(input);
    }
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
  const blobs = await readBlobs(
    entries.filter((entry) => entry.size <= MAX_DECLARATION_BYTES).map((entry) => entry.object),
    options,
  );
  return entries.map((entry) => {
    const bytes = blobs.get(entry.object);
    return { path: entry.path, size: entry.size, ...(bytes && { bytes }) };
  });
}

/**
 * The content of each blob, read by one `git cat-file --batch` (one git process, not one per file):
 * its output is, per object, a line `<id> blob <size>` then the content and a newline.
 */
async function readBlobs(objects: string[], options: GitOptions): Promise<Map<string, Buffer>> {
  const blobs = new Map<string, Buffer>();
  if (objects.length === 0) return blobs;
  const output = await git(["cat-file", "--batch"], options, `${objects.join("\n")}\n`);
  let at = 0;
  for (const object of objects) {
    const end = output.indexOf(10, at);
    const [, type, size] = output.toString("utf8", at, end).split(" ");
    if (type !== "blob") throw new Error(`git cat-file --batch: ${object} is ${type ?? "missing"}`);
    const start = end + 1;
    blobs.set(object, output.subarray(start, start + Number(size)));
    at = start + Number(size) + 1;
  }
  return blobs;
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
