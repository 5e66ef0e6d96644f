#!/usr/bin/env node
// Reads the JSON of `pulumi preview --refresh --expect-no-changes --json` and says whether the
// live setting drifted. `--expect-no-changes` exits non-zero both for changes and for errors, so
// CI cannot tell them apart by the exit code: this script can.
//
// Usage: node check-preview.mjs PREVIEW_JSON [PULUMI_EXIT_STATUS]
// Exit codes: 0 no changes, 1 changes (drift), 2 the preview failed or its output is unreadable.
import { readFileSync } from "node:fs";

/** Operations that change nothing: a refresh reads, `same` keeps. */
const NO_CHANGE = new Set(["same", "read", "refresh", "discard"]);

export function checkPreview(text) {
  let preview;
  try {
    preview = JSON.parse(text);
  } catch {
    return { code: 2, lines: ["the preview output is not JSON: pulumi failed before it could preview"] };
  }
  const errors = (preview.diagnostics ?? []).filter((d) => d.severity === "error");
  if (errors.length > 0) {
    return {
      code: 2,
      lines: errors.map((d) => `error: ${d.urn ? `${d.urn}: ` : ""}${String(d.message ?? "").trim()}`),
    };
  }
  const changes = Object.entries(preview.changeSummary ?? {}).filter(
    ([op, count]) => !NO_CHANGE.has(op) && count > 0,
  );
  if (changes.length === 0) return { code: 0, lines: ["no changes: the live setting matches the program"] };
  const steps = (preview.steps ?? [])
    .filter((step) => !NO_CHANGE.has(step.op))
    .map((step) => `${step.op} ${step.urn}${step.diffs?.length ? ` (${step.diffs.join(", ")})` : ""}`);
  return { code: 1, lines: [`drift: ${changes.map(([op, n]) => `${n} to ${op}`).join(", ")}`, ...steps] };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, status] = process.argv.slice(2);
  if (!file) {
    console.error("usage: node check-preview.mjs PREVIEW_JSON [PULUMI_EXIT_STATUS]");
    process.exit(2);
  }
  const result = checkPreview(readFileSync(file, "utf8"));
  for (const line of result.lines) (result.code === 0 ? console.log : console.error)(line);
  // No changes yet pulumi failed: an error the JSON did not carry.
  if (result.code === 0 && status !== undefined && status !== "0") {
    console.error(`pulumi preview exited ${status} without reporting changes: treat it as an error`);
    process.exit(2);
  }
  process.exit(result.code);
}
