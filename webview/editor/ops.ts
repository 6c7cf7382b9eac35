/**
 * The graph edits the editor sends: `GraphOp`s of `src/engine/graph`. The host applies one list of ops in order
 * (each on the text the previous one produced) as ONE WorkspaceEdit; the webview never edits text itself.
 */
import type { PipelineEdge, PipelineNode } from '../../src/engine/format/types';
import type { GraphOp } from '../../src/engine/graph';
import type { ParamValue } from '../../src/engine/registry/types';

export type Op = GraphOp;

export const ops = {
  addNode(node: PipelineNode): Op {
    return { op: 'addNode', id: node.id, type: node.type, params: node.params, ...(node.position ? { position: node.position } : {}) };
  },
  removeNodes(ids: readonly string[]): Op {
    return { op: 'removeNodes', ids: [...ids] };
  },
  /** With `replace`, an input that already has an edge gets the new source instead. */
  connect(edge: PipelineEdge, replace = true): Op {
    return { op: 'connect', from: edge.from, to: edge.to, replace };
  },
  disconnect(edge: PipelineEdge): Op {
    return { op: 'disconnect', from: edge.from, to: edge.to };
  },
  /** `undefined` removes the param from the file (the block default applies). */
  setParam(node: string, param: string, value: ParamValue | undefined): Op {
    return { op: 'setParam', node, param, ...(value === undefined ? {} : { value: Array.isArray(value) ? [...value] : value }) };
  },
  moveNodes(positions: ReadonlyMap<string, { x: number; y: number }>): Op {
    return { op: 'moveNodes', moves: [...positions].map(([id, p]) => ({ id, x: Math.round(p.x), y: Math.round(p.y) })) };
  },
};
