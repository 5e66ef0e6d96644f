// The remedy tables in the manual against the data they document: every row of the vendor reply
// tables is in docs/smtp.md, every row of the OAuth remedy tables in docs/oauth.md, with the
// same meaning and remedy, and no row documents something the data does not have.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MICROSOFT_REMEDIES, OAUTH_ERROR_REMEDIES } from "../../provider/oauth/remedies.js";
import { GMAIL_REPLIES, OFFICE365_REPLIES } from "../../provider/smtp/replies.js";

/** The table rows of a page: cells split on unescaped pipes, escapes undone. */
function rows(page: string): string[][] {
  return readFileSync(page, "utf8")
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim().replace(/\\\|/g, "|")),
    );
}

describe("docs/smtp.md lists every known vendor reply", () => {
  const documented = rows("docs/smtp.md");
  for (const reply of [...OFFICE365_REPLIES, ...GMAIL_REPLIES]) {
    const code = `\`${reply.code ? `${reply.code} ` : ""}${reply.enhanced}\``;
    const text = reply.contains
      ? ` "${reply.contains}"`
      : reply.enhanced === "5.7.139"
        ? " (any other text)"
        : "";
    it(`${reply.vendor} ${code}${text}`, () => {
      expect(documented).toContainEqual([`${code}${text}`, reply.meaning, reply.remedy]);
    });
  }
});

describe("docs/oauth.md lists every OAuth remedy", () => {
  const documented = rows("docs/oauth.md");
  for (const entry of MICROSOFT_REMEDIES) {
    const flows = entry.flows ? entry.flows.join(" / ") : "any step";
    it(`${entry.match} (${flows})`, () => {
      expect(documented).toContainEqual([
        `\`${entry.match}\``,
        `${entry.meaning} (in: ${flows}; \`${entry.code}\`)`,
        entry.remedy,
      ]);
    });
  }
  for (const entry of OAUTH_ERROR_REMEDIES) {
    it(entry.match, () => {
      expect(documented).toContainEqual([
        `\`${entry.match}\``,
        `${entry.meaning} (\`${entry.code}\`)`,
        entry.remedy,
      ]);
    });
  }

  it("has no AADSTS row the data does not have", () => {
    const aadsts = documented.filter((cells) => /^`AADSTS\d+`$/.test(cells[0] ?? ""));
    expect(aadsts).toHaveLength(MICROSOFT_REMEDIES.length);
  });
});
