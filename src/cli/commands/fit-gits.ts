/** `dpipe fit gits FILE.dpipe --nfe N`: fits a GITS time schedule on the pipeline's model and writes it into the file. */
import * as path from 'node:path';
import { DpipeError } from '../../engine/core/errors';
import { freshNodeId, type GraphOp } from '../../engine/graph/index';
import { fitOnPipeline, findSite } from '../../engine/learned/capture';
import { fitGits, GITS_METRICS, type GitsMetric } from '../../engine/learned/gits';
import { EXIT, intOption, options, usageError, defineCommand } from '../command';
import { editPipelineText, numberOption, writeText } from './fit';
import { loadForRun, pipelineSource, shown } from './shared';

const USAGE = `Usage: dpipe fit gits FILE.dpipe --nfe N [options]

GITS (Chen et al. 2024, "On the Trajectory Regularity of ODE-based Diffusion Sampling"): runs a few warm-up
trajectories of the pipeline's model (its conditioning, guidance and noise) with a teacher solver (iPNDM) on a
fine grid between the first and the last positive σ of the pipeline's schedule, measures the error of one Euler
step between every pair of grid points, and chooses by dynamic programming the N-step schedule of least
(discounted) total error. The σ values are written into the file as a schedule.gits block feeding the Sample block
(an existing schedule.gits block there is updated; any other schedule is left in the file, disconnected).
If the pipeline's schedule ends at σ = 0, the fitted schedule ends at 0 too, and that last step counts in N.

Options:
  --nfe N          model evaluations of a one-evaluation-per-step solver (Euler, DPM-Solver++ 2M, iPNDM)
  --samples K      warm-up trajectories (the run's batch size; default 16)
  --fine M         time points of the fine teacher grid (polynomial ρ = 7; default 61)
  --gamma G        DP discount γ (default 1.15, the reference's coeff)
  --metric NAME    cost metric: ${GITS_METRICS.join(', ')} (default l2)
  --seed S         seed of the warm-up noise (default: the pipeline's)
  --sample ID      the Sample block to fit for (default: the only one)
  --node ID        id of the schedule.gits block to create (default: "gits", or the next free id)
  --out FILE       write the edited pipeline here instead of FILE.dpipe
  --dry-run        print the fitted σ values, do not write
  -q, --quiet      print nothing but the result
  -h, --help       this text`;

export const fitGitsCommand = defineCommand({
  name: 'fit gits',
  summary: 'GITS time schedule by dynamic programming over warm-up trajectories, written into FILE.dpipe',
  usage: USAGE,
  options: options(['nfe', 'samples', 'fine', 'gamma', 'metric', 'seed', 'sample', 'node', 'out'], ['dry-run', 'quiet']),
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw usageError(this, positionals.length ? `expected one .dpipe file; got ${positionals.join(' ')}` : 'give the .dpipe file to fit on');
    const nfe = intOption(this, '--nfe', values.nfe, 1);
    if (nfe === undefined) throw usageError(this, '--nfe N is required');
    const samples = intOption(this, '--samples', values.samples, 1) ?? 16;
    const fine = intOption(this, '--fine', values.fine, 3) ?? 61;
    const gamma = numberOption(this, '--gamma', values.gamma, 0) ?? 1.15;
    const seed = intOption(this, '--seed', values.seed, 0);
    const metric = (values.metric ?? 'l2') as GitsMetric;
    if (!GITS_METRICS.includes(metric)) throw usageError(this, `--metric must be one of ${GITS_METRICS.join(', ')}; got "${values.metric}"`);

    const file = positionals[0];
    if (/\.png$/i.test(file) && !values.out && !values['dry-run']) throw usageError(this, `${file} is a PNG; give --out FILE.dpipe to save the fitted pipeline`);
    const { doc, abs } = loadForRun(io, file);
    const site = findSite(doc, values.sample);
    const t0 = performance.now();
    const fit = await fitOnPipeline(doc, site, { baseDir: path.dirname(abs), batch: samples, seed, signal: io.signal }, async ({ model, x, sigmas }) => {
      const positive = [...sigmas].filter((s) => s > 0);
      const toZero = sigmas[sigmas.length - 1] === 0;
      const steps = nfe - (toZero ? 1 : 0);
      if (steps < 1) throw usageError(this, `--nfe ${nfe} leaves no GITS step before the final step to σ = 0; use --nfe 2 or more`);
      const sMax = positive[0];
      const sMin = positive[positive.length - 1];
      if (!(sMax > sMin)) throw new DpipeError('E_COMPOSE', `the pipeline's schedule (${[...sigmas].join(', ')}) has no σ range to fit over`);
      return { toZero, ...(await fitGits(model, x, sMax, sMin, { steps, finePoints: fine, gamma, metric, signal: io.signal })) };
    });
    const ms = performance.now() - t0;
    const sig = fit.sigmas.map((s) => +s.toPrecision(6));
    const params = {
      values: sig,
      final: fit.toZero ? 'zero' : 'none',
      finePoints: fine,
      samples,
      gamma,
      metric,
      cost: Math.max(0, +fit.cost.toPrecision(6)),
    } as const;
    if (!values.quiet || values['dry-run']) {
      io.err(`GITS on "${site.sample}": ${samples} warm-up trajectories × ${fine - 1} teacher steps (${(ms / 1000).toFixed(1)} s); DP cost ${fit.cost.toPrecision(4)}\n`);
    }
    io.out(`σ = [${sig.join(', ')}]${fit.toZero ? ' then 0' : ''}\n`);
    if (values['dry-run']) return EXIT.OK;

    let text = pipelineSource(abs, file);
    const ops: GraphOp[] = [];
    let target = site.scheduleType === 'schedule.gits' && !values.node ? site.schedule : undefined;
    if (target) {
      for (const [k, v] of Object.entries(params)) ops.push({ op: 'setParam', node: target, param: k, value: v });
    } else {
      target = values.node ?? freshNodeId(doc, 'schedule.gits');
      const existing = doc.nodes.find((n) => n.id === target);
      if (existing && existing.type !== 'schedule.gits') throw usageError(this, `--node ${target}: that id is a ${existing.type} block`);
      if (existing) for (const [k, v] of Object.entries(params)) ops.push({ op: 'setParam', node: target, param: k, value: v });
      else {
        const old = doc.nodes.find((n) => n.id === site.schedule)?.position;
        ops.push({ op: 'addNode', type: 'schedule.gits', id: target, params, position: old ? { x: old.x, y: old.y + 160 } : undefined });
      }
      ops.push({ op: 'connect', from: `${target}.sigmas`, to: `${site.sample}.sigmas`, replace: true });
    }
    text = editPipelineText(text, ops);
    const written = writeText(io, values.out ?? file, text);
    if (!values.quiet) io.err(`wrote schedule.gits "${target}" into ${shown(io, written)}\n`);
    return EXIT.OK;
  },
});
