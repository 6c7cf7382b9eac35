/**
 * Automatic layout with ELK's layered algorithm (Sugiyama-style), left → right, ports fixed on the west (inputs)
 * and east (outputs) side in registry order. Used for files written by hand or without positions: on open the result
 * is only drawn (opening a file never edits it); the toolbar's Auto-layout sends it as one `moveNodes` op.
 */
import ELK from 'elkjs/lib/elk.bundled.js';
import type { ElkNode } from 'elkjs/lib/elk-api';
import type { BlockRegistry } from '../../src/engine/format/registry';
import type { PipelineDoc } from '../../src/engine/format/types';
import { splitEndpoint } from './graphView';

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** Size of a node before it has been drawn (header, port rows, parameter summary). */
export function estimateSize(registry: BlockRegistry, type: string): Size {
  const info = registry.get(type);
  if (!info) return { width: 220, height: 80 };
  const rows = Math.max(info.inputs.length, info.outputs.length);
  const summary = Math.min(4, info.params.filter((p) => !p.advanced).length);
  return { width: 230, height: 34 + rows * 20 + 8 + (summary ? summary * 15 + 10 : 0) + (info.category === 'Solver' ? 26 : 0) };
}

let elk: InstanceType<typeof ELK> | undefined;

/**
 * Positions (top-left corners) for every node of `doc`. `sizes` gives measured sizes where known.
 * Positions are rounded to whole pixels so the saved file stays tidy.
 */
export async function layoutDoc(doc: PipelineDoc, registry: BlockRegistry, sizes: ReadonlyMap<string, Size> = new Map()): Promise<Map<string, { x: number; y: number }>> {
  elk ??= new ELK();
  const ids = new Set(doc.nodes.map((n) => n.id));
  const graph: ElkNode = {
    id: '__root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.layered.spacing.nodeNodeBetweenLayers': '70',
      'elk.spacing.nodeNode': '36',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
      'elk.layered.crossingMinimization.semiInteractive': 'true',
      'elk.separateConnectedComponents': 'true',
      'elk.spacing.componentComponent': '60',
    },
    children: doc.nodes.map((n) => {
      const info = registry.get(n.type);
      const size = sizes.get(n.id) ?? estimateSize(registry, n.type);
      return {
        id: n.id,
        width: size.width,
        height: size.height,
        layoutOptions: { 'elk.portConstraints': 'FIXED_ORDER' },
        ports: [
          ...(info?.inputs ?? []).map((p, i) => ({ id: `${n.id}.${p.name}`, width: 1, height: 1, layoutOptions: { 'elk.port.side': 'WEST', 'elk.port.index': String(i) } })),
          ...(info?.outputs ?? []).map((p, i) => ({ id: `${n.id}..out.${p.name}`, width: 1, height: 1, layoutOptions: { 'elk.port.side': 'EAST', 'elk.port.index': String(i) } })),
        ],
      };
    }),
    edges: doc.edges.flatMap((e, i) => {
      const f = splitEndpoint(e.from);
      const t = splitEndpoint(e.to);
      if (!ids.has(f.node) || !ids.has(t.node)) return [];
      const fi = registry.get(doc.nodes.find((n) => n.id === f.node)!.type);
      const ti = registry.get(doc.nodes.find((n) => n.id === t.node)!.type);
      const source = fi?.outputs.some((p) => p.name === f.port) ? `${f.node}..out.${f.port}` : f.node;
      const target = ti?.inputs.some((p) => p.name === t.port) ? `${t.node}.${t.port}` : t.node;
      return [{ id: `e${i}`, sources: [source], targets: [target] }];
    }),
  };
  const res = await elk.layout(graph);
  const out = new Map<string, { x: number; y: number }>();
  for (const c of res.children ?? []) out.set(c.id, { x: Math.round(c.x ?? 0), y: Math.round(c.y ?? 0) });
  return out;
}

/**
 * Positions for a few unplaced nodes in an otherwise placed graph: right of the rightmost node feeding it, or
 * below everything when nothing feeds it, so the user's arrangement is kept.
 */
export function placeNear(doc: PipelineDoc, registry: BlockRegistry, missing: readonly string[], known: ReadonlyMap<string, { x: number; y: number }>): Map<string, { x: number; y: number }> {
  const pos = new Map(known);
  const out = new Map<string, { x: number; y: number }>();
  const bottom = () => Math.max(0, ...[...pos.entries()].map(([id, p]) => p.y + estimateSize(registry, doc.nodes.find((n) => n.id === id)?.type ?? '').height)) + 40;
  for (const id of missing) {
    const feeders = doc.edges.filter((e) => splitEndpoint(e.to).node === id).map((e) => pos.get(splitEndpoint(e.from).node)).filter((p) => p !== undefined);
    const p = feeders.length
      ? { x: Math.max(...feeders.map((f) => f.x)) + 300, y: Math.min(...feeders.map((f) => f.y)) }
      : { x: Math.min(0, ...[...pos.values()].map((q) => q.x)), y: bottom() };
    pos.set(id, p);
    out.set(id, p);
  }
  return out;
}
