/**
 * A review for people and machines: Markdown ready to post as a pull-request comment (a table per
 * declaration, risk flags first), one JSON document, or plain text for a terminal. Values of
 * secrets never reach here: only their references.
 */
import { escapeLines } from "../declaration/problem.js";
import type { DeclarationReview, FieldChange, Review, ReviewValue } from "./diff.js";

/** The first line of every Markdown review: CI finds its earlier comment by it and updates it. */
export const MARKDOWN_MARKER = "<!-- mailserver-diff -->";

export type ReviewFormat = "markdown" | "json" | "text";

/**
 * Renders a review.
 * @example
 * process.stdout.write(renderReview(reviewChanges(before, after), "markdown"));
 */
export function renderReview(review: Review, format: ReviewFormat): string {
  if (format === "json") return `${JSON.stringify(reviewAsJson(review), null, 2)}\n`;
  // Declared values are input: no control character of theirs reaches a terminal or a comment.
  if (format === "markdown") return escapeLines(reviewAsMarkdown(review));
  return escapeLines(reviewAsText(review));
}

/** The JSON document of `mailserver diff --format json`. Unchanged declarations are left out. */
function reviewAsJson(review: Review) {
  return {
    changed: review.changed,
    invalid: review.invalid,
    flags: review.flags,
    declarations: shown(review).map((declaration) => ({
      name: declaration.name,
      status: declaration.status,
      before: declaration.before,
      after: declaration.after,
      flags: declaration.flags,
      changes: declaration.changes,
      problems: declaration.problems.map(({ side, file, severity, code, message, line, column }) => ({
        side,
        file,
        severity,
        code,
        message,
        line,
        column,
      })),
    })),
  };
}

function shown(review: Review): DeclarationReview[] {
  return review.declarations.filter((declaration) => declaration.status !== "unchanged");
}

function reviewAsMarkdown(review: Review): string {
  const lines = [MARKDOWN_MARKER, "## Mail server changes", ""];
  const declarations = shown(review);
  if (declarations.length === 0) {
    lines.push("No mail server declaration changes.", "");
    return lines.join("\n");
  }
  lines.push(
    summary(review, declarations, (text) => `**${text}**`, inlineCode),
    "",
  );
  for (const declaration of declarations) {
    lines.push(`### ${inlineCode(declaration.name)} (${declaration.status})`, "");
    lines.push(files(declaration, inlineCode), "");
    if (declaration.flags.length > 0) {
      lines.push("**Risk flags**", "");
      for (const flag of declaration.flags) {
        lines.push(
          `- :warning: ${inlineCode(flag.code)} (${inlineCode(flag.field)}): ${escapeText(flag.message)}`,
        );
      }
      lines.push("");
    }
    if (declaration.problems.length > 0) {
      lines.push("**Not reviewable: the declaration has errors**", "");
      lines.push("| File | Line | Code | Problem |", "| --- | --- | --- | --- |");
      for (const problem of declaration.problems) {
        lines.push(
          `| ${cell(inlineCode(problem.file))} | ${problem.line}:${problem.column} | ${cell(inlineCode(problem.code))} | ${cell(escapeText(problem.message))} |`,
        );
      }
      lines.push("");
    }
    if (declaration.changes.length > 0) {
      lines.push("| Setting | Before | After |", "| --- | --- | --- |");
      for (const change of declaration.changes) {
        lines.push(
          `| ${cell(inlineCode(change.field))} | ${cell(markdownValue(change.before))} | ${cell(markdownValue(change.after))} |`,
        );
      }
      lines.push("");
    }
  }
  lines.push("<sub>Secrets are shown as references (env, file, config), never as values.</sub>", "");
  return lines.join("\n");
}

function reviewAsText(review: Review): string {
  const declarations = shown(review);
  if (declarations.length === 0) return "No mail server declaration changes.\n";
  const plain = (text: string) => text;
  const lines: string[] = [summary(review, declarations, plain, plain), ""];
  for (const declaration of declarations) {
    lines.push(`${declaration.name} (${declaration.status})  ${files(declaration, plain)}`);
    for (const flag of declaration.flags) lines.push(`  ! ${flag.code} (${flag.field}): ${flag.message}`);
    for (const problem of declaration.problems) {
      lines.push(`  x ${problem.file}:${problem.line}:${problem.column} ${problem.code}: ${problem.message}`);
    }
    for (const change of declaration.changes) lines.push(`  ${textChange(change)}`);
    lines.push("");
  }
  return lines.join("\n");
}

function summary(
  review: Review,
  declarations: DeclarationReview[],
  strong: (text: string) => string,
  code: (text: string) => string,
): string {
  const count = (status: DeclarationReview["status"]) =>
    declarations.filter((d) => d.status === status).length;
  const parts = (["added", "changed", "removed", "invalid"] as const)
    .map((status) => [status, count(status)] as const)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${status}`);
  const flags =
    review.flags.length > 0 ? `Risk flags: ${review.flags.map(code).join(", ")}.` : "No risk flags.";
  const noun = declarations.length === 1 ? "declaration" : "declarations";
  return `${strong(String(declarations.length))} ${noun}: ${parts.join(", ")}. ${flags}`;
}

function files(declaration: DeclarationReview, code: (text: string) => string): string {
  const { before, after } = declaration;
  if (before && after) return before === after ? code(after) : `${code(before)} -> ${code(after)}`;
  return code((after ?? before) as string);
}

function textChange(change: FieldChange): string {
  const show = (value: ReviewValue | null) => (value === null ? "(not set)" : plainValue(value));
  if (change.change === "added") return `+ ${change.field}: ${show(change.after)}`;
  if (change.change === "removed") return `- ${change.field}: ${show(change.before)}`;
  return `~ ${change.field}: ${show(change.before)} -> ${show(change.after)}`;
}

function plainValue(value: ReviewValue): string {
  const text = Array.isArray(value.value) ? `[${value.value.join(", ")}]` : value.value;
  return value.secret ? `${text} (secret reference)` : text;
}

function markdownValue(value: ReviewValue | null): string {
  if (value === null) return "—";
  const text = Array.isArray(value.value) ? value.value.map(inlineCode).join(" ") : inlineCode(value.value);
  return value.secret ? `${text} (secret reference)` : text;
}

/** A code span that survives any content: a fence longer than the longest backtick run inside. */
function inlineCode(text: string): string {
  const flat = text.replace(/[\r\n]+/g, " ");
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  const pad = flat.startsWith("`") || flat.endsWith("`") || flat === "" ? " " : "";
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** Text outside code spans: no HTML, no accidental emphasis or links. */
function escapeText(text: string): string {
  return text.replace(/[\r\n]+/g, " ").replace(/[\\`*_[\]<>|&]/g, (char) => `\\${char}`);
}

/** A table cell: a pipe would end the cell, even inside a code span (GFM). */
function cell(text: string): string {
  return text.replace(/\|/g, "\\|");
}
