/**
 * Positions in the .dpipe text: JSON pointers (RFC 6901) ↔ jsonc-parser tree nodes ↔ offset/length and 1-based
 * line/column (columns count UTF-16 code units, as VS Code does).
 */
import { findNodeAtLocation, type Node as JsonNode } from 'jsonc-parser';

export function pointerOf(path: readonly (string | number)[]): string {
  return path.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

export function pathOf(pointer: string): (string | number)[] {
  if (pointer === '' || pointer === '/') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

export interface Span {
  readonly offset: number;
  readonly length: number;
  readonly line: number;
  readonly column: number;
}

/** Maps offsets to lines and columns; built once per text. */
export class TextLocator {
  private readonly lineStarts: number[] = [0];
  constructor(readonly text: string, readonly root: JsonNode | undefined) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) this.lineStarts.push(i + 1);
      else if (c === 13 && text.charCodeAt(i + 1) !== 10) this.lineStarts.push(i + 1);
    }
  }

  span(offset: number, length: number): Span {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { offset, length, line: lo + 1, column: offset - this.lineStarts[lo] + 1 };
  }

  /** The tree node of the value at `path`, or of its nearest existing ancestor. */
  nodeAt(path: readonly (string | number)[]): JsonNode | undefined {
    if (!this.root) return undefined;
    for (let n = path.length; n >= 0; n--) {
      const hit = findNodeAtLocation(this.root, path.slice(0, n) as (string | number)[]);
      if (hit) return hit;
    }
    return this.root;
  }

  /**
   * Where to mark a problem at `pointer`:
   * - `value`: the value's whole extent (the default);
   * - `key`: the property name (for unknown keys); falls back to the value;
   * - `start`: one character at the value's start (for "something is missing in this object").
   */
  locate(pointer: string, mode: 'value' | 'key' | 'start' = 'value'): Span {
    const node = this.nodeAt(pathOf(pointer));
    if (!node) return this.span(0, Math.min(1, this.text.length));
    if (mode === 'key' && node.parent?.type === 'property' && node.parent.children?.[0]) {
      const key = node.parent.children[0];
      return this.span(key.offset, key.length);
    }
    if (mode === 'start') return this.span(node.offset, 1);
    return this.span(node.offset, node.length);
  }
}
