import type { MailServerDeclaration } from "./generated/declaration.js";
import { validate as matchesSchema } from "./generated/schema-validator.js";
import type { LoadedDeclaration, ParsedDeclaration } from "./load.js";
import { boundProblems, escapeControlCharacters, fieldName, type Problem, quoteInput } from "./problem.js";
import type { ProblemCode } from "./problem-codes.js";
import { checkRules, type RuleProblem } from "./rules/index.js";

interface AjvError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
  parentSchema?: { title?: string; description?: string; properties?: Record<string, unknown> };
}

/**
 * Validates a declaration given as a value (a TypeScript program, a Pulumi resource's inputs):
 * the same schema and rules as `mailserver validate`, with line and column 0.
 */
export function validateDeclarationValue(value: unknown, file = "(inline)"): LoadedDeclaration {
  return validateParsed({ file, value, position: () => ({ line: 0, column: 0 }), problems: [] });
}

/** Validates a parsed declaration: JSON Schema first, then the named vendor rules. One implementation
 * for the CLI's validate, the Pulumi provider's check and every command that reads a declaration. */
export function validateParsed(parsed: ParsedDeclaration): LoadedDeclaration {
  const { file, position } = parsed;
  // A file that could not be parsed has its problems already; anything else that is not a mapping
  // (undefined included) is reported below, never taken as valid.
  if (parsed.problems.length > 0) return { file, valid: false, problems: parsed.problems };
  const value = parsed.value;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const at = position("");
    const problem: Problem = {
      severity: "error",
      code: "schema",
      message: "a declaration is a mapping of fields (version, name, smtp, auth, ...)",
      hint: "Start the file with `version: 1` and `name: ...`.",
      path: "",
      ...at,
    };
    return { file, valid: false, problems: [problem] };
  }
  const ruleProblems = checkRules(value as Record<string, unknown>);
  const superseded = new Set(
    ruleProblems.filter((problem) => problem.supersedesSchema).map((problem) => problem.path),
  );
  // A schema problem at or under a superseded path: look up the path and its ancestors (a set,
  // not a scan of every rule problem, so 40,000 flagged recipients stay linear).
  const isSuperseded = (path: string) => {
    for (let at = path; ; at = at.slice(0, at.lastIndexOf("/"))) {
      if (superseded.has(at)) return true;
      if (at === "") return false;
    }
  };
  const schemaErrors = matchesSchema(value)
    ? []
    : relevantSchemaErrors((matchesSchema as unknown as { errors: AjvError[] }).errors).filter(
        (error) => superseded.size === 0 || !isSuperseded(error.path),
      );
  // Every problem is placed by its offset (a cheap lookup); only the ones shown get their line,
  // column and message.
  const offset = parsed.offset ?? (() => 0);
  const placed: Array<(SchemaError | RuleProblem) & { offset: number }> = [];
  for (const error of schemaErrors)
    placed.push(Object.assign(error, { offset: offset(error.path, error.at) }));
  for (const problem of ruleProblems)
    placed.push(Object.assign(problem, { offset: offset(problem.path, problem.at) }));
  placed.sort((a, b) => a.offset - b.offset || a.code.localeCompare(b.code));
  const valid = !placed.some((problem) => problem.severity === "error");
  const problems = boundProblems(
    placed,
    (item): Problem => {
      const {
        supersedesSchema: _,
        at,
        ...problem
      } = "error" in item ? schemaErrorToProblem(item.error) : (item as RuleProblem);
      return {
        severity: problem.severity,
        code: problem.code,
        message: escapeControlCharacters(problem.message),
        ...(problem.hint !== undefined && { hint: escapeControlCharacters(problem.hint) }),
        path: problem.path,
        ...position(problem.path, at),
      };
    },
    (item) => ({
      severity: item.severity,
      code: item.code,
      path: item.path,
      ...position(item.path, item.at),
    }),
  );
  return { file, valid, ...(valid && { declaration: value as MailServerDeclaration }), problems };
}

/** An ajv error that stands for a real mistake, placed before its message is written. */
interface SchemaError {
  error: AjvError;
  severity: "error";
  code: ProblemCode;
  path: string;
  at?: "key";
}

/** ajv's errors without the noise of failed choice branches: one per real mistake. */
function relevantSchemaErrors(errors: AjvError[]): SchemaError[] {
  // anyOf/oneOf report each failed branch at the same place; one message for the whole choice is clearer.
  const choices = errors.filter((error) => error.keyword === "anyOf" || error.keyword === "oneOf");
  const isBranchNoise = (error: AjvError) =>
    choices.some(
      (choice) =>
        choice !== error &&
        error.schemaPath.startsWith(`${choice.schemaPath}/`) &&
        error.instancePath === choice.instancePath,
    );
  const kept = choices.length === 0 ? errors : errors.filter((error) => !isBranchNoise(error));
  const paths = new Set(kept.map((error) => error.instancePath));
  // A choice with an error deeper inside it is explained by that error.
  const hasDeeperError = (choice: AjvError) =>
    [...paths].some((path) => path.startsWith(`${choice.instancePath}/`));
  const seen = new Set<string>();
  const relevant: SchemaError[] = [];
  for (const error of kept) {
    if (error.keyword === "if") continue;
    if (choices.includes(error) && hasDeeperError(error)) continue;
    if (choices.length > 0) {
      // The same mistake reported by two branches reads the same: keep one.
      const key = `${error.keyword}|${error.instancePath}|${JSON.stringify(error.params)}`;
      if (seen.has(key)) continue;
      seen.add(key);
    }
    relevant.push({ error, severity: "error", ...schemaErrorPlace(error) });
  }
  return relevant;
}

/** The code and the place of a schema error (what sorting and counting need). */
function schemaErrorPlace(error: AjvError): { code: ProblemCode; path: string; at?: "key" } {
  switch (error.keyword) {
    case "additionalProperties": {
      const name = String(error.params.additionalProperty);
      return {
        code: "unknown-field",
        path: `${error.instancePath}/${name.replace(/~/g, "~0").replace(/\//g, "~1")}`,
        at: "key",
      };
    }
    case "required":
      return { code: "missing-field", path: error.instancePath };
    case "discriminator":
      return { code: "schema", path: `${error.instancePath}/method` };
    default:
      return { code: "schema", path: error.instancePath };
  }
}

function schemaErrorToProblem(error: AjvError): RuleProblem {
  const field = fieldName(error.instancePath);
  const base = { severity: "error" as const, code: "schema" as const, path: error.instancePath };
  const title = error.parentSchema?.title;
  const description = error.parentSchema?.description;
  switch (error.keyword) {
    case "additionalProperties": {
      const name = String(error.params.additionalProperty);
      const known = Object.keys(error.parentSchema?.properties ?? {});
      const suggestion = closest(name, known);
      return {
        ...base,
        code: "unknown-field",
        path: `${error.instancePath}/${name.replace(/~/g, "~0").replace(/\//g, "~1")}`,
        at: "key",
        message: `unknown field ${quoteInput(name)} ${error.instancePath === "" ? "at the top level" : `in ${field}`}`,
        hint: suggestion ? `Did you mean "${suggestion}"?` : `Known fields here: ${known.join(", ")}.`,
      };
    }
    case "required":
      return {
        ...base,
        code: "missing-field",
        message: `${error.instancePath === "" ? "the declaration" : field} lacks the required field "${String(error.params.missingProperty)}"`,
        hint: `Add ${String(error.params.missingProperty)}${error.instancePath === "" ? " at the top level" : ` to ${field}`}.`,
      };
    case "discriminator":
      return {
        ...base,
        path: `${error.instancePath}/method`,
        message: `${field}.method must be "basic" or "oauth"`,
        hint: "basic: username and password; oauth: XOAUTH2 with a refresh token.",
      };
    case "enum":
      return {
        ...base,
        message: `${field} must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`,
        ...(description && { hint: description }),
      };
    case "const":
      return { ...base, message: `${field} must be ${JSON.stringify(error.params.allowedValue)}` };
    case "minProperties":
    case "maxProperties":
      return {
        ...base,
        message: `${field} must name exactly one of env, file or config`,
        hint: "Write { env: NAME }, { file: PATH } or { config: KEY }.",
      };
    case "format":
      return {
        ...base,
        message: `${field} must be ${FORMAT_NAMES[String(error.params.format)] ?? `a valid ${String(error.params.format)}`}`,
      };
    case "anyOf":
    case "oneOf":
    case "pattern":
      return {
        ...base,
        message: `${field} is not a valid ${(title ?? "value").toLowerCase()}`,
        ...(description && { hint: description }),
      };
    case "minItems":
      return { ...base, message: `${field} must list at least ${String(error.params.limit)}` };
    case "minLength":
      return { ...base, message: `${field} must not be empty` };
    case "minimum":
    case "maximum":
      return {
        ...base,
        message: `${field} must be ${error.keyword === "minimum" ? "at least" : "at most"} ${String(error.params.limit)}`,
      };
    case "type":
      return { ...base, message: `${field} must be ${article(String(error.params.type))}` };
    default:
      return {
        ...base,
        message: `${field} ${error.message ?? "is not valid"}`,
        ...(description && { hint: description }),
      };
  }
}

const FORMAT_NAMES: Record<string, string> = {
  email: "an email address",
  uri: "an absolute URL",
  hostname: "a host name",
  ipv4: "an IPv4 address",
  ipv6: "an IPv6 address",
};

function article(type: string): string {
  const names: Record<string, string> = {
    object: "a mapping",
    array: "a list",
    string: "a string",
    integer: "an integer",
    number: "a number",
    boolean: "true or false",
  };
  return type
    .split(",")
    .map((name) => names[name] ?? name)
    .join(" or ");
}

/** The known field closest to a misspelt one, when it is close enough to be a likely typo. */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    // The distance is at least the difference in length: a long key is no typo of a short name.
    if (Math.abs(name.length - candidate.length) > Math.max(2, Math.floor(candidate.length / 3))) continue;
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (!best || distance < best.distance) best = { candidate, distance };
  }
  if (!best) return undefined;
  const allowed = Math.max(2, Math.floor(best.candidate.length / 3));
  return best.distance <= allowed ? best.candidate : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
