import type { ProblemCode } from "./problem-codes.js";

/**
 * A mistake in a declaration: collected, never thrown, and rendered only at the edge (CLI or
 * Pulumi check). `path` is a JSON pointer into the declaration; `line` and `column` are 1-based
 * positions in the source file (0 when the declaration did not come from a file).
 */
export interface Problem {
  severity: "error" | "warning";
  /** One of the registry's codes (problem-codes.json), each documented in docs/validate.md. */
  code: ProblemCode;
  message: string;
  hint?: string;
  path: string;
  line: number;
  column: number;
}

/** Turns a JSON pointer into the dotted form people read: `/auth/scopes/1` -> `auth.scopes[1]`. */
export function fieldName(pointer: string): string {
  if (pointer === "" || pointer === "/") return "(declaration)";
  return pointerSegments(pointer)
    .map((segment, index) => (/^\d+$/.test(segment) ? `[${segment}]` : index === 0 ? segment : `.${segment}`))
    .join("");
}

export function pointerSegments(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((segment) => segment.replace(/~1/g, "/").replace(/~0/g, "~"));
}

export function toPointer(segments: ReadonlyArray<string | number>): string {
  return segments.map((segment) => `/${String(segment).replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
}

export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((problem) => problem.severity === "error");
}

/**
 * A problem as one line for people: `file:line:column message (code)`, or, for a declaration given
 * as a value (no source positions), `field: message (code)` (the message alone at the top level).
 */
export function describeProblem(file: string, problem: Problem): string {
  return problem.line > 0
    ? `${file}:${problem.line}:${problem.column} ${problem.message} (${problem.code})`
    : `${problem.path === "" ? "" : `${fieldName(problem.path)}: `}${problem.message} (${problem.code})`;
}

/** The errors among the problems, each as a line (see describeProblem). */
export function describeErrors(file: string, problems: readonly Problem[]): string[] {
  return problems
    .filter((problem) => problem.severity === "error")
    .map((problem) => describeProblem(file, problem));
}
