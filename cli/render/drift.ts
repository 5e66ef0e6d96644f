import { escapeLines } from "../../provider/declaration/problem.js";
import type { DriftReport } from "../../provider/drift/detect.js";
import { type CliIO, colorizer } from "../io.js";
import { annotation } from "./github.js";

/**
 * The `--format json` document of drift: exactly the contract's keys. What was not checked and
 * configuration errors go to stderr (see driftNotesAsText), so stdout stays the contract.
 */
export function driftAsJson(report: DriftReport) {
  return {
    inSync: report.inSync,
    results: report.results.map(({ file, name, inSync, findings }) => ({
      file,
      name,
      inSync,
      findings: findings.map(({ severity, code, message, field, declared, live }) => ({
        severity,
        code,
        message,
        field,
        // service-mismatch: the declared and the live value (never a secret).
        ...(code === "service-mismatch" && { declared, live }),
      })),
    })),
  };
}

/** Beside the JSON document: one line per configuration error and per check that was not made. */
export function driftNotesAsText(report: DriftReport): string {
  const lines = report.results.flatMap(({ file, name, notes, error }) => [
    ...(error ? [`mailserver drift: ${name} (${file}): ${error.message} (${error.code})`] : []),
    ...notes.map((note) => `mailserver drift: ${name} (${file}): ${note}`),
  ]);
  return lines.length > 0 ? `${escapeLines(lines.join("\n"))}\n` : "";
}

/** GitHub Actions annotations: one per finding and configuration error, notices for what was not checked. */
export function driftAsGithub(report: DriftReport): string {
  const lines: string[] = [];
  for (const { file, name, error, findings, notes } of report.results) {
    if (error) {
      lines.push(
        annotation("error", { file, title: `mailserver drift ${error.code}` }, `${name}: ${error.message}`),
      );
    }
    for (const finding of findings) {
      lines.push(
        annotation(
          finding.severity,
          { file, title: `mailserver drift ${finding.code}` },
          `${name} (${finding.field}): ${finding.message}`,
        ),
      );
    }
    for (const note of notes)
      lines.push(annotation("notice", { file, title: "mailserver drift" }, `${name}: ${note}`));
  }
  lines.push(summary(report, (text) => text));
  return `${lines.join("\n")}\n`;
}

/** For people: one block per declaration, findings then notes; colors only on a TTY. */
export function driftAsText(report: DriftReport, io: CliIO): string {
  const color = colorizer(io.stdout, io.env);
  const out: string[] = [];
  for (const result of report.results) {
    const mark = result.error
      ? color.red("config error")
      : result.inSync
        ? color.green("in sync")
        : color.red("drift");
    // Names, files, messages and notes echo declarations and servers' replies: escape them.
    const safe = escapeLines;
    out.push(`${safe(result.name)} (${safe(result.file)}): ${mark}`);
    if (result.error)
      out.push(
        `  ${color.red("error")} ${safe(result.error.message)} ${color.dim(`(${result.error.code})`)}`,
      );
    for (const finding of result.findings) {
      const severity = finding.severity === "error" ? color.red("error") : color.yellow("warning");
      out.push(`  ${severity} ${finding.field}: ${safe(finding.message)} ${color.dim(`(${finding.code})`)}`);
    }
    for (const note of result.notes) out.push(`  ${color.dim("note:")} ${safe(note)}`);
  }
  out.push(summary(report, color.bold));
  return `${out.join("\n")}\n`;
}

function summary(report: DriftReport, strong: (text: string) => string): string {
  const total = report.results.length;
  const drifted = report.results.filter((result) => !result.inSync && !result.error).length;
  const broken = report.results.filter((result) => result.error).length;
  const warnings = report.results.reduce(
    (sum, result) => sum + result.findings.filter((finding) => finding.severity === "warning").length,
    0,
  );
  const parts = [`${total - drifted - broken} in sync`, `${drifted} drifted`];
  if (broken > 0) parts.push(`${broken} not checkable (configuration)`);
  parts.push(`${warnings} ${warnings === 1 ? "warning" : "warnings"}`);
  return strong(`${total} ${total === 1 ? "declaration" : "declarations"}: ${parts.join(", ")}`);
}
