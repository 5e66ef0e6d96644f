/**
 * YAML parsing with limits that hold whatever the input: nesting is measured on the parser's own
 * stack while the text is read (the composer that builds nodes recurses once per level, so a
 * 6 KB line of `a: a: a: ...` would otherwise overflow the call stack), and duplicate keys are found
 * in one pass with a set (yaml's `uniqueKeys` compares each key with every earlier one: 80,000 keys
 * would take minutes).
 * @see https://eemeli.org/yaml/#parser yaml's Lexer, Parser and Composer
 */

import type { CST, Pair } from "yaml";
import {
  Composer,
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  Lexer,
  type LineCounter,
  type Node,
  type ParsedNode,
  Parser,
  YAMLParseError,
} from "yaml";
import type { KeyIndexes } from "./locate.js";

/** Collections nested deeper than this are refused; a declaration needs four levels. */
export const MAX_NESTING_DEPTH = 32;

const COLLECTIONS = new Set<CST.Token["type"]>(["block-map", "block-seq", "flow-collection"]);

export type ParsedYaml =
  | { document: Document.Parsed; tooDeepAt?: undefined }
  | { document?: undefined; tooDeepAt: number };

/**
 * Parses one YAML document, or returns the offset where nesting went beyond MAX_NESTING_DEPTH.
 * Keys are not checked for uniqueness here: see duplicateKeys.
 */
export function parseYaml(text: string, lineCounter: LineCounter): ParsedYaml {
  const parser = new Parser(lineCounter.addNewLine);
  const tokens: CST.Token[] = [];
  lineCounter.addNewLine(0);
  for (const lexeme of new Lexer().lex(text)) {
    for (const token of parser.next(lexeme)) tokens.push(token);
    // The parser keeps the open collections on a stack; it only holds more than the limit when
    // the text nests that deep (plus the document and a scalar or two).
    if (parser.stack.length > MAX_NESTING_DEPTH && nesting(parser.stack) > MAX_NESTING_DEPTH) {
      return { tooDeepAt: parser.offset };
    }
  }
  for (const token of parser.end()) tokens.push(token);
  const composer = new Composer({ uniqueKeys: false });
  let document: Document.Parsed | undefined;
  for (const composed of composer.compose(tokens, true, text.length)) {
    if (!document) document = composed;
    else {
      const [start, end] = composed.range;
      document.errors.push(
        new YAMLParseError([start, end], "MULTIPLE_DOCS", "the file holds more than one YAML document"),
      );
      break;
    }
  }
  return { document: document as Document.Parsed };
}

function nesting(stack: readonly CST.Token[]): number {
  return stack.reduce((depth, token) => depth + (COLLECTIONS.has(token.type) ? 1 : 0), 0);
}

/** A key written twice in one mapping: its offset and its text. */
export interface DuplicateKey {
  offset: number;
  key: string;
}

/**
 * Every key that repeats an earlier key of the same mapping (scalar keys compared by value, as
 * yaml's `uniqueKeys` does), and whether any alias is used, in one pass over the nodes with an
 * explicit stack.
 */
export function inspectNodes(root: ParsedNode | null): {
  duplicates: DuplicateKey[];
  aliases: boolean;
  /** Each mapping's keys, for finding a problem's place (see locator). */
  keys: KeyIndexes;
} {
  const found: DuplicateKey[] = [];
  const keys: KeyIndexes = new Map();
  let aliases = false;
  const pending: Array<Node | null | undefined> = [root];
  while (pending.length > 0) {
    const node = pending.pop();
    if (isAlias(node)) aliases = true;
    else if (isMap(node)) {
      const seen = new Set<unknown>();
      const index = new Map<string, Pair>();
      keys.set(node, index);
      for (const pair of node.items) {
        if (isScalar(pair.key)) {
          // By value, as yaml's uniqueKeys compares (the key 1 and the key "1" differ).
          const { value } = pair.key;
          if (seen.has(value)) found.push({ offset: pair.key.range?.[0] ?? 0, key: String(value) });
          else seen.add(value);
          if (!index.has(String(value))) index.set(String(value), pair);
        }
        pending.push(pair.key as Node | null, pair.value as Node | null);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) pending.push(item as Node | null);
    }
  }
  return { duplicates: found.sort((a, b) => a.offset - b.offset), aliases, keys };
}
