import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadDeclarationFile, MAX_DECLARATION_BYTES } from "../../provider/declaration/load.js";
import { aliasBomb } from "../helpers/bad-input.js";

let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "mailserver-load-"));
});

async function load(name: string, content: string | Buffer) {
  const path = join(folder, name);
  await writeFile(path, content);
  return loadDeclarationFile(path);
}

describe("loadDeclarationFile refuses what cannot be a declaration", () => {
  it("an empty file", async () => {
    const result = await load("empty.yaml", "# only a comment\n");
    expect(result).toMatchObject({ valid: false, problems: [{ code: "empty-file", line: 1, column: 1 }] });
  });

  it("a binary file", async () => {
    const result = await load("binary.yaml", Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x1a]));
    expect(result.problems.map((p) => p.code)).toEqual(["not-text"]);
  });

  it("a file above 1 MiB, unread", async () => {
    const result = await load("huge.yaml", `version: 1\nname: huge\n#${"x".repeat(MAX_DECLARATION_BYTES)}\n`);
    expect(result.problems).toEqual([expect.objectContaining({ code: "file-too-large", line: 1 })]);
    expect(result.problems[0]?.message).toContain("1 MiB");
  });

  it("duplicate keys, with the key's line", async () => {
    const result = await load("dup.yaml", "version: 1\nname: a\nserver: builtin\nname: b\n");
    expect(result.problems).toEqual([
      expect.objectContaining({
        code: "duplicate-key",
        line: 4,
        message: 'the key "name" is written twice in the same mapping',
      }),
    ]);
  });

  it("an alias bomb (billion laughs)", async () => {
    const result = await load("bomb.yaml", aliasBomb());
    expect(result.problems.map((p) => p.code)).toEqual(["too-many-aliases"]);
  });

  it("malformed YAML", async () => {
    const result = await load("bad.yaml", "version: 1\nname: 'unterminated\n");
    expect(result.valid).toBe(false);
    expect(result.problems[0]).toMatchObject({ code: "yaml-syntax", line: expect.any(Number) });
    expect(result.problems[0]?.line).toBeGreaterThanOrEqual(2);
  });

  it("wrong types, each at its line", async () => {
    const result = await load(
      "types.yaml",
      "version: 1\nname: t\nsmtp:\n  host: h.example.com\n  port: '587'\nauth: { method: basic, username: u, password: { env: P } }\nfrom: { address: a@example.com }\n",
    );
    expect(result.problems).toEqual([
      expect.objectContaining({
        code: "schema",
        path: "/smtp/port",
        line: 5,
        column: 9,
        message: "smtp.port must be an integer",
      }),
    ]);
  });

  it("a file that is not a mapping", async () => {
    const result = await load("list.yaml", "- version: 1\n");
    expect(result.problems).toEqual([expect.objectContaining({ code: "schema", line: 1 })]);
  });

  it("a JSON declaration, with positions", async () => {
    const result = await load(
      "decl.json",
      '{\n  "version": 1,\n  "name": "json",\n  "server": "builtin",\n  "replyTo": "x@example.com"\n}\n',
    );
    expect(result.problems).toEqual([
      expect.objectContaining({ code: "builtin-extra-fields", line: 5, column: 3 }),
    ]);
  });

  it("an unreadable path", async () => {
    const result = await loadDeclarationFile(folder);
    expect(result.problems.map((p) => p.code)).toEqual(["file-unreadable"]);
  });
});
