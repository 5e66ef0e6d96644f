// Hostile declarations (from a fuzzing run of 3,300 mutated files): nesting that overflowed the YAML
// library's stack, problem lists that grew quadratically, and control characters echoed as they were.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadDeclarationFile, loadDeclarationText } from "../../provider/declaration/load.js";
import { MAX_NESTING_DEPTH } from "../../provider/declaration/parse-yaml.js";
import { MAX_PROBLEMS_PER_FILE } from "../../provider/declaration/problem.js";
import {
  deepFlow,
  deepOneLine,
  injectedRecipients,
  UNESCAPED_CONTROL,
  unknownFields,
} from "../helpers/bad-input.js";
import { runCli } from "../helpers/cli.js";

let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "mailserver-hostile-"));
});

describe("nesting beyond a sane depth", () => {
  it("is a too-deep problem with its line, not a stack overflow (one line of 2,000 `a: `)", () => {
    const text = deepOneLine();
    expect(text.length).toBeLessThan(7000);
    const result = loadDeclarationText(text, "deep.yaml");
    expect(result.problems).toEqual([
      expect.objectContaining({ code: "too-deep", severity: "error", line: 3 }),
    ]);
    expect(result.problems[0]?.message).toBe(
      `the YAML nests more than ${MAX_NESTING_DEPTH} levels deep; a declaration needs four`,
    );
  });

  it("the same for flow collections and JSON, at any depth", () => {
    for (const text of [
      deepFlow(2000),
      deepFlow(100_000),
      `{"version":1,"name":"deep","smtp":${'{"a":'.repeat(5000)}1${"}".repeat(5000)}}`,
      `version: 1\nname: deep\nsmtp: ${"[".repeat(50_000)}${"]".repeat(50_000)}\n`,
    ]) {
      expect(loadDeclarationText(text, "deep.yaml").problems.map((p) => p.code)).toEqual(["too-deep"]);
    }
  });

  it("and through aliases that nest a collection in itself", () => {
    const text = `a: &a ${"[".repeat(20)}x${"]".repeat(20)}\nb: ${"[".repeat(20)}*a${"]".repeat(20)}\n`;
    const result = loadDeclarationText(text, "alias.yaml");
    expect(result.problems.map((p) => p.code)).toEqual(["too-deep"]);
  });

  it("while a declaration nested as deep as allowed is still read", () => {
    const depth = MAX_NESTING_DEPTH - 2;
    const text = `version: 1\nname: ok\nsmtp: ${"{a: ".repeat(depth)}x${"}".repeat(depth)}\n`;
    const codes = loadDeclarationText(text, "ok.yaml").problems.map((p) => p.code);
    expect(codes).not.toContain("too-deep");
    expect(codes).toContain("unknown-field");
  });

  it("every command that reads a declaration says so with exit 1, never 70", async () => {
    const file = join(folder, "deep.yaml");
    await writeFile(file, deepOneLine());
    const good = join(folder, "good.yaml");
    await writeFile(good, "version: 1\nname: deep\nserver: builtin\n");
    for (const [exit, ...args] of [
      [1, "validate", file],
      [1, "verify", file],
      [1, "test-email", file, "--to", "a@example.com"],
      [1, "authorize", file],
      [2, "drift", file], // drift's exit code for a configuration error
      [1, "diff", good, file], // an invalid side
    ] as const) {
      const run = await runCli([...args]);
      expect(run.code, args.join(" ")).toBe(exit);
      expect(`${run.stdout}${run.stderr}`, args.join(" ")).toContain("too-deep");
      expect(run.stderr).not.toContain("internal error");
    }
  });

  it("a folder scan reports the good files beside it", async () => {
    const mixed = await mkdtemp(join(tmpdir(), "mailserver-hostile-folder-"));
    await writeFile(join(mixed, "a-deep.yaml"), deepOneLine());
    await writeFile(join(mixed, "b-good.yaml"), "version: 1\nname: good\nserver: builtin\n");
    const run = await runCli(["validate", mixed, "--format", "json"]);
    expect(run.code).toBe(1);
    const document = JSON.parse(run.stdout) as { files: { file: string; valid: boolean }[] };
    expect(document.files.map(({ file, valid }) => [file.slice(mixed.length + 1), valid])).toEqual([
      ["a-deep.yaml", false],
      ["b-good.yaml", true],
    ]);
  });
});

describe("validate stays linear: a bounded number of problems per file, the rest counted", () => {
  it("80,000 unknown fields: the first ones listed, then one line counting the rest", async () => {
    const file = join(folder, "unknown.yaml");
    await writeFile(file, unknownFields(80_000));
    const result = await loadDeclarationFile(file);
    expect(result.problems).toHaveLength(MAX_PROBLEMS_PER_FILE + 1);
    expect(result.problems[0]).toMatchObject({ code: "unknown-field", line: 4, column: 1 });
    expect(result.problems.at(-1)).toMatchObject({
      code: "more-problems",
      severity: "error",
      message: `and ${(80_000 - MAX_PROBLEMS_PER_FILE).toLocaleString("en-US")} more unknown fields`,
      line: 4 + MAX_PROBLEMS_PER_FILE,
    });
  });

  it("40,000 recipients with a header injection each: counted the same way", () => {
    const result = loadDeclarationText(injectedRecipients(40_000), "to.yaml");
    expect(result.problems.slice(0, -1).every((p) => p.code === "header-injection")).toBe(true);
    expect(result.problems.at(-1)?.message).toBe(
      `and ${(40_000 - MAX_PROBLEMS_PER_FILE).toLocaleString("en-US")} more header injections`,
    );
  });

  it("80,000 duplicate keys are found in one pass and counted", () => {
    const lines = ["version: 1", "name: dup", "server: builtin"];
    for (let i = 0; i < 80_000; i++) lines.push(`k: ${i}`);
    const result = loadDeclarationText(`${lines.join("\n")}\n`, "dup.yaml");
    expect(result.problems[0]).toMatchObject({ code: "duplicate-key", line: 5 });
    expect(result.problems.at(-1)?.message).toBe(
      `and ${(80_000 - 1 - MAX_PROBLEMS_PER_FILE).toLocaleString("en-US")} more duplicate keys`,
    );
  });
});

describe("every echoed input value is escaped for its output", () => {
  const hostileKey = "evil\u001b]0;owned\u0007\u001b[2J\u202e";
  const text = `version: 1\nname: esc\nserver: builtin\n"${hostileKey.replace(/\u001b/g, "\\e").replace(/\u0007/g, "\\a")}": 1\n"a\\nb::error file=x::forged": 2\n`;

  it("in the problem itself", () => {
    const result = loadDeclarationText(text, "esc.yaml");
    const messages = result.problems.map((p) => p.message);
    expect(messages).toContain('unknown field "evil\\x1b]0;owned\\x07\\x1b[2J\\u202e" at the top level');
    expect(messages).toContain('unknown field "a\\nb::error file=x::forged" at the top level');
  });

  it("on the terminal, in JSON and in GitHub annotations", async () => {
    const file = join(folder, "esc\u001b[31m.yaml");
    await writeFile(file, text);
    for (const format of ["text", "json", "github"]) {
      const run = await runCli(["validate", file, "--format", format]);
      expect(run.code).toBe(1);
      expect(run.stdout, format).not.toMatch(UNESCAPED_CONTROL);
      // No line can pass for a workflow command but the annotations themselves.
      const forged = run.stdout
        .split("\n")
        .filter((line) => line.startsWith("::") && !/^::error file=/.test(line));
      expect(forged, format).toEqual([]);
    }
    const github = await runCli(["validate", file, "--format", "github"]);
    expect(github.stdout.split("\n").filter(Boolean)).toHaveLength(2);
  });
});
