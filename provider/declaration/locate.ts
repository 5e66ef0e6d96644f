import { isMap, isScalar, isSeq, type LineCounter, type Node, type ParsedNode } from "yaml";
import { pointerSegments } from "./problem.js";

export interface SourcePosition {
  line: number;
  column: number;
}

/**
 * Finds the 1-based line and column of the node a JSON pointer names. With `at: "key"` it is the
 * key of the last segment (where an unknown field is written); a mapping or list is found at its
 * key. When the pointer goes further than
 * the document (a missing field), it is the deepest node that exists: the object that lacks it.
 */
export function locate(
  root: ParsedNode | null,
  lineCounter: LineCounter,
  pointer: string,
  at: "key" | "value" = "value",
): SourcePosition {
  let node: Node | null = root;
  let offset = root?.range?.[0] ?? 0;
  const segments = pointerSegments(pointer);
  for (const [index, segment] of segments.entries()) {
    const last = index === segments.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === segment);
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
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}
