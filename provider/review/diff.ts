/**
 * The semantic diff of declarations for a pull request: which settings were added, removed or
 * changed, field by field, with the risk flags of each change. Works on loaded declarations, so
 * the callers decide where the old and new versions come from (two files, two folders, git).
 */
import { basename } from "node:path";
import type { LoadedDeclaration } from "../declaration/load.js";
import { hasErrors, type Problem } from "../declaration/problem.js";
import { RISK_CODES, type RiskCode, type RiskFlag, riskFlags } from "./flags.js";
import { REVIEW_FIELDS, type ReviewedDeclaration, type ReviewValue, reviewView, sameValue } from "./view.js";

export type { RiskCode, RiskFlag } from "./flags.js";
export type { ReviewValue } from "./view.js";

/** One version of a declaration file: where it came from and what loading it gave. */
export interface ReviewSource {
  /** What people read: a path, or `REF:path` for a git revision. */
  label: string;
  /** What matches the old and new versions of the same file (a path relative to a common root). */
  key: string;
  loaded: LoadedDeclaration;
}

export interface FieldChange {
  field: string;
  change: "added" | "removed" | "changed";
  before: ReviewValue | null;
  after: ReviewValue | null;
}

/** A problem that made one side unreviewable. */
export interface ReviewProblem extends Problem {
  side: "before" | "after";
  file: string;
}

export interface DeclarationReview {
  name: string;
  /** `invalid`: one side has errors, so no semantic diff (see problems). */
  status: "added" | "removed" | "changed" | "unchanged" | "invalid";
  before: string | null;
  after: string | null;
  /** Flags first: they are what a reviewer must not miss. */
  flags: RiskFlag[];
  changes: FieldChange[];
  problems: ReviewProblem[];
}

export interface Review {
  /** Any declaration added, removed or changed. */
  changed: boolean;
  /** Any side could not be reviewed (invalid or unreadable). */
  invalid: boolean;
  /** The distinct risk codes raised, in the order of RISK_CODES. */
  flags: RiskCode[];
  declarations: DeclarationReview[];
}

/**
 * Reviews one declaration: `before` undefined means added, `after` undefined means removed.
 * @example
 * reviewDeclaration(
 *   { label: "old.yaml", key: "corp.yaml", loaded: loadDeclarationText(oldText, "old.yaml") },
 *   { label: "corp.yaml", key: "corp.yaml", loaded: await loadDeclarationFile("corp.yaml") },
 * ).flags
 */
export function reviewDeclaration(
  before: ReviewSource | undefined,
  after: ReviewSource | undefined,
): DeclarationReview {
  const problems = [...sideProblems(before, "before"), ...sideProblems(after, "after")];
  const name =
    after?.loaded.declaration?.name ??
    before?.loaded.declaration?.name ??
    basename((after ?? before)?.key ?? "declaration").replace(/\.(ya?ml|json)$/i, "");
  const review: DeclarationReview = {
    name,
    status: "unchanged",
    before: before?.label ?? null,
    after: after?.label ?? null,
    flags: [],
    changes: [],
    problems,
  };
  if (problems.length > 0) return { ...review, status: "invalid" };
  const old = before?.loaded.declaration && reviewView(before.loaded.declaration);
  const now = after?.loaded.declaration && reviewView(after.loaded.declaration);
  review.changes = fieldChanges(old, now);
  review.flags = riskFlags(old, now);
  review.status = !old ? "added" : !now ? "removed" : review.changes.length > 0 ? "changed" : "unchanged";
  return review;
}

/**
 * Pairs old and new versions (by key, then a file that moved but kept its declaration name) and
 * reviews every pair. Unchanged declarations are kept in the result (status `unchanged`).
 */
export function reviewChanges(before: ReviewSource[], after: ReviewSource[]): Review {
  const declarations = pairSources(before, after).map(([old, now]) => reviewDeclaration(old, now));
  const raised = new Set(declarations.flatMap((review) => review.flags.map((flag) => flag.code)));
  return {
    changed: declarations.some((review) => review.status !== "unchanged" && review.status !== "invalid"),
    invalid: declarations.some((review) => review.status === "invalid"),
    flags: RISK_CODES.filter((code) => raised.has(code)),
    declarations,
  };
}

/** Old and new versions of the same declaration, in the order of the new files, removed ones last. */
function pairSources(
  before: ReviewSource[],
  after: ReviewSource[],
): Array<[ReviewSource | undefined, ReviewSource | undefined]> {
  const oldByKey = new Map(before.map((source) => [source.key, source]));
  const matched = new Map<ReviewSource, ReviewSource>();
  for (const source of after) {
    const old = oldByKey.get(source.key);
    if (old) {
      oldByKey.delete(source.key);
      matched.set(source, old);
    }
  }
  // A file that moved (or was renamed) but declares the same setting is a change, not add + remove.
  const oldByName = new Map<string, ReviewSource>();
  for (const source of oldByKey.values()) {
    const name = source.loaded.declaration?.name;
    if (name !== undefined && !oldByName.has(name)) oldByName.set(name, source);
  }
  for (const source of after) {
    const name = source.loaded.declaration?.name;
    const old = matched.has(source) || name === undefined ? undefined : oldByName.get(name);
    if (old && name !== undefined) {
      oldByName.delete(name);
      oldByKey.delete(old.key);
      matched.set(source, old);
    }
  }
  const pairs: Array<[ReviewSource | undefined, ReviewSource | undefined]> = after.map((source) => [
    matched.get(source),
    source,
  ]);
  for (const old of oldByKey.values()) pairs.push([old, undefined]);
  return pairs;
}

function fieldChanges(
  old: ReviewedDeclaration | undefined,
  now: ReviewedDeclaration | undefined,
): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const field of REVIEW_FIELDS) {
    const a = old?.fields.get(field);
    const b = now?.fields.get(field);
    if (sameValue(a, b)) continue;
    changes.push({
      field,
      change: a === undefined ? "added" : b === undefined ? "removed" : "changed",
      before: a ?? null,
      after: b ?? null,
    });
  }
  return changes;
}

function sideProblems(source: ReviewSource | undefined, side: "before" | "after"): ReviewProblem[] {
  if (!source) return [];
  const { loaded } = source;
  if (loaded.declaration && !hasErrors(loaded.problems)) return [];
  const errors = loaded.problems.filter((problem) => problem.severity === "error");
  const shown: Problem[] =
    errors.length > 0
      ? errors
      : [
          {
            severity: "error",
            code: "schema",
            message: "the declaration is not valid",
            path: "",
            line: 0,
            column: 0,
          },
        ];
  return shown.map((problem) => ({ ...problem, side, file: source.label }));
}
