/**
 * Copy/paste of sub-graphs: the selected nodes and the edges between them, as JSON. Pasting gives every node a
 * fresh id (unique in the document), keeps internal edges, and offsets positions so the copy is visible.
 */
import type { PipelineDoc, PipelineEdge, PipelineNode } from '../../src/engine/format/types';
import { NODE_ID_PATTERN } from '../../src/engine/format/types';
import { splitEndpoint } from './graphView';

export const CLIPBOARD_KIND = 'dpipe/nodes';

export interface ClipboardPayload {
  readonly kind: typeof CLIPBOARD_KIND;
  readonly nodes: readonly PipelineNode[];
  readonly edges: readonly PipelineEdge[];
}

export function copySelection(doc: PipelineDoc, ids: ReadonlySet<string>, positions: ReadonlyMap<string, { x: number; y: number }>): ClipboardPayload | undefined {
  const nodes = doc.nodes.filter((n) => ids.has(n.id)).map((n) => ({ ...n, position: n.position ?? positions.get(n.id) }));
  if (nodes.length === 0) return undefined;
  const edges = doc.edges.filter((e) => ids.has(splitEndpoint(e.from).node) && ids.has(splitEndpoint(e.to).node));
  return { kind: CLIPBOARD_KIND, nodes, edges };
}

export function parseClipboard(text: string): ClipboardPayload | undefined {
  try {
    const v = JSON.parse(text) as ClipboardPayload;
    if (v?.kind !== CLIPBOARD_KIND || !Array.isArray(v.nodes) || !Array.isArray(v.edges)) return undefined;
    if (!v.nodes.every((n) => typeof n?.id === 'string' && typeof n.type === 'string' && typeof n.params === 'object' && n.params !== null)) return undefined;
    if (!v.edges.every((e) => typeof e?.from === 'string' && typeof e.to === 'string')) return undefined;
    return v;
  } catch {
    return undefined;
  }
}

/** A node id not in `taken`, derived from a block type: `schedule.karras` → `karras`, `karras_2`, … */
export function freshId(type: string, taken: ReadonlySet<string>): string {
  let base = type.slice(type.lastIndexOf('.') + 1).replace(/[^A-Za-z0-9_-]/g, '_');
  if (!NODE_ID_PATTERN.test(base)) base = `n_${base}`;
  if (!NODE_ID_PATTERN.test(base)) base = 'node';
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}_${i}`)) return `${base}_${i}`;
}

export interface PastePlan {
  readonly nodes: PipelineNode[];
  readonly edges: PipelineEdge[];
  readonly idMap: ReadonlyMap<string, string>;
}

/** New nodes and edges for a paste into `doc`, offset by `offset` (or placed with their top-left at `at`). */
export function planPaste(doc: PipelineDoc, clip: ClipboardPayload, offset: { x: number; y: number }, at?: { x: number; y: number }): PastePlan {
  const taken = new Set(doc.nodes.map((n) => n.id));
  const idMap = new Map<string, string>();
  for (const n of clip.nodes) {
    const id = freshId(n.id.replace(/_\d+$/, '') || n.type, taken);
    taken.add(id);
    idMap.set(n.id, id);
  }
  const xs = clip.nodes.map((n) => n.position?.x ?? 0);
  const ys = clip.nodes.map((n) => n.position?.y ?? 0);
  const shift = at ? { x: at.x - Math.min(...xs), y: at.y - Math.min(...ys) } : offset;
  const nodes = clip.nodes.map((n) => ({
    id: idMap.get(n.id)!,
    type: n.type,
    params: { ...n.params },
    position: { x: Math.round((n.position?.x ?? 0) + shift.x), y: Math.round((n.position?.y ?? 0) + shift.y) },
  }));
  const edges = clip.edges.map((e) => {
    const f = splitEndpoint(e.from);
    const t = splitEndpoint(e.to);
    return { from: `${idMap.get(f.node)}.${f.port}`, to: `${idMap.get(t.node)}.${t.port}` };
  });
  return { nodes, edges, idMap };
}
