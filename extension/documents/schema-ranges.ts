/**
 * Where a JSON Schema problem sits in the editor's text (no vscode import: unit-tested). The server
 * locates a problem by `segments` (keys and array indexes); the text is parsed with jsonc-parser
 * so the range follows the user's formatting. A missing property points at the key of the object
 * that lacks it (the object's opening brace at the top level).
 */
import { findNodeAtLocation, parseTree, type Node } from 'jsonc-parser';
import type { SchemaProblem } from '../../server/rpc/protocol';

export interface ProblemRange {
  readonly start: number;
  readonly end: number;
  readonly message: string;
}

function segmentPath(segments: readonly string[], root: Node): (string | number)[] {
  const path: (string | number)[] = [];
  let node: Node | undefined = root;
  for (const seg of segments) {
    // An index into an array is a number; a key of an object stays a string (even "0").
    const key: string | number = node?.type === 'array' && /^\d+$/.test(seg) ? Number(seg) : seg;
    path.push(key);
    node = node ? findNodeAtLocation(node, [key]) : undefined;
  }
  return path;
}

/** The node's key when it is a property value (its parent is the property), else the node itself. */
function keyOrSelf(node: Node): { start: number; end: number } {
  const prop = node.parent;
  if (prop?.type === 'property' && prop.children?.[0]) {
    const key = prop.children[0];
    return { start: key.offset, end: key.offset + key.length };
  }
  // An object with no key to point at (the document itself): its opening brace.
  return node.type === 'object' ? { start: node.offset, end: node.offset + 1 } : { start: node.offset, end: node.offset + node.length };
}

export function problemRanges(text: string, problems: readonly SchemaProblem[]): ProblemRange[] {
  const root = parseTree(text);
  return problems.map((p) => {
    if (!root) return { start: 0, end: 0, message: p.message };
    const path = segmentPath(p.segments, root);
    // Walk back to the deepest part of the path that exists in the text.
    let node: Node | undefined;
    for (let n = path.length; n >= 0 && !node; n--) node = n === 0 ? root : findNodeAtLocation(root, path.slice(0, n));
    node ??= root;
    const range = p.missingProperty !== undefined || node.type === 'object' || node.type === 'array' ? keyOrSelf(node) : { start: node.offset, end: node.offset + node.length };
    return { ...range, message: p.message };
  });
}
