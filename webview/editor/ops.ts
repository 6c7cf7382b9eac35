/**
 * The graph edits the editor sends, built as `GraphOp`s of `src/engine/graph`. The host turns one list of ops
 * into ONE WorkspaceEdit; the webview never edits text itself.
 */
import type { PipelineEdge, PipelineNode } from '../../src/engine/format/types';
import type { ParamValue } from '../../src/engine/registry/types';
import type { GraphOpWire } from '../../src/protocol/editor';

export type Op = GraphOpWire;

export const ops = {
  addNode(node: PipelineNode): Op {
    return { op: 'addNode', node: { id: node.id, type: node.type, params: node.params, ...(node.position ? { position: node.position } : {}) } };
  },
  removeNodes(ids: readonly string[]): Op {
    return { op: 'removeNodes', ids: [...ids] };
  },
  connect(edge: PipelineEdge, replace = true): Op {
    return { op: 'connect', from: edge.from, to: edge.to, replace };
  },
  disconnect(edge: PipelineEdge): Op {
    return { op: 'disconnect', from: edge.from, to: edge.to };
  },
  setParam(node: string, name: string, value: ParamValue): Op {
    return { op: 'setParam', node, name, value: Array.isArray(value) ? [...value] : value };
  },
  moveNodes(positions: ReadonlyMap<string, { x: number; y: number }>): Op {
    return { op: 'moveNodes', positions: Object.fromEntries([...positions].map(([id, p]) => [id, { x: Math.round(p.x), y: Math.round(p.y) }])) };
  },
};
