// Reads the manual (README.md and docs/*.md) with markdown-it, for the tests that hold it to the
// code: code tables, fenced blocks, headings and links. See docs/development.md, "Writing the manual".
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import GithubSlugger from "github-slugger";
import MarkdownIt from "markdown-it";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const markdown = new MarkdownIt({ html: true });
type Token = ReturnType<typeof markdown.parse>[number];

export interface Page {
  /** Relative to the repository root: `README.md`, `docs/smtp.md`. */
  file: string;
  source: string;
  tokens: Token[];
}

export interface CodeRow {
  page: string;
  /** 1-based line of the row. */
  line: number;
  code: string;
  cells: string[];
}

export interface CodeTable {
  page: string;
  line: number;
  /** What the `<!-- codes: KIND -->` comment before the table names. */
  kind: string;
  header: string[];
  rows: CodeRow[];
}

export interface Fence {
  page: string;
  line: number;
  /** The info string's words: `["sh"]`, `["sh", "norun"]`, `["json"]`. */
  info: string[];
  content: string;
}

export function readPage(file: string): Page {
  const source = readFileSync(join(ROOT, file), "utf8");
  return { file, source, tokens: markdown.parse(source, {}) };
}

/** README.md and every page of docs/. */
export function readManual(): Page[] {
  const docs = readdirSync(join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => `docs/${name}`);
  return ["README.md", ...docs].map(readPage);
}

/** The tables announced by a `<!-- codes: KIND -->` comment on the line before them. */
export function codeTables(page: Page): CodeTable[] {
  const tables: CodeTable[] = [];
  const { tokens } = page;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    const marker =
      token.type === "html_block" ? /^<!--\s*codes:\s*([a-z-]+)\s*-->/.exec(token.content) : null;
    if (!marker) continue;
    const next = tokens[i + 1];
    if (next?.type !== "table_open")
      throw new Error(
        `${page.file}:${(token.map?.[0] ?? 0) + 1}: a codes comment must stand right before its table`,
      );
    const rows = tableRows(tokens, i + 1);
    const [header, ...body] = rows;
    tables.push({
      page: page.file,
      line: (next.map?.[0] ?? 0) + 1,
      kind: marker[1] as string,
      header: header?.cells ?? [],
      rows: body.map(({ cells, line }) => ({
        page: page.file,
        line,
        code: /^`([^`]+)`$/.exec(cells[0] ?? "")?.[1] ?? (cells[0] as string),
        cells,
      })),
    });
  }
  return tables;
}

function tableRows(tokens: Token[], start: number): Array<{ cells: string[]; line: number }> {
  const rows: Array<{ cells: string[]; line: number }> = [];
  let current: { cells: string[]; line: number } | undefined;
  for (let i = start; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    if (token.type === "table_close") break;
    if (token.type === "tr_open") {
      current = { cells: [], line: (token.map?.[0] ?? 0) + 1 };
      rows.push(current);
    } else if (token.type === "inline" && current) {
      current.cells.push(token.content.trim());
    }
  }
  return rows;
}

export function fences(page: Page): Fence[] {
  return page.tokens
    .filter((token) => token.type === "fence")
    .map((token) => ({
      page: page.file,
      line: (token.map?.[0] ?? 0) + 1,
      info: token.info.trim().split(/\s+/).filter(Boolean),
      content: token.content,
    }));
}

/** The anchors GitHub makes for a page's headings (and explicit `<a id>`/`<a name>`). */
export function anchors(page: Page): Set<string> {
  const slugger = new GithubSlugger();
  const found = new Set<string>();
  page.tokens.forEach((token, index) => {
    if (token.type === "heading_open") {
      const inline = page.tokens[index + 1] as Token;
      const text = (inline.children ?? [])
        .filter((child) => child.type === "text" || child.type === "code_inline")
        .map((child) => child.content)
        .join("");
      found.add(slugger.slug(text));
    }
  });
  for (const match of page.source.matchAll(/<a (?:id|name)="([^"]+)"/g)) found.add(match[1] as string);
  return found;
}

export interface Link {
  page: string;
  line: number;
  href: string;
}

/** Every link of a page (markdown links; not bare URLs in text). */
export function links(page: Page): Link[] {
  const found: Link[] = [];
  for (const token of page.tokens) {
    if (token.type !== "inline") continue;
    for (const child of token.children ?? []) {
      const href = child.type === "link_open" ? child.attrGet("href") : null;
      if (href) found.push({ page: page.file, line: (token.map?.[0] ?? 0) + 1, href: String(href) });
    }
  }
  return found;
}
