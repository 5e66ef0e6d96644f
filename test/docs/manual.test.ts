// The manual against the code: every code of every registry documented exactly once, links and
// anchors that resolve, README within its size, and each command's help pointing at its page.
// See docs/development.md, "Writing the manual".
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";
import { COMMANDS } from "../../cli/main.js";
import { loadDeclarationText } from "../../provider/declaration/load.js";
import { PROBLEM_CODES } from "../../provider/declaration/problem-codes.js";
import { FINDING_CODES } from "../../provider/drift/compare.js";
import { ERROR_CODES } from "../../provider/errors.js";
import { RISK_CODES } from "../../provider/review/flags.js";
import { runCli } from "../helpers/cli.js";
import {
  anchors,
  type CodeRow,
  codeTables,
  fences,
  links,
  type Page,
  ROOT,
  readManual,
  readPage,
} from "../helpers/manual.js";

const manual = readManual();
const tables = manual.flatMap(codeTables);

/** The registries whose codes the manual must list, by the kind its tables name. */
const REGISTRIES: Record<string, readonly string[]> = {
  error: Object.keys(ERROR_CODES),
  problem: Object.keys(PROBLEM_CODES),
  finding: FINDING_CODES,
  flag: RISK_CODES,
};

describe("the codes in the manual", () => {
  it("are in tables of code | meaning | remedy, each row filled in", () => {
    for (const table of tables) {
      expect(table.header.slice(0, 1), `${table.page}:${table.line}`).toEqual(["code"]);
      expect(table.header.slice(-2), `${table.page}:${table.line}`).toEqual(["meaning", "remedy"]);
      for (const row of table.rows) {
        expect(row.code, `${row.page}:${row.line}`).toMatch(/^[a-z0-9][a-z0-9-]*$/);
        expect(
          row.cells.every((cell) => cell.length > 0),
          `${row.page}:${row.line} has an empty cell`,
        ).toBe(true);
      }
    }
  });

  it("name a known kind of code", () => {
    expect(new Set(tables.map((table) => table.kind))).toEqual(new Set(Object.keys(REGISTRIES)));
  });

  it.each(Object.keys(REGISTRIES))("list every %s code exactly once, and no other", (kind) => {
    const rows = new Map<string, CodeRow[]>();
    for (const table of tables.filter((t) => t.kind === kind))
      for (const row of table.rows) rows.set(row.code, [...(rows.get(row.code) ?? []), row]);
    const registry = REGISTRIES[kind] as readonly string[];
    const undocumented = registry.filter((code) => !rows.has(code));
    const repeated = [...rows]
      .filter(([, at]) => at.length > 1)
      .map(([code, at]) => `${code} at ${where(at)}`);
    const unknown = [...rows]
      .filter(([code]) => !registry.includes(code))
      .map(([code, at]) => `${code} at ${where(at)}`);
    expect({ undocumented, repeated, unknown }).toEqual({ undocumented: [], repeated: [], unknown: [] });
  });
});

function where(rows: CodeRow[]): string {
  return rows.map((row) => `${row.page}:${row.line}`).join(", ");
}

describe("links between pages", () => {
  const byFile = new Map<string, Page>(manual.map((page) => [page.file, page]));
  const cases = manual.flatMap(links).filter((link) => !/^[a-z]+:/.test(link.href));

  it.each(cases.map((link) => [`${link.page}:${link.line} ${link.href}`, link] as const))(
    "%s resolves",
    (_, link) => {
      const [path = "", anchor] = link.href.split("#");
      const target = path === "" ? link.page : normalize(join(dirname(link.page), decodeURIComponent(path)));
      expect(existsSync(join(ROOT, target)), `${target} exists`).toBe(true);
      if (anchor !== undefined) {
        expect(target.endsWith(".md"), "anchors only into pages").toBe(true);
        const page = byFile.get(target) ?? readPage(target);
        expect([...anchors(page)]).toContain(anchor);
      }
    },
  );

  it("reach every page of docs/ from README", () => {
    const readme = new Set(links(manual[0] as Page).map((link) => link.href.split("#")[0]));
    const pages = manual.filter((page) => page.file.startsWith("docs/")).map((page) => page.file);
    expect(pages.filter((file) => !readme.has(file))).toEqual([]);
  });
});

describe("the pages of docs/", () => {
  it.each(manual.filter((page) => page.file.startsWith("docs/")).map((page) => [page.file, page] as const))(
    "%s starts with what the reader wants to do",
    (_, page) => {
      const first = page.tokens.find((token, index) => token.type === "inline" && index > 2);
      expect(first?.content).toMatch(/^You want /);
    },
  );
});

describe("README", () => {
  it("stays within 200 lines", () => {
    expect((manual[0] as Page).source.trimEnd().split("\n").length).toBeLessThanOrEqual(200);
  });

  it("has a line for every command, with its page", () => {
    const rows = [
      ...(manual[0] as Page).source.matchAll(
        /^\| `mailserver ([a-z-]+)[^|]*\|[^|]*\| \[[^\]]+\]\(docs\/([a-z-]+\.md)\) \|$/gm,
      ),
    ];
    expect(rows.map((row) => [row[1], row[2]])).toEqual(
      Object.entries(COMMANDS).map(([name, { page }]) => [name, page]),
    );
  });

  it("summarizes the benchmark figures of docs/performance.md, not other ones", () => {
    const readme = (manual[0] as Page).source;
    const section = readme.slice(readme.indexOf("## Performance"));
    const figures = [...section.matchAll(/\b\d[\d,]*(?:\.\d+)? (?:ms|MB|s)\b|\b\d+\.\d+x\b/g)].map(
      (m) => m[0],
    );
    const performance = readPage("docs/performance.md").source;
    expect(figures.length).toBeGreaterThan(5);
    expect(figures.filter((figure) => !performance.includes(figure))).toEqual([]);
    const date = /figures of (\d{4}-\d{2}-\d{2})/.exec(section)?.[1];
    expect(performance).toContain(`Figures of ${date}`);
  });
});

describe("mailserver <command> --help", () => {
  it.each(Object.entries(COMMANDS))("%s ends with the link to its page", async (name, { page }) => {
    const run = await runCli([name, "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split("\n").at(-1)).toBe(`Manual: pulumi-mailserver/docs/${page}`);
    expect(statSync(join(ROOT, "docs", page)).isFile()).toBe(true);
  });

  it("mailserver --help ends with the link to README, and docs/ ships with the package", async () => {
    const run = await runCli(["--help"]);
    expect(run.stdout.trimEnd().split("\n").at(-1)).toBe("Manual: pulumi-mailserver/README.md");
    expect(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).files).toContain("docs");
  });
});

describe("the YAML declarations shown in the manual", () => {
  const shown = manual
    .flatMap(fences)
    .filter((fence) => fence.info[0] === "yaml" && /^version: 1$/m.test(fence.content));

  it("are there (README shows one)", () => {
    expect(shown.map((fence) => fence.page)).toContain("README.md");
  });

  it.each(shown.map((fence) => [`${fence.page}:${fence.line}`, fence] as const))(
    "%s is valid, with no warning",
    (_, fence) => {
      const { problems } = loadDeclarationText(fence.content, `${fence.page}:${fence.line}`);
      expect(problems.map((problem) => `${problem.code}: ${problem.message}`)).toEqual([]);
    },
  );
});

describe("examples/", () => {
  it("mailserver validate examples/ passes with no warnings", async () => {
    const run = await runCli(["validate", "examples/", "--strict", "--format", "json"]);
    const report = JSON.parse(run.stdout) as {
      valid: boolean;
      files: Array<{ file: string; problems: unknown[] }>;
    };
    expect(report.files.filter((file) => file.problems.length > 0)).toEqual([]);
    expect(report.files.length).toBeGreaterThanOrEqual(6);
    expect(run.code).toBe(0);
  });
});
