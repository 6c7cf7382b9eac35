/**
 * Graph structure over a `PipelineDoc`: endpoints, incoming edges, cycles, evaluation order, and `canConnect`
 * (the live check while dragging a wire). Pure and React-free: the loader, the runner, the webview and the
 * extension host share it.
 */
import { DpipeError } from '../core/errors';
import type { ErrorCode } from '../core/errors';
import type { PortType } from '../registry/types';
import { asRegistry, describePorts, findPort, type BlockRegistry } from '../format/registry';
import { COMPOSE_RULES, resolveEdges, type ComposeRule } from '../format/rules';
import type { Endpoint, PipelineDoc, PipelineEdge, RegistryLike } from '../format/types';
import { ENDPOINT_PATTERN } from '../format/types';

/** `"sched.sigmas"` → `{ node: 'sched', port: 'sigmas' }`; undefined when it is not `node.port`. */
export function parseEndpoint(s: string | Endpoint): Endpoint | undefined {
  if (typeof s !== 'string') return s;
  if (!ENDPOINT_PATTERN.test(s)) return undefined;
  const dot = s.indexOf('.');
  return { node: s.slice(0, dot), port: s.slice(dot + 1) };
}

export function formatEndpoint(e: Endpoint): string {
  return `${e.node}.${e.port}`;
}

/** For each node, its connected inputs: port → source endpoint (the first edge when there are several). */
export function incomingEdges(doc: PipelineDoc): Map<string, Map<string, Endpoint>> {
  const out = new Map<string, Map<string, Endpoint>>();
  for (const e of doc.edges) {
    const from = parseEndpoint(e.from);
    const to = parseEndpoint(e.to);
    if (!from || !to) continue;
    let m = out.get(to.node);
    if (!m) out.set(to.node, (m = new Map()));
    if (!m.has(to.port)) m.set(to.port, from);
  }
  return out;
}

/** Node-level adjacency (source → targets), over edges whose endpoints parse and whose nodes exist. */
function adjacency(doc: PipelineDoc, extra?: PipelineEdge): Map<string, string[]> {
  const adj = new Map<string, string[]>();
  for (const n of doc.nodes) if (!adj.has(n.id)) adj.set(n.id, []);
  for (const e of extra ? [...doc.edges, extra] : doc.edges) {
    const from = parseEndpoint(e.from);
    const to = parseEndpoint(e.to);
    if (!from || !to || !adj.has(from.node) || !adj.has(to.node)) continue;
    const list = adj.get(from.node) as string[];
    if (!list.includes(to.node)) list.push(to.node);
  }
  return adj;
}

/**
 * Every cycle's nodes, one list per strongly connected component that has a cycle, ordered along a cycle and
 * starting at its node that comes first in the document: `['a', 'b', 'c']` means a → b → c → a.
 */
export function findCycles(doc: PipelineDoc): string[][] {
  const adj = adjacency(doc);
  const order = [...adj.keys()];
  const rank = new Map(order.map((id, i) => [id, i] as const));
  // Tarjan's strongly connected components, iterative.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const comps: string[][] = [];
  let counter = 0;
  for (const root of order) {
    if (index.has(root)) continue;
    const work: { v: string; i: number }[] = [{ v: root, i: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length) {
      const top = work[work.length - 1];
      const succ = adj.get(top.v) as string[];
      if (top.i < succ.length) {
        const w = succ[top.i++];
        if (!index.has(w)) {
          index.set(w, counter);
          low.set(w, counter++);
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) {
          low.set(top.v, Math.min(low.get(top.v) as number, index.get(w) as number));
        }
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1].v;
        low.set(parent, Math.min(low.get(parent) as number, low.get(top.v) as number));
      }
      if (low.get(top.v) === index.get(top.v)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop() as string;
          onStack.delete(w);
          comp.push(w);
        } while (w !== top.v);
        const selfLoop = (adj.get(top.v) as string[]).includes(top.v);
        if (comp.length > 1 || selfLoop) comps.push(comp);
      }
    }
  }
  const cycles = comps.map((comp) => orderCycle(comp, adj, rank));
  cycles.sort((a, b) => (rank.get(a[0]) as number) - (rank.get(b[0]) as number));
  return cycles;
}

/** A cycle through the component's first node (document order), found by BFS inside the component. */
function orderCycle(comp: string[], adj: Map<string, string[]>, rank: Map<string, number>): string[] {
  const inComp = new Set(comp);
  const start = [...comp].sort((a, b) => (rank.get(a) as number) - (rank.get(b) as number))[0];
  const path = shortestPath(start, start, adj, inComp);
  return path ? path.slice(0, -1) : [start];
}

/** Shortest node path `from → … → to` (at least one edge; both ends included), or undefined. */
function shortestPath(from: string, to: string, adj: Map<string, string[]>, allowed?: Set<string>): string[] | undefined {
  const prev = new Map<string, string>();
  const seen = new Set([from]);
  const queue = [from];
  while (queue.length) {
    const v = queue.shift() as string;
    for (const w of adj.get(v) ?? []) {
      if (allowed && !allowed.has(w)) continue;
      if (w === to) {
        const path = [to];
        for (let u: string | undefined = v; u !== undefined; u = u === from ? undefined : prev.get(u)) path.unshift(u);
        return path;
      }
      if (seen.has(w)) continue;
      seen.add(w);
      prev.set(w, v);
      queue.push(w);
    }
  }
  return undefined;
}

/**
 * Node ids in an order where every node comes after the nodes feeding it (ties keep document order).
 * Throws `E_CYCLE` naming the cycle when there is one.
 */
export function topologicalOrder(doc: PipelineDoc): string[] {
  const adj = adjacency(doc);
  const indeg = new Map<string, number>();
  for (const id of adj.keys()) indeg.set(id, 0);
  for (const targets of adj.values()) for (const t of targets) indeg.set(t, (indeg.get(t) as number) + 1);
  const ready = [...adj.keys()].filter((id) => indeg.get(id) === 0);
  const rank = new Map([...adj.keys()].map((id, i) => [id, i] as const));
  const out: string[] = [];
  while (ready.length) {
    ready.sort((a, b) => (rank.get(a) as number) - (rank.get(b) as number));
    const v = ready.shift() as string;
    out.push(v);
    for (const w of adj.get(v) as string[]) {
      indeg.set(w, (indeg.get(w) as number) - 1);
      if (indeg.get(w) === 0) ready.push(w);
    }
  }
  if (out.length < adj.size) {
    const cycle = findCycles(doc)[0] ?? [];
    throw new DpipeError('E_CYCLE', `the graph has a cycle: ${[...cycle, cycle[0]].join(' → ')}; remove one of these edges`);
  }
  return out;
}

export type ConnectCheck =
  | { readonly ok: true; readonly type: PortType; /** Edges into the input that the new one would replace. */ readonly replaces: readonly PipelineEdge[] }
  | { readonly ok: false; readonly code: ErrorCode; readonly reason: string };

export interface ConnectOptions {
  /** When the input already has an edge: true → the check passes and names the edge to replace; false → refuse. */
  readonly replace?: boolean;
  readonly rules?: readonly ComposeRule[];
}

/**
 * Whether an edge `from` (an output) → `to` (an input) may be added to `doc`. Refusals name the reason:
 * unknown node or port (listing the node's ports), an input used as a source, different port types, the
 * input already connected (unless `replace`), a cycle, or a composition rule.
 */
export function canConnect(
  registryLike: RegistryLike | BlockRegistry,
  doc: PipelineDoc,
  fromIn: string | Endpoint,
  toIn: string | Endpoint,
  opts: ConnectOptions = {},
): ConnectCheck {
  const registry = asRegistry(registryLike);
  const refuse = (code: ErrorCode, reason: string): ConnectCheck => ({ ok: false, code, reason });
  const from = parseEndpoint(fromIn);
  const to = parseEndpoint(toIn);
  if (!from) return refuse('E_EDGE', `"${String(fromIn)}" is not an endpoint; write "nodeId.port"`);
  if (!to) return refuse('E_EDGE', `"${String(toIn)}" is not an endpoint; write "nodeId.port"`);
  const fromNode = doc.nodes.find((n) => n.id === from.node);
  const toNode = doc.nodes.find((n) => n.id === to.node);
  if (!fromNode) return refuse('E_EDGE', `there is no node "${from.node}"`);
  if (!toNode) return refuse('E_EDGE', `there is no node "${to.node}"`);
  const fromInfo = registry.get(fromNode.type);
  const toInfo = registry.get(toNode.type);
  if (!fromInfo) return refuse('E_NODE_TYPE', `node "${from.node}" has unknown type "${fromNode.type}"`);
  if (!toInfo) return refuse('E_NODE_TYPE', `node "${to.node}" has unknown type "${toNode.type}"`);
  const fromPort = findPort(fromInfo, 'output', from.port);
  const toPort = findPort(toInfo, 'input', to.port);
  if (!fromPort) {
    const isInput = findPort(fromInfo, 'input', from.port);
    return refuse('E_EDGE', isInput
      ? `${formatEndpoint(from)} is an input; an edge starts at an output (${fromInfo.type} outputs: ${describePorts(fromInfo.outputs)})`
      : `${fromInfo.type} has no output "${from.port}"; its outputs: ${describePorts(fromInfo.outputs)}`);
  }
  const edge: PipelineEdge = { from: formatEndpoint(from), to: formatEndpoint(to) };
  // Composition rules first: they explain refusals better than "no such port" (e.g. a corrector on a solver
  // without corrector support has no port to land on).
  const trial: PipelineDoc = { ...doc, edges: [...doc.edges, edge] };
  const newIndex = trial.edges.length - 1;
  for (const rule of opts.rules ?? COMPOSE_RULES) {
    for (const f of rule({ doc: trial, registry, edges: resolveEdges(trial, registry) })) {
      if (f.edgeIndex === newIndex && (f.severity ?? 'error') === 'error') return refuse('E_COMPOSE', f.message);
    }
  }
  if (!toPort) {
    const isOutput = findPort(toInfo, 'output', to.port);
    return refuse('E_EDGE', isOutput
      ? `${formatEndpoint(to)} is an output; an edge ends at an input (${toInfo.type} inputs: ${describePorts(toInfo.inputs)})`
      : `${toInfo.type} has no input "${to.port}"; its inputs: ${describePorts(toInfo.inputs)}`);
  }
  if (fromPort.type !== toPort.type) {
    return refuse('E_PORT_TYPE', `${formatEndpoint(from)} gives ${fromPort.type} but ${formatEndpoint(to)} takes ${toPort.type}`);
  }
  if (from.node === to.node) return refuse('E_CYCLE', `a node cannot feed itself (${formatEndpoint(from)} → ${formatEndpoint(to)})`);
  const existing = doc.edges.filter((e) => e.to === edge.to);
  if (existing.some((e) => e.from === edge.from)) return refuse('E_INPUT_MULTI', `${edge.from} is already connected to ${edge.to}`);
  if (existing.length && !opts.replace) {
    return refuse('E_INPUT_MULTI', `input ${edge.to} is already connected from ${existing.map((e) => e.from).join(', ')}; an input takes one edge`);
  }
  const back = shortestPath(to.node, from.node, adjacency({ ...doc, edges: doc.edges.filter((e) => !existing.includes(e)) }));
  if (back) return refuse('E_CYCLE', `this edge would make a cycle: ${[from.node, ...back].join(' → ')}`);
  return { ok: true, type: fromPort.type, replaces: existing };
}
