/**
 * Execution plan of a pipeline: which nodes run, in which order, fed by which edges. Only nodes that reach a
 * target run — the Output blocks, or the Sample blocks when the pipeline has no output (a run for the inspector).
 * The loader reports every problem of a document with its position; the checks here are the few a run cannot
 * go without, for documents built in code, and stop at the first.
 */
import { DpipeError } from '../core/errors';
import type { Endpoint, PipelineDoc, PipelineNode } from '../format/types';
import type { NodeTypeInfo } from '../registry/types';

export interface PlannedNode {
  readonly node: PipelineNode;
  readonly info: NodeTypeInfo;
  /** Input port → the output endpoint that feeds it. */
  readonly inputs: ReadonlyMap<string, Endpoint>;
}

export interface RunPlan {
  /** Nodes to evaluate, dependencies first. */
  readonly order: readonly PlannedNode[];
  /** Ids of the nodes the run is for. */
  readonly targets: readonly string[];
}

export function parseEndpoint(s: string): Endpoint {
  const dot = s.indexOf('.');
  if (dot <= 0 || dot === s.length - 1) throw new DpipeError('E_EDGE', `edge endpoint "${s}" must be NODE.PORT`);
  return { node: s.slice(0, dot), port: s.slice(dot + 1) };
}

export function planRun(doc: PipelineDoc, types: ReadonlyMap<string, NodeTypeInfo>): RunPlan {
  const byId = new Map<string, PipelineNode>();
  for (const n of doc.nodes) {
    if (byId.has(n.id)) throw new DpipeError('E_NODE_ID', `two nodes have the id "${n.id}"`);
    byId.set(n.id, n);
  }
  const infoOf = (n: PipelineNode): NodeTypeInfo => {
    const info = types.get(n.type);
    if (!info) throw new DpipeError('E_NODE_TYPE', `node "${n.id}" has the unknown type ${n.type}; run \`dpipe blocks\` for the list`);
    return info;
  };
  const inputs = new Map<string, Map<string, Endpoint>>();
  for (const e of doc.edges) {
    const from = parseEndpoint(e.from);
    const to = parseEndpoint(e.to);
    const src = byId.get(from.node);
    const dst = byId.get(to.node);
    if (!src || !dst) throw new DpipeError('E_EDGE', `edge ${e.from} → ${e.to}: no node "${!src ? from.node : to.node}"`);
    const out = infoOf(src).outputs.find((p) => p.name === from.port);
    const inp = infoOf(dst).inputs.find((p) => p.name === to.port);
    if (!out) throw new DpipeError('E_EDGE', `edge ${e.from} → ${e.to}: ${src.type} has no output "${from.port}"`);
    if (!inp) throw new DpipeError('E_EDGE', `edge ${e.from} → ${e.to}: ${dst.type} has no input "${to.port}"`);
    if (out.type !== inp.type) throw new DpipeError('E_PORT_TYPE', `edge ${e.from} → ${e.to} connects ${out.type} to ${inp.type}`);
    const m = inputs.get(to.node) ?? new Map<string, Endpoint>();
    if (m.has(to.port)) throw new DpipeError('E_INPUT_MULTI', `input ${e.to} has more than one edge`);
    m.set(to.port, from);
    inputs.set(to.node, m);
  }

  let targets = doc.nodes.filter((n) => infoOf(n).category === 'Output').map((n) => n.id);
  if (targets.length === 0) targets = doc.nodes.filter((n) => infoOf(n).category === 'Sample').map((n) => n.id);
  if (targets.length === 0) throw new DpipeError('E_COMPOSE', 'the pipeline has no output or Sample block, so there is nothing to run');

  const order: PlannedNode[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]) => {
    const s = state.get(id);
    if (s === 'done') return;
    if (s === 'visiting') throw new DpipeError('E_CYCLE', `the graph has a cycle: ${[...path.slice(path.indexOf(id)), id].join(' → ')}`);
    state.set(id, 'visiting');
    const node = byId.get(id)!;
    const info = infoOf(node);
    const ins = inputs.get(id) ?? new Map<string, Endpoint>();
    for (const port of info.inputs) {
      if (!port.optional && !ins.has(port.name)) throw new DpipeError('E_INPUT_MISSING', `node "${id}" (${node.type}): input "${port.name}" (${port.type}) is not connected`);
    }
    for (const src of ins.values()) visit(src.node, [...path, id]);
    state.set(id, 'done');
    order.push({ node, info, inputs: ins });
  };
  for (const t of targets) visit(t, []);
  return { order, targets };
}
