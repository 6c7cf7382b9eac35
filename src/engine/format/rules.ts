/**
 * Composition rules: blocks that each are fine but cannot work together. Each rule is a function over the
 * document and the registry that returns findings; the loader reports them as `E_COMPOSE` problems (or warnings)
 * and `canConnect` refuses an edge a rule objects to. To add a rule, write a function here and append it to
 * `COMPOSE_RULES`; name both blocks and say why in its message.
 */
import type { NodeTypeInfo, PortSpec } from '../registry/types';
import { findPort, type BlockRegistry } from './registry';
import type { Endpoint, PipelineDoc } from './types';
import { ENDPOINT_PATTERN } from './types';

/** An edge whose endpoints parse and whose two nodes exist with known types; the ports may not exist. */
export interface ResolvedEdge {
  /** Index in `doc.edges`. */
  readonly index: number;
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly fromInfo: NodeTypeInfo;
  readonly toInfo: NodeTypeInfo;
  /** The source output port, when it exists. */
  readonly fromPort?: PortSpec;
  /** The target input port, when it exists. */
  readonly toPort?: PortSpec;
}

export interface ComposeContext {
  readonly doc: PipelineDoc;
  readonly registry: BlockRegistry;
  readonly edges: readonly ResolvedEdge[];
}

export interface ComposeFinding {
  readonly message: string;
  /** The node the finding is marked on. */
  readonly nodeId: string;
  /** The edge that brings the two blocks together, when there is one (the problem is placed on it). */
  readonly edgeIndex?: number;
  /** Default `error`. */
  readonly severity?: 'error' | 'warning';
}

export type ComposeRule = (ctx: ComposeContext) => ComposeFinding[];

export function resolveEdges(doc: PipelineDoc, registry: BlockRegistry): ResolvedEdge[] {
  const types = new Map<string, string>();
  for (const n of doc.nodes) if (!types.has(n.id)) types.set(n.id, n.type);
  const out: ResolvedEdge[] = [];
  doc.edges.forEach((e, index) => {
    if (typeof e.from !== 'string' || typeof e.to !== 'string' || !ENDPOINT_PATTERN.test(e.from) || !ENDPOINT_PATTERN.test(e.to)) return;
    const split = (s: string): Endpoint => ({ node: s.slice(0, s.indexOf('.')), port: s.slice(s.indexOf('.') + 1) });
    const from = split(e.from);
    const to = split(e.to);
    const ft = types.get(from.node);
    const tt = types.get(to.node);
    const fromInfo = ft !== undefined ? registry.get(ft) : undefined;
    const toInfo = tt !== undefined ? registry.get(tt) : undefined;
    if (!fromInfo || !toInfo) return;
    out.push({ index, from, to, fromInfo, toInfo, fromPort: findPort(fromInfo, 'output', from.port), toPort: findPort(toInfo, 'input', to.port) });
  });
  return out;
}

/**
 * A CORRECTOR output may only feed a solver whose registry info sets `acceptsCorrector` (a multistep predictor
 * whose corrector is defined, e.g. UniPC's UniC). Fires whether or not the solver block declares a corrector port,
 * so the user reads why rather than "no such port".
 */
export const correctorNeedsSupport: ComposeRule = ({ edges }) => {
  const out: ComposeFinding[] = [];
  for (const e of edges) {
    if (e.fromPort?.type !== 'CORRECTOR' || !e.toInfo.solver || e.toInfo.solver.acceptsCorrector) continue;
    out.push({
      nodeId: e.to.node,
      edgeIndex: e.index,
      message:
        `corrector "${e.from.node}" (${e.fromInfo.type}) cannot attach to solver "${e.to.node}" (${e.toInfo.type}): ` +
        `that solver does not accept a corrector (its registry info has no acceptsCorrector); ` +
        `use a solver that does, or remove the edge`,
    });
  }
  return out;
};

/** The rules the loader and `canConnect` apply, in order. */
export const COMPOSE_RULES: readonly ComposeRule[] = [correctorNeedsSupport];
