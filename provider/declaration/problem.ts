/**
 * A mistake in a declaration: collected, never thrown, and rendered only at the edge (CLI or
 * Pulumi check). `path` is a JSON pointer into the declaration; `line` and `column` are 1-based
 * positions in the source file (0 when the declaration did not come from a file).
 */
export interface Problem {
  severity: "error" | "warning";
  code: string;
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
