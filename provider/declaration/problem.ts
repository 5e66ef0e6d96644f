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

/**
 * Characters that must never reach a terminal, a CI log or an annotation as they are: C0 and C1
 * controls (ESC starts terminal sequences; CR and LF would start a new log line, which a CI runner
 * may read as a command), DEL, and the bidirectional overrides that reorder what a reader sees.
 */
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * The text with every unsafe character written as a visible escape (`\x1b`, `\n`, `\u202e`), so
 * that an input value can be echoed in any output. Text without them is returned as is.
 */
export function escapeControlCharacters(text: string): string {
  return text.replace(UNSAFE_CHARACTERS, (character) => {
    const code = character.charCodeAt(0);
    if (character === "\n") return "\\n";
    if (character === "\r") return "\\r";
    if (character === "\t") return "\\t";
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16)}`;
  });
}

/** Multi-line text with each line escaped (see escapeControlCharacters): the line breaks are kept. */
export function escapeLines(text: string): string {
  return text.split("\n").map(escapeControlCharacters).join("\n");
}

/** An input value quoted for a message: escaped, and cut to `max` characters (an ellipsis says so). */
export function quoteInput(value: string, max = 80): string {
  const cut = value.length > max ? `${value.slice(0, max)}…` : value;
  return `"${escapeControlCharacters(cut)}"`;
}

/** At most this many problems are listed per file; the rest are counted (see boundProblems). */
export const MAX_PROBLEMS_PER_FILE = 100;

const PLURALS: Record<string, string> = {
  "unknown-field": "unknown fields",
  "duplicate-key": "duplicate keys",
  "header-injection": "header injections",
  "yaml-syntax": "YAML syntax errors",
  "missing-field": "missing fields",
};

/** Where a problem is and what kind it is: enough to sort and count it without its message. */
export type PlacedProblem = Omit<Problem, "message" | "hint">;

/**
 * The first `max` problems (already in source order), each rendered with its message, then one
 * problem (code `more-problems`, at the first one left out) that counts the rest: "and 79,950 more
 * unknown fields". Messages are only built for what is shown, so every output stays linear in the
 * size of the input, and readable.
 */
export function boundProblems<T extends Pick<Problem, "severity" | "code">>(
  problems: readonly T[],
  render: (problem: T) => Problem,
  place: (problem: T) => PlacedProblem = render,
  max = MAX_PROBLEMS_PER_FILE,
): Problem[] {
  const shown = problems.slice(0, max).map(render);
  if (problems.length <= max) return shown;
  const byCode = new Map<string, number>();
  let errors = false;
  for (let i = max; i < problems.length; i++) {
    const { code, severity } = problems[i] as T;
    byCode.set(code, (byCode.get(code) ?? 0) + 1);
    errors ||= severity === "error";
  }
  const left = problems.length - max;
  const count = (n: number) => n.toLocaleString("en-US");
  const [onlyCode] = byCode.keys();
  const message =
    byCode.size === 1 && onlyCode !== undefined
      ? `and ${count(left)} more ${PLURALS[onlyCode] ?? `problems (${onlyCode})`}`
      : `and ${count(left)} more problems (${[...byCode]
          .map(([code, n]) => `${count(n)} ${code}`)
          .join(", ")})`;
  const first = place(problems[max] as T);
  return [
    ...shown,
    {
      severity: errors ? "error" : "warning",
      code: "more-problems" as const,
      message,
      hint: `Only the first ${max} problems of a file are listed; fix those and validate again.`,
      path: first.path,
      line: first.line,
      column: first.column,
    },
  ];
}
