/**
 * Drift over many declarations: observe each (bounded concurrency, a time limit per declaration,
 * so one dead server never holds up the rest), match them with the recorded state, compare.
 */
import type { LoadedDeclaration } from "../declaration/load.js";
import { type NormalizedDeclaration, normalizeDeclaration } from "../declaration/normalize.js";
import { describeErrors } from "../declaration/problem.js";
import { secretFilePath } from "../declaration/secrets.js";
import { MailServerError } from "../errors.js";
import { compare, DEFAULT_CERT_WARN_DAYS, type Finding } from "./compare.js";
import { type ObserveOptions, observe } from "./observe.js";
import type { RecordedState } from "./recorded-state.js";

/** One declaration file to check: `baseDir` is the folder its references are relative to. */
export interface DriftTarget {
  file: string;
  baseDir: string;
  loaded: LoadedDeclaration;
}

/** The result of one declaration (the `results[]` of `mailserver drift --format json`). */
export interface DriftResult {
  file: string;
  name: string;
  inSync: boolean;
  findings: Finding[];
  /** What was not checked and why (a skipped grant check, AUTH without a secret). */
  notes: string[];
  /** A configuration error that stopped the checks (invalid declaration, unresolvable secret). */
  error?: { code: string; message: string };
}

export interface DriftReport {
  /** No error finding and no configuration error anywhere (warnings allowed). */
  inSync: boolean;
  /** Some declaration could not be checked because of its configuration: exit 2. */
  configurationError: boolean;
  results: DriftResult[];
}

export interface DetectDriftOptions
  extends Pick<
    ObserveOptions,
    "env" | "fetch" | "now" | "steps" | "timeoutMs" | "grantCheck" | "serviceTest"
  > {
  state?: RecordedState;
  /** Declarations observed at once (default 8). */
  concurrency?: number;
  certWarnDays?: number;
  /** Called as each declaration finishes (progress output). */
  onResult?: (result: DriftResult) => void;
}

export const DEFAULT_CONCURRENCY = 8;

/**
 * Checks every target. Throws `state-mismatch` when a state is given and not one of its names is
 * declared (the state of another stack); anything else ends up in the results.
 * @example
 * const report = await detectDrift(targets, { state: await readRecordedState("state.json"), concurrency: 16 });
 */
export async function detectDrift(
  targets: DriftTarget[],
  options: DetectDriftOptions = {},
): Promise<DriftReport> {
  const { state } = options;
  const declaredNames = new Set(
    targets.map((target) => target.loaded.declaration?.name).filter((n) => n !== undefined),
  );
  if (state && declaredNames.size > 0 && ![...state.byName.keys()].some((name) => declaredNames.has(name))) {
    throw new MailServerError(
      "state-mismatch",
      `the state ${state.file}${state.stack ? ` (stack ${state.stack})` : ""} records ${list([...state.byName.keys()])}, none of which is declared here (${list([...declaredNames])})`,
    );
  }

  const results: DriftResult[] = new Array(targets.length);
  const grantLocks = new Map<string, Promise<unknown>>();
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const index = next++;
      const target = targets[index] as DriftTarget;
      const result = await checkOne(target, options, grantLocks);
      results[index] = result;
      options.onResult?.(result);
    }
  };
  const concurrency = Math.max(1, Math.min(options.concurrency ?? DEFAULT_CONCURRENCY, targets.length || 1));
  await Promise.all(Array.from({ length: concurrency }, worker));

  if (state) {
    for (const [name] of state.byName) {
      if (declaredNames.has(name)) continue;
      const result: DriftResult = {
        file: state.file,
        name,
        inSync: false,
        findings: [
          {
            severity: "error",
            code: "recorded-mismatch",
            field: "name",
            message: `${name} is recorded in ${state.file} but no declaration here declares it: the next pulumi up deletes it (back to the built-in mail server)`,
          },
        ],
        notes: [],
      };
      results.push(result);
      options.onResult?.(result);
    }
  }
  return {
    inSync: results.every((result) => result.inSync),
    configurationError: results.some((result) => result.error !== undefined),
    results,
  };
}

async function checkOne(
  target: DriftTarget,
  options: DetectDriftOptions,
  grantLocks: Map<string, Promise<unknown>>,
): Promise<DriftResult> {
  const { loaded } = target;
  // validateParsed sets `declaration` only when the file has no error.
  if (!loaded.declaration) {
    const errors = describeErrors(target.file, loaded.problems);
    return {
      file: target.file,
      name: target.file,
      inSync: false,
      findings: [],
      notes: [],
      error: {
        code: "declaration-invalid",
        message: `the declaration has errors: ${errors.slice(0, 3).join("; ")}${
          errors.length > 3 ? ` (and ${errors.length - 3} more)` : ""
        }; run mailserver validate ${target.file}`,
      },
    };
  }
  const declared = normalizeDeclaration(loaded.declaration);
  // Declarations that share a grant file take turns at the grant step: with rotation, the second
  // must read the token the first saved.
  const lockKey = grantFile(declared, target.baseDir);
  const grantLock = lockKey
    ? <T>(step: () => Promise<T>): Promise<T> => {
        const previous = grantLocks.get(lockKey) ?? Promise.resolve();
        const turn = previous.then(step, step);
        grantLocks.set(
          lockKey,
          turn.catch(() => undefined),
        );
        return turn;
      }
    : undefined;
  const observed = await observe(declared, {
    baseDir: target.baseDir,
    ...pick(options, ["env", "fetch", "now", "steps", "timeoutMs", "grantCheck", "serviceTest"]),
    ...(grantLock && { grantLock }),
  });
  const recorded = options.state?.byName.get(declared.name);
  const findings = compare({
    declared,
    ...(recorded && { recorded }),
    observed,
    certWarnDays: options.certWarnDays ?? DEFAULT_CERT_WARN_DAYS,
  });
  if (options.state && !recorded) {
    findings.unshift({
      severity: "error",
      code: "recorded-mismatch",
      field: "name",
      message: `${declared.name} is not recorded in ${options.state.file}: not deployed yet, or deployed by another stack`,
    });
  }
  const configError = observed.configErrors[0];
  return {
    file: target.file,
    name: declared.name,
    inSync: !configError && findings.every((finding) => finding.severity === "warning"),
    findings,
    notes: observed.notes,
    ...(configError && { error: { code: configError.code, message: configError.message } }),
  };
}

function grantFile(declared: NormalizedDeclaration, baseDir: string): string | undefined {
  if (declared.server !== "custom" || declared.auth.method !== "oauth") return undefined;
  const ref = declared.auth.refreshToken;
  return ref && "file" in ref ? secretFilePath(ref, baseDir) : undefined;
}

function pick<T extends object, K extends keyof T>(value: T, keys: K[]): Pick<T, K> {
  const picked = {} as Pick<T, K>;
  for (const key of keys) if (value[key] !== undefined) picked[key] = value[key];
  return picked;
}

function list(names: string[]): string {
  const shown = names.slice(0, 5).join(", ");
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown || "nothing";
}
