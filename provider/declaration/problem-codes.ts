/**
 * The one registry of validation problem codes (named rules, schema and file problems), as data:
 * each code's severity, the declaration fields it concerns (dotted, as in docs/declaration.md,
 * which scripts/generate.mjs builds from this file and the schema) and a one-line summary.
 * Every code is documented once in docs/validate.md (test/docs/manual.test.ts checks it).
 */
import codes from "./problem-codes.json" with { type: "json" };

export interface ProblemCodeInfo {
  severity: "error" | "warning";
  fields: string[];
  summary: string;
}

export type ProblemCode = keyof typeof codes;

export const PROBLEM_CODES: Readonly<Record<ProblemCode, ProblemCodeInfo>> = codes as Record<
  ProblemCode,
  ProblemCodeInfo
>;
