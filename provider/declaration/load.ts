import { closeSync, fstatSync, openSync, readFileSync } from "node:fs";
import { LineCounter, type ParsedNode } from "yaml";
import type { MailServerDeclaration } from "./generated/declaration.js";
import { locator } from "./locate.js";
import { inspectNodes, MAX_NESTING_DEPTH, parseYaml } from "./parse-yaml.js";
import { boundProblems, escapeControlCharacters, type Problem, quoteInput } from "./problem.js";
import type { ProblemCode } from "./problem-codes.js";
import { validateParsed } from "./validate.js";

/** Declarations larger than this are refused unread: no mail setting is that big. */
export const MAX_DECLARATION_BYTES = 1024 * 1024;
/** YAML aliases allowed in one declaration; a billion-laughs document needs far more. */
export const MAX_ALIAS_COUNT = 100;

/** A declaration file as parsed, before validation: the value and how to find a node's position. */
export interface ParsedDeclaration {
  file: string;
  value?: unknown;
  /** Finds the position of a JSON pointer in the source. */
  position(pointer: string, at?: "key" | "value"): { line: number; column: number };
  /** The offset of that position (to sort problems by); absent when there is no source. */
  offset?(pointer: string, at?: "key" | "value"): number;
  problems: Problem[];
}

/** A validated declaration file: `declaration` is set when there is no error. */
export interface LoadedDeclaration {
  file: string;
  valid: boolean;
  declaration?: MailServerDeclaration;
  problems: Problem[];
}

/**
 * Reads, parses and validates a declaration file (YAML or JSON).
 * @example
 * const { declaration, problems } = await loadDeclarationFile("mailservers/corp-mail.yaml");
 */
export async function loadDeclarationFile(path: string): Promise<LoadedDeclaration> {
  return validateParsed(await readDeclarationFile(path));
}

/** Validates declaration text that did not come from disk (a git revision, a test fixture). */
export function loadDeclarationText(text: string, file: string): LoadedDeclaration {
  return validateParsed(parseDeclarationText(text, file));
}

/** Reads and parses a file, refusing what cannot be a declaration (too large, binary) with a problem. */
export async function readDeclarationFile(path: string): Promise<ParsedDeclaration> {
  let bytes: Buffer;
  try {
    bytes = readAtMost(path, MAX_DECLARATION_BYTES);
  } catch (error) {
    if (error instanceof RangeError) return fileTooLarge(path);
    const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
    return fileProblem(path, "file-unreadable", `the file cannot be read (${reason})`);
  }
  return parseDeclarationBytes(bytes, path);
}

/** Parses a declaration's bytes (a file, a git blob): UTF-8 text only, at most 1 MiB. */
export function parseDeclarationBytes(bytes: Buffer, file: string): ParsedDeclaration {
  if (bytes.length > MAX_DECLARATION_BYTES) return fileTooLarge(file);
  let text: string;
  try {
    if (bytes.includes(0)) throw new Error("NUL byte");
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return fileProblem(file, "not-text", "the file is not UTF-8 text; a declaration is YAML or JSON");
  }
  return parseDeclarationText(text, file);
}

/** The problem of a file refused unread for its size. */
export function fileTooLarge(file: string): ParsedDeclaration {
  return fileProblem(
    file,
    "file-too-large",
    "the file is larger than 1 MiB; declarations are limited to 1 MiB",
  );
}

/** Parses YAML (JSON is YAML too) keeping source positions for every problem. */
export function parseDeclarationText(text: string, file: string): ParsedDeclaration {
  const lineCounter = new LineCounter();
  const parsed = parseYaml(text, lineCounter);
  if (!parsed.document) {
    const { line, col } = lineCounter.linePos(parsed.tooDeepAt);
    return fileProblem(
      file,
      "too-deep",
      `the YAML nests more than ${MAX_NESTING_DEPTH} levels deep; a declaration needs four`,
      "Write the declaration's fields at their documented places; nothing in it nests this deep.",
      { line, column: col },
    );
  }
  const document = parsed.document;
  const root = document.contents as ParsedNode | null;
  const inspected = inspectNodes(root);
  const { position, offset } = locator(root, lineCounter, inspected.keys);
  const syntax: Problem[] = document.errors.map((error) => {
    // An error at the end of the input (an unterminated quote or flow collection) is placed on the
    // last line that holds text, not on the empty line after the final newline.
    const { line, col } = lineCounter.linePos(Math.min(error.pos[0], text.trimEnd().length));
    return {
      severity: "error",
      code: "yaml-syntax",
      message: escapeControlCharacters(firstLine(error.message)),
      hint: "Fix the YAML syntax at this position.",
      path: "",
      line,
      column: col,
    };
  });
  const duplicates: Problem[] = inspected.duplicates.map(({ offset, key }) => {
    const { line, col } = lineCounter.linePos(offset);
    return {
      severity: "error",
      code: "duplicate-key",
      message: `the key ${quoteInput(key)} is written twice in the same mapping`,
      hint: "Keep one of the two keys.",
      path: "",
      line,
      column: col,
    };
  });
  const problems = [...syntax, ...duplicates].sort((a, b) => a.line - b.line || a.column - b.column);
  if (problems.length > 0) return { file, position, problems: boundProblems(problems, (problem) => problem) };
  if (root === null) {
    return fileProblem(
      file,
      "empty-file",
      "the file holds no declaration",
      "Write a declaration, starting with `version: 1`.",
    );
  }
  try {
    const value = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
    // Aliases can nest a collection inside itself again and again: measure what they built.
    if (inspected.aliases && depthOf(value) > MAX_NESTING_DEPTH) throw new RangeError("too deep");
    return { file, value, position, offset, problems };
  } catch (error) {
    const { line, column } = position("");
    const aliases = error instanceof ReferenceError;
    const deep = error instanceof RangeError;
    return {
      file,
      position,
      problems: [
        {
          severity: "error",
          code: aliases ? "too-many-aliases" : deep ? "too-deep" : "yaml-syntax",
          message: aliases
            ? `the YAML expands too many aliases (more than ${MAX_ALIAS_COUNT}): refused as a resource-exhaustion risk`
            : deep
              ? `the YAML nests more than ${MAX_NESTING_DEPTH} levels deep (through its aliases); a declaration needs four`
              : escapeControlCharacters(firstLine((error as Error).message)),
          hint: aliases || deep ? "Write the values out instead of repeating anchors." : "Fix the YAML.",
          path: "",
          line,
          column,
        },
      ],
    };
  }
}

/** How deeply a value's objects and arrays nest, measured with an explicit stack (never recursion). */
function depthOf(value: unknown): number {
  let deepest = 0;
  const pending: Array<[unknown, number]> = [[value, 0]];
  while (pending.length > 0) {
    const [node, depth] = pending.pop() as [unknown, number];
    if (node === null || typeof node !== "object") continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > MAX_NESTING_DEPTH) return deepest;
    for (const child of Object.values(node)) pending.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * Reads a file, refusing (RangeError) one larger than `limit` bytes without reading it. Synchronous
 * on purpose: declarations are small, and a folder of thousands validates twice as fast without a
 * promise round trip per system call (see bench/validate).
 */
function readAtMost(path: string, limit: number): Buffer {
  const descriptor = openSync(path, "r");
  try {
    if (fstatSync(descriptor).size > limit) throw new RangeError("too large");
    const bytes = readFileSync(descriptor);
    if (bytes.length > limit) throw new RangeError("too large");
    return bytes;
  } finally {
    closeSync(descriptor);
  }
}

function fileProblem(
  file: string,
  code: ProblemCode,
  message: string,
  hint?: string,
  at = { line: 1, column: 1 },
): ParsedDeclaration {
  return {
    file,
    position: () => at,
    problems: [{ severity: "error", code, message, ...(hint && { hint }), path: "", ...at }],
  };
}

function firstLine(message: string): string {
  return message.split("\n")[0]?.trim() ?? message;
}
