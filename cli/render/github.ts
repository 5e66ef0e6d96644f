/**
 * GitHub Actions workflow commands (`::error file=...,line=...::message`), shared by the validate
 * and drift renderers so both escape the same way.
 * @see https://docs.github.com/actions/reference/workflow-commands-for-github-actions
 */

import { escapeControlCharacters } from "../../provider/declaration/problem.js";

/**
 * One annotation line. Property values and the message are escaped: a newline must not end the
 * command early, and a `:` or `,` in a file name must not end its property.
 * @example
 * annotation("error", { file: "corp.yaml", line: 3, col: 5, title: "mailserver schema" }, "smtp.port must be a number")
 */
export function annotation(
  level: "error" | "warning" | "notice",
  properties: Record<string, string | number>,
  message: string,
): string {
  const list = Object.entries(properties)
    .map(([key, value]) => `${key}=${escapeProperty(String(value))}`)
    .join(",");
  return `::${level} ${list}::${escapeData(message)}`;
}

/** `%`, CR and LF as the runner expects them; any other control character as a visible escape. */
function escapeData(text: string): string {
  return escapeControlCharacters(text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A"));
}

function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, "%3A").replace(/,/g, "%2C");
}
