import { escapeControlCharacters, type Problem } from "../../provider/declaration/problem.js";
import { type CliIO, colorizer } from "../io.js";
import { annotation } from "./github.js";

export interface FileReport {
  file: string;
  valid: boolean;
  problems: Problem[];
}

/** The `--format json` document of validate: exactly the contract's keys. */
export function problemsAsJson(files: FileReport[]) {
  return {
    valid: files.every((file) => file.valid),
    files: files.map(({ file, valid, problems }) => ({
      file,
      valid,
      problems: problems.map(({ severity, code, message, path, line, column }) => ({
        severity,
        code,
        message,
        path,
        line,
        column,
      })),
    })),
  };
}

/** GitHub Actions workflow commands: one annotation per problem, shown on the pull request's diff. */
export function problemsAsGithub(files: FileReport[]): string {
  const lines = files.flatMap(({ file, problems }) =>
    problems.map((problem) =>
      annotation(
        problem.severity,
        { file, line: problem.line, col: problem.column, title: `mailserver ${problem.code}` },
        problem.hint ? `${problem.message}. ${problem.hint}` : problem.message,
      ),
    ),
  );
  return lines.length > 0 ? `${lines.join("\n")}\n` : "";
}

/** For people: file:line:col, severity, message and code, then the hint; colors only on a TTY. */
export function problemsAsText(files: FileReport[], io: CliIO, skipped = 0): string {
  const color = colorizer(io.stdout, io.env);
  const out: string[] = [];
  for (const { file: path, problems } of files) {
    // A file name is input too: a terminal must not read its control characters.
    const file = escapeControlCharacters(path);
    for (const problem of problems) {
      const severity = problem.severity === "error" ? color.red("error") : color.yellow("warning");
      out.push(
        `${file}:${problem.line}:${problem.column}: ${severity} ${problem.message} ${color.dim(`(${problem.code})`)}`,
      );
      if (problem.hint) out.push(`  ${color.dim("hint:")} ${problem.hint}`);
    }
  }
  const errors = count(files, "error");
  const warnings = count(files, "warning");
  const invalid = files.filter((file) => !file.valid).length;
  const summary = `${files.length} ${files.length === 1 ? "declaration" : "declarations"} checked: ${
    invalid === 0 ? color.green("all valid") : color.red(`${invalid} invalid`)
  } (${errors} ${errors === 1 ? "error" : "errors"}, ${warnings} ${warnings === 1 ? "warning" : "warnings"})${
    skipped > 0 ? `; ${skipped} other ${skipped === 1 ? "file" : "files"} skipped (not declarations)` : ""
  }`;
  out.push(summary);
  return `${out.join("\n")}\n`;
}

function count(files: FileReport[], severity: Problem["severity"]): number {
  return files.reduce((sum, file) => sum + file.problems.filter((p) => p.severity === severity).length, 0);
}
