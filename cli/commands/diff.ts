import { stat } from "node:fs/promises";
import { relative, resolve } from "node:path";
import { isOtherToolsFile } from "../../provider/declaration/find.js";
import { fileTooLarge, loadDeclarationFile, parseDeclarationBytes } from "../../provider/declaration/load.js";
import { validateParsed } from "../../provider/declaration/validate.js";
import { type ReviewSource, reviewChanges } from "../../provider/review/diff.js";
import { type ReviewFormat, renderReview } from "../../provider/review/render.js";
import { displayPath, findDeclarationFiles, loadFoundDeclaration, slashes } from "../find-declarations.js";
import { revisionFiles, verifyRevision } from "../git-revision.js";
import { type CliIO, formatOption, UsageError } from "../io.js";
import { parseCommandArgs } from "../parse-args.js";

export const usage = `Usage: mailserver diff OLD NEW [--format markdown|json|text]
       mailserver diff --base GIT_REF [PATH...] [--format markdown|json|text]

Reviews what a change to declarations does: settings added, removed and changed, field by field,
and risk flags (grant-renewal, protocol-downgrade, trust-change, sender-domain-change,
scope-expansion, recipients-change, server-switch). Secrets are shown as references, never read.

OLD and NEW are two declaration files, or two folders (files matched by relative path, then by
declaration name). With --base, the old versions are the PATHs' files at GIT_REF (read with git,
nothing checked out) and the new ones are the working tree; PATH defaults to the current folder.

Options:
  --base GIT_REF                compare the working tree with this revision (origin/main)
  --format markdown|json|text   a pull-request comment, one JSON document, or text (default)

Exit codes: 0 reviewed (with or without changes), 1 a declaration is invalid or unreadable,
2 usage error (unknown flag, path not found, not a git revision).
`;

const FORMATS = ["markdown", "json", "text"] as const;

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    format: { type: "string", default: "text" },
    base: { type: "string" },
  });
  const format: ReviewFormat = formatOption(values.format, FORMATS);

  let before: ReviewSource[];
  let after: ReviewSource[];
  if (values.base !== undefined) {
    ({ before, after } = await gitSides(values.base, positionals.length > 0 ? positionals : ["."], io.cwd));
  } else {
    if (positionals.length !== 2) throw new UsageError("give OLD and NEW, or --base GIT_REF [PATH...]");
    ({ before, after } = await pathSides(positionals[0] as string, positionals[1] as string, io.cwd));
  }
  const review = reviewChanges(before, after);
  io.stdout.write(renderReview(review, format));
  return review.invalid ? 1 : 0;
}

/** Two files, or two folders matched by relative path. */
async function pathSides(oldPath: string, newPath: string, cwd: string) {
  const [oldInfo, newInfo] = await Promise.all(
    [oldPath, newPath].map(async (path) => {
      const info = await stat(resolve(cwd, path)).catch(() => undefined);
      if (!info) throw new UsageError(`${path}: no such file or folder`);
      return info;
    }),
  );
  if (oldInfo?.isDirectory() !== newInfo?.isDirectory()) {
    throw new UsageError("OLD and NEW must both be files or both be folders");
  }
  if (!oldInfo?.isDirectory()) {
    const key = "declaration";
    return {
      before: [{ label: oldPath, key, loaded: await loadDeclarationFile(resolve(cwd, oldPath)) }],
      after: [{ label: newPath, key, loaded: await loadDeclarationFile(resolve(cwd, newPath)) }],
    };
  }
  return { before: await folderSources(oldPath, cwd), after: await folderSources(newPath, cwd) };
}

async function folderSources(folder: string, cwd: string): Promise<ReviewSource[]> {
  const root = resolve(cwd, folder);
  const sources: ReviewSource[] = [];
  for (const found of await findDeclarationFiles([root]).catch(() => [])) {
    const loaded = await loadFoundDeclaration(found);
    if (loaded) {
      sources.push({ label: displayPath(cwd, found.path), key: slashes(relative(root, found.path)), loaded });
    }
  }
  return sources;
}

/** The PATHs at GIT_REF and in the working tree. */
async function gitSides(ref: string, paths: string[], cwd: string) {
  await verifyRevision(ref, { cwd });
  const before: ReviewSource[] = [];
  for (const file of await revisionFiles(ref, paths, { cwd })) {
    const key = slashes(relative(cwd, resolve(cwd, file.path)));
    const parsed = file.bytes
      ? parseDeclarationBytes(file.bytes, `${ref}:${key}`)
      : fileTooLarge(`${ref}:${key}`);
    if (!isOtherToolsFile(parsed))
      before.push({ label: `${ref}:${key}`, key, loaded: validateParsed(parsed) });
  }
  const after: ReviewSource[] = [];
  for (const path of paths) {
    const absolute = resolve(cwd, path);
    const info = await stat(absolute).catch(() => undefined);
    if (!info) {
      // Gone from the working tree: fine if it existed at the base (its files show as removed).
      if (!before.some((source) => isUnder(source.key, slashes(relative(cwd, absolute))))) {
        throw new UsageError(`${path}: no such file or folder, here or at ${ref}`);
      }
      continue;
    }
    const found = info.isDirectory()
      ? await findDeclarationFiles([absolute]).catch(() => [])
      : [{ path: absolute, explicit: true }];
    for (const file of found) {
      const key = slashes(relative(cwd, file.path));
      if (after.some((source) => source.key === key)) continue;
      const loaded = await loadFoundDeclaration(file);
      if (loaded) after.push({ label: key, key, loaded });
    }
  }
  return { before, after };
}

function isUnder(key: string, folder: string): boolean {
  return folder === "" || folder === "." || key === folder || key.startsWith(`${folder}/`);
}
