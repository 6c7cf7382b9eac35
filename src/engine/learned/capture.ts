/**
 * Fitting on the user's own pipeline: runs a .dpipe document with the solver of one Sample block replaced by a
 * fitting procedure, which receives exactly what that solver would have received — the guided, instrumented
 * denoiser (the model with its conditioning and guidance, NFE counted, AbortSignal honoured), the start state
 * x_T (the pipeline's noise, at the pipeline's batch size and seed) and the pipeline's σ schedule.
 *
 * So `dpipe fit gits|dc|dpmv3 FILE.dpipe` fits on the same model, conditioning, guidance and noise the pipeline
 * runs with, without any of the fitting code knowing about graphs.
 */
import { DpipeError } from '../core/errors';
import type { Denoiser, Latent, SolverContext } from '../core/types';
import type { PipelineDoc } from '../format/types';
import type { NodeType } from '../registry/node';
import { nodeTypes } from '../registry/index';
import type { SamplerValue } from '../registry/types';
import { runPipeline, type RunOptions } from '../run/index';

/** What a fitting procedure sees: the solver call of the chosen Sample block. */
export interface CapturedCall {
  readonly model: Denoiser;
  readonly x: Latent;
  readonly sigmas: Float64Array;
  readonly ctx: SolverContext;
}

/** Where the fitted values go in the document: the Sample block, its solver and its schedule node ids. */
export interface PipelineSite {
  readonly sample: string;
  readonly solver: string;
  readonly solverType: string;
  /** The node feeding `sample.sigmas` and its output port. */
  readonly schedule: string;
  readonly schedulePort: string;
  readonly scheduleType: string;
}

/** Finds the Sample block to fit on (the given id, or the only one) and the nodes feeding it. */
export function findSite(doc: PipelineDoc, sampleId?: string): PipelineSite {
  const samples = doc.nodes.filter((n) => n.type === 'sample');
  let sample = sampleId ? doc.nodes.find((n) => n.id === sampleId) : samples[0];
  if (sampleId && (!sample || sample.type !== 'sample')) {
    throw new DpipeError('E_USAGE', `no Sample block "${sampleId}" in the pipeline; Sample blocks: ${samples.map((n) => n.id).join(', ') || 'none'}`);
  }
  if (!sampleId && samples.length !== 1) {
    throw new DpipeError('E_USAGE', samples.length === 0 ? 'the pipeline has no Sample block to fit on' : `the pipeline has ${samples.length} Sample blocks (${samples.map((n) => n.id).join(', ')}); choose one with --sample ID`);
  }
  sample = sample!;
  const feed = (port: string) => {
    const e = doc.edges.find((ed) => ed.to === `${sample!.id}.${port}`);
    if (!e) throw new DpipeError('E_INPUT_MISSING', `Sample block "${sample!.id}" has no ${port} input connected`);
    const dot = e.from.indexOf('.');
    const id = e.from.slice(0, dot);
    const node = doc.nodes.find((n) => n.id === id);
    if (!node) throw new DpipeError('E_EDGE', `edge ${e.from} → ${e.to}: no node "${id}"`);
    return { id, port: e.from.slice(dot + 1), type: node.type };
  };
  const solver = feed('sampler');
  const sched = feed('sigmas');
  return { sample: sample.id, solver: solver.id, solverType: solver.type, schedule: sched.id, schedulePort: sched.port, scheduleType: sched.type };
}

/**
 * Runs `doc` once with the solver of `site.solver` replaced by `fit`; resolves to what `fit` returned.
 * The pipeline's outputs are not written (no output folder); the trajectory is not recorded.
 */
export async function fitOnPipeline<T>(
  doc: PipelineDoc,
  site: PipelineSite,
  opts: Pick<RunOptions, 'baseDir' | 'batch' | 'seed' | 'signal' | 'loadModel' | 'readNpy' | 'set'>,
  fit: (call: CapturedCall) => Promise<T>,
): Promise<T> {
  const base = nodeTypes();
  const original = base.get(site.solverType);
  if (!original) throw new DpipeError('E_NODE_TYPE', `node "${site.solver}" has the unknown type ${site.solverType}`);
  let result: { value: T } | undefined;
  const wrapped: NodeType = {
    ...original,
    async evaluate(ctx, inputs, params) {
      if (ctx.nodeId !== site.solver) return original.evaluate(ctx, inputs, params);
      const sampler: SamplerValue = {
        type: original.type,
        info: original.solver ?? { order: 1, nfePerStep: 1, stochastic: false },
        params,
        nfe: (sigmas) => (original.solverEntry ? original.solverEntry.nfe(sigmas, params) : sigmas.length - 1),
        async run(model, x, sigmas, _p, sctx) {
          result = { value: await fit({ model, x, sigmas, ctx: sctx }) };
          return x;
        },
      };
      return { sampler };
    },
  };
  const types = new Map(base);
  types.set(site.solverType, wrapped);
  const res = await runPipeline(doc, { ...opts, nodeTypes: types, trajectory: { record: false } });
  if (res.status === 'aborted') throw res.error ?? new DpipeError('E_ABORTED', 'The fit was stopped.');
  if (!result) throw new DpipeError('E_COMPOSE', `Sample block "${site.sample}" did not run: connect it to an output (or remove the outputs) so that the pipeline runs it`);
  return result.value;
}
