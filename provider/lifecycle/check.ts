/**
 * `check`: the same validation as `mailserver validate` (one implementation: validateDeclarationValue),
 * returned as Pulumi check failures with property paths. No network, no secret needed.
 */
import { fieldName, toPointer } from "../declaration/problem.js";
import { validateDeclarationValue } from "../declaration/validate.js";
import { propertyPath, splitInputs } from "./state.js";

/** The engine's marker for a value not known yet (preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface CheckFailure {
  property: string;
  reason: string;
}

export interface CheckReport {
  inputs: Record<string, unknown>;
  failures: CheckFailure[];
  /** Warnings, for the resource's diagnostics (check failures are errors only). */
  warnings: string[];
}

/**
 * Validates the declaration part of a resource's inputs. During preview some values are unknown:
 * problems at or under an unknown value are not reported (the real value is checked at update).
 */
export function checkInputs(news: Record<string, unknown>): CheckReport {
  const { declaration } = splitInputs(news);
  const unknownPaths = findUnknowns(declaration, "");
  const underUnknown = (path: string) =>
    unknownPaths.some(
      (unknown) => path === unknown || path.startsWith(`${unknown}/`) || unknown.startsWith(`${path}/`),
    );
  const { problems } = validateDeclarationValue(declaration, String(declaration.name ?? "(inputs)"));
  const relevant = problems.filter((problem) => !underUnknown(problem.path));
  const failures = relevant
    .filter((problem) => problem.severity === "error")
    .map((problem) => ({
      property: propertyPath(problem.path),
      reason: `${problem.message} [${problem.code}]${problem.hint ? ` ${problem.hint}` : ""}`,
    }));
  const warnings = relevant
    .filter((problem) => problem.severity === "warning")
    .map((problem) => `${fieldName(problem.path)}: ${problem.message} [${problem.code}]`);
  return { inputs: news, failures, warnings };
}

function findUnknowns(value: unknown, pointer: string): string[] {
  if (value === UNKNOWN) return [pointer];
  if (!value || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, child]) =>
    findUnknowns(child, `${pointer}${toPointer([key])}`),
  );
}
