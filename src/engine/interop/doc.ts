/**
 * Building and reading pipeline documents for the importers and exporters: a builder that hands out unique node ids
 * and collects edges, the edge that feeds an input, and the σ values a chain of schedule blocks gives on a model
 * (evaluated with the engine's own blocks, so an importer can check what it built: where a schedule starts and ends).
 */
import { DpipeError } from '../core/errors';
import type { ModelSchedule } from '../core/types';
import type { PipelineDoc, PipelineEdge, PipelineMetadata, PipelineNode } from '../format/types';
import { nodeTypes } from '../registry/index';
import type { ModelValue, Params, ParamValue } from '../registry/types';
import type { RunServices } from '../registry/node';

/** A block to add: its type and the params to write (unwritten params take the registry default). */
export interface BlockSpec {
  readonly type: string;
  readonly params: Params;
}

const ORDER = ['model', 'cond', 'guider', 'schedule', 'solver', 'corrector', 'noise', 'image.load', 'vae.encode', 'latent', 'sample', 'vae.decode', 'output'];

export class DocBuilder {
  readonly nodes: PipelineNode[] = [];
  readonly edges: PipelineEdge[] = [];

  /** Adds a block; the id is `base`, or `base_2`, `base_3`, … when taken. Returns the id. */
  add(base: string, type: string, params: Readonly<Record<string, ParamValue>> = {}): string {
    const stem = base.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^[^A-Za-z_]+/, '') || 'node';
    let id = stem;
    for (let i = 2; this.nodes.some((n) => n.id === id); i++) id = `${stem}_${i}`;
    this.nodes.push({ id, type, params: { ...params } });
    return id;
  }

  wire(from: string, to: string): void {
    this.edges.push({ from, to });
  }

  node(id: string): PipelineNode {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new DpipeError('E_INTERNAL', `no node ${id}`);
    return n;
  }

  setParams(id: string, params: Readonly<Record<string, ParamValue>>): void {
    const i = this.nodes.findIndex((x) => x.id === id);
    this.nodes[i] = { ...this.nodes[i], params: { ...this.nodes[i].params, ...params } };
  }

  /** The document, blocks in reading order (model, conditioning, guidance, schedule, solver, noise, latent, sample, decode, output). */
  doc(metadata: PipelineMetadata): PipelineDoc {
    const rank = (n: PipelineNode) => {
      const i = ORDER.findIndex((p) => n.type === p || n.type.startsWith(`${p}.`));
      return i < 0 ? ORDER.length : i;
    };
    const nodes = this.nodes.map((n, i) => ({ n, i })).sort((a, b) => rank(a.n) - rank(b.n) || a.i - b.i).map((x) => x.n);
    return { dpipe: 1, metadata, nodes, edges: [...this.edges] };
  }
}

/** The output endpoint (`node.port`) feeding input `node.port`, if any. */
export function feeding(doc: Pick<PipelineDoc, 'edges'>, to: string): string | undefined {
  return doc.edges.find((e) => e.to === to)?.from;
}

/** A node's params with the registry's defaults filled in. */
export function fullParams(node: PipelineNode): Record<string, ParamValue> {
  const info = nodeTypes().get(node.type);
  const out: Record<string, ParamValue> = {};
  for (const p of info?.params ?? []) out[p.name] = p.default as ParamValue;
  return { ...out, ...node.params };
}

const NO_SERVICES = {} as RunServices;

/**
 * The σ values at output `endpoint` of a chain of Schedule blocks, on a model with noise levels `model`. Any MODEL
 * input of the chain receives `model`; a block of another category in the chain is an internal error (importers only
 * build schedule chains fed by the model).
 */
export async function evaluateSigmas(doc: Pick<PipelineDoc, 'nodes' | 'edges'>, endpoint: string, model: ModelSchedule): Promise<Float64Array> {
  const cache = new Map<string, Record<string, unknown>>();
  const modelValue = { schedule: model } as unknown as ModelValue;
  const run = async (id: string): Promise<Record<string, unknown>> => {
    const hit = cache.get(id);
    if (hit) return hit;
    const node = doc.nodes.find((n) => n.id === id);
    const type = node && nodeTypes().get(node.type);
    if (!node || !type) throw new DpipeError('E_INTERNAL', `evaluateSigmas: no block ${id}`);
    if (type.category !== 'Schedule') throw new DpipeError('E_INTERNAL', `evaluateSigmas: ${id} (${node.type}) is not a schedule block`);
    const inputs: Record<string, unknown> = {};
    for (const port of type.inputs) {
      const from = feeding(doc, `${id}.${port.name}`);
      if (port.type === 'MODEL') inputs[port.name] = modelValue;
      else if (from && port.type === 'SIGMAS') {
        const [src, out] = from.split('.');
        inputs[port.name] = (await run(src))[out];
      }
    }
    const out = await type.evaluate({ nodeId: id, baseDir: '.', services: NO_SERVICES }, inputs, fullParams(node));
    cache.set(id, out);
    return out;
  };
  const [id, port] = endpoint.split('.');
  return (await run(id))[port] as Float64Array;
}
