import { closeSync, fstatSync, openSync, readFileSync } from "node:fs";
import { LineCounter, type ParsedNode, parseDocument } from "yaml";
import type { MailServerDeclaration } from "./generated/declaration.js";
import { locate } from "./locate.js";
import type { Problem } from "./problem.js";
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
  const document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const root = document.contents as ParsedNode | null;
  const position = (pointer: string, at: "key" | "value" = "value") => locate(root, lineCounter, pointer, at);
  const problems: Problem[] = document.errors.map((error) => {
    // An error at the end of the input (an unterminated quote or flow collection) is placed on the
    // last line that holds text, not on the empty line after the final newline.
    const { line, col } = lineCounter.linePos(Math.min(error.pos[0], text.trimEnd().length));
    const duplicate = error.code === "DUPLICATE_KEY";
    return {
      severity: "error",
      code: duplicate ? "duplicate-key" : "yaml-syntax",
      message: duplicate
        ? `the key "${text.slice(error.pos[0]).split(/[:\n]/)[0]?.trim()}" is written twice in the same mapping`
        : firstLine(error.message),
      hint: duplicate ? "Keep one of the two keys." : "Fix the YAML syntax at this position.",
      path: "",
      line,
      column: col,
    };
  });
  if (problems.length > 0) return { file, position, problems };
  if (root === null) {
    return fileProblem(
      file,
      "empty-file",
      "the file holds no declaration",
      "Write a declaration, starting with `version: 1`.",
    );
  }
  try {
    return { file, value: document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }), position, problems };
  } catch (error) {
    const { line, column } = position("");
    const aliases = error instanceof ReferenceError;
    return {
      file,
      position,
      problems: [
        {
          severity: "error",
          code: aliases ? "too-many-aliases" : "yaml-syntax",
          message: aliases
            ? `the YAML expands too many aliases (more than ${MAX_ALIAS_COUNT}): refused as a resource-exhaustion risk`
            : firstLine((error as Error).message),
          hint: aliases ? "Write the values out instead of repeating anchors." : "Fix the YAML.",
          path: "",
          line,
          column,
        },
      ],
    };
  }
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

function fileProblem(file: string, code: ProblemCode, message: string, hint?: string): ParsedDeclaration {
  return {
    file,
    position: () => ({ line: 1, column: 1 }),
    problems: [{ severity: "error", code, message, ...(hint && { hint }), path: "", line: 1, column: 1 }],
  };
}

function firstLine(message: string): string {
  return message.split("\n")[0]?.trim() ?? message;
}
