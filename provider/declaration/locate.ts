import {
  isMap,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
  type Pair,
  type ParsedNode,
  type YAMLMap,
} from "yaml";
import { pointerSegments } from "./problem.js";

export interface SourcePosition {
  line: number;
  column: number;
}

/** Finds the position of a JSON pointer in the source (see locator). */
export type Locate = (pointer: string, at?: "key" | "value") => SourcePosition;

/** Each mapping's scalar keys (the first of duplicates), as inspectNodes indexes them. */
export type KeyIndexes = Map<YAMLMap, Map<string, Pair>>;

export interface Locator {
  position: Locate;
  /** The offset of the same node: enough to sort by, and cheaper than a line and column. */
  offset(pointer: string, at?: "key" | "value"): number;
}

/**
 * Finds the 1-based line and column of the node a JSON pointer names. With `at: "key"` it is the
 * key of the last segment (where an unknown field is written); a mapping or list is found at its
 * key. When the pointer goes further than the document (a missing field), it is the deepest node
 * that exists: the object that lacks it. Each mapping's keys are indexed on first use, so locating
 * every one of 80,000 unknown fields stays linear.
 */
export function locator(
  root: ParsedNode | null,
  lineCounter: LineCounter,
  indexes: KeyIndexes = new Map(),
): Locator {
  const pairOf = (map: YAMLMap, key: string): Pair | undefined => {
    let index = indexes.get(map);
    if (!index) {
      index = new Map();
      for (const item of map.items) {
        // The first of duplicate keys wins, as a scan from the start would find it.
        if (isScalar(item.key) && !index.has(String(item.key.value))) index.set(String(item.key.value), item);
      }
      indexes.set(map, index);
    }
    return index.get(key);
  };
  const offset = (pointer: string, at: "key" | "value" = "value"): number => {
    let node: Node | null = root;
    let offset = root?.range?.[0] ?? 0;
    const segments = pointerSegments(pointer);
    for (const [index, segment] of segments.entries()) {
      const last = index === segments.length - 1;
      if (isMap(node)) {
        const pair = pairOf(node, segment);
        if (!pair) break;
        const key = pair.key as Node;
        const value = pair.value as Node | null;
        // A mapping or list is found by its key (`auth:`), a scalar by its value.
        const target = (last && at === "key") || value === null || isMap(value) || isSeq(value) ? key : value;
        offset = target.range?.[0] ?? offset;
        node = value;
      } else if (isSeq(node)) {
        const item = node.items[Number(segment)] as Node | undefined;
        if (!item) break;
        offset = item.range?.[0] ?? offset;
        node = item;
      } else {
        break;
      }
    }
    return offset;
  };
  return {
    offset,
    position: (pointer, at) => {
      const { line, col } = lineCounter.linePos(offset(pointer, at));
      return { line, column: col };
    },
  };
}
