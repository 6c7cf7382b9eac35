/**
 * The graph as React Flow draws it: a projection of the loaded document plus local UI state (selection,
 * measured sizes, positions of nodes the file does not place yet). Pure functions, no React, so they are
 * testable and the App only decides when to call them.
 */
import type { Edge, Node } from '@xyflow/react';
import type { Problem } from '../../src/engine/core/errors';
import type { BlockRegistry } from '../../src/engine/format/registry';
import type { PipelineDoc } from '../../src/engine/format/types';
import type { ParamValue } from '../../src/engine/registry/types';
import { portStyle } from '../shared/ports';

export interface NodeProblem {
  readonly severity: 'error' | 'warning';
  readonly code: string;
  readonly message: string;
}

/** Plain-JSON node data. */
export interface BlockNodeData extends Record<string, unknown> {
  readonly blockType: string;
  readonly params: Readonly<Record<string, ParamValue>>;
  readonly problems: readonly NodeProblem[];
  /** For blocks the registry does not know: port names the edges use, so edges still attach. */
  readonly danglingInputs: readonly string[];
  readonly danglingOutputs: readonly string[];
}

export type BlockFlowNode = Node<BlockNodeData>;

export interface EdgeData extends Record<string, unknown> {
  readonly portType: string;
}
export type BlockFlowEdge = Edge<EdgeData>;

export function splitEndpoint(ep: string): { node: string; port: string } {
  const i = ep.indexOf('.');
  return i < 0 ? { node: ep, port: '' } : { node: ep.slice(0, i), port: ep.slice(i + 1) };
}

export function edgeId(from: string, to: string): string {
  return `${from}->${to}`;
}

/** Problems grouped by node id; a problem without a node id but with a `/nodes/<i>` pointer is attributed too. */
export function problemsByNode(doc: PipelineDoc, problems: readonly Problem[]): Map<string, NodeProblem[]> {
  const m = new Map<string, NodeProblem[]>();
  for (const p of problems) {
    let id = p.nodeId;
    if (id === undefined && p.pointer) {
      const match = /^\/nodes\/(\d+)(\/|$)/.exec(p.pointer);
      if (match) id = doc.nodes[Number(match[1])]?.id;
    }
    if (id === undefined) continue;
    const list = m.get(id) ?? [];
    list.push({ severity: p.severity, code: p.code, message: p.message });
    m.set(id, list);
  }
  return m;
}

export interface ProjectOptions {
  readonly registry: BlockRegistry;
  readonly problems: readonly Problem[];
  readonly selectedNodes: ReadonlySet<string>;
  readonly selectedEdges: ReadonlySet<string>;
  /** Positions for nodes the file does not place (auto-layout result, or a temporary grid). */
  readonly fallbackPositions: ReadonlyMap<string, { x: number; y: number }>;
  /** The previous projection: unchanged nodes keep their object (React Flow then skips them) and sizes. */
  readonly previous: readonly BlockFlowNode[];
}

export function projectNodes(doc: PipelineDoc, o: ProjectOptions): BlockFlowNode[] {
  const byNode = problemsByNode(doc, o.problems);
  const prev = new Map(o.previous.map((n) => [n.id, n]));
  const dangling = danglingPorts(doc, o.registry);
  return doc.nodes.map((n, i) => {
    const info = o.registry.get(n.type);
    const position = n.position ?? o.fallbackPositions.get(n.id) ?? { x: (i % 4) * 280, y: Math.floor(i / 4) * 220 };
    const data: BlockNodeData = {
      blockType: n.type,
      params: n.params,
      problems: byNode.get(n.id) ?? [],
      danglingInputs: info ? [] : dangling.get(n.id)?.inputs ?? [],
      danglingOutputs: info ? [] : dangling.get(n.id)?.outputs ?? [],
    };
    const p = prev.get(n.id);
    const selected = o.selectedNodes.has(n.id);
    const type = info ? info.category : 'Unknown';
    if (p && p.type === type && p.selected === selected && p.position.x === position.x && p.position.y === position.y && sameData(p.data, data)) return p;
    return { id: n.id, type, position, data, selected, measured: p?.measured, width: p?.width, height: p?.height };
  });
}

export function projectEdges(doc: PipelineDoc, registry: BlockRegistry, selected: ReadonlySet<string>): BlockFlowEdge[] {
  const types = new Map(doc.nodes.map((n) => [n.id, n.type]));
  return doc.edges.map((e) => {
    const from = splitEndpoint(e.from);
    const to = splitEndpoint(e.to);
    const t = registry.get(types.get(from.node) ?? '')?.outputs.find((p) => p.name === from.port)?.type ?? 'UNKNOWN';
    const id = edgeId(e.from, e.to);
    return {
      id,
      source: from.node,
      sourceHandle: from.port,
      target: to.node,
      targetHandle: to.port,
      selected: selected.has(id),
      data: { portType: t },
      style: { stroke: portStyle(t).color },
    };
  });
}

function danglingPorts(doc: PipelineDoc, registry: BlockRegistry): Map<string, { inputs: string[]; outputs: string[] }> {
  const m = new Map<string, { inputs: string[]; outputs: string[] }>();
  const get = (id: string) => m.get(id) ?? (m.set(id, { inputs: [], outputs: [] }), m.get(id)!);
  const unknown = new Set(doc.nodes.filter((n) => !registry.get(n.type)).map((n) => n.id));
  for (const e of doc.edges) {
    const f = splitEndpoint(e.from);
    const t = splitEndpoint(e.to);
    if (unknown.has(f.node) && !get(f.node).outputs.includes(f.port)) get(f.node).outputs.push(f.port);
    if (unknown.has(t.node) && !get(t.node).inputs.includes(t.port)) get(t.node).inputs.push(t.port);
  }
  return m;
}

function sameData(a: BlockNodeData, b: BlockNodeData): boolean {
  return a.blockType === b.blockType && JSON.stringify(a.params) === JSON.stringify(b.params) && JSON.stringify(a.problems) === JSON.stringify(b.problems)
    && a.danglingInputs.join() === b.danglingInputs.join() && a.danglingOutputs.join() === b.danglingOutputs.join();
}

/** Ids of nodes the file gives no position. */
export function unplaced(doc: PipelineDoc): string[] {
  return doc.nodes.filter((n) => !n.position).map((n) => n.id);
}

/**
 * Where the nodes the file does not place are drawn (`shown`: the auto-layout the editor keeps in memory), rounded
 * to whole pixels. Opening a file never writes these; the first edit that writes a position (a move, an added or
 * pasted node) writes them all in the same undoable edit, so the file keeps the arrangement the user saw.
 */
export function unplacedShown(doc: PipelineDoc, shown: ReadonlyMap<string, { x: number; y: number }>): Map<string, { x: number; y: number }> {
  const out = new Map<string, { x: number; y: number }>();
  for (const n of doc.nodes) {
    const p = n.position ? undefined : shown.get(n.id);
    if (p) out.set(n.id, { x: Math.round(p.x), y: Math.round(p.y) });
  }
  return out;
}
