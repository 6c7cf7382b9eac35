/** `dpipe fit dc FILE.dpipe`: fits DC-Solver's compensation ratios on the pipeline's model and writes them into the file. */
import * as path from 'node:path';
import { DpipeError } from '../../engine/core/errors';
import { fitOnPipeline, findSite } from '../../engine/learned/capture';
import { DC_PARAMS, fitDcRatios } from '../../engine/learned/dcsolver';
import { readParams } from '../../engine/registry/params';
import { EXIT, intOption, options, usageError, defineCommand } from '../command';
import { editPipelineText, writeText } from './fit';
import { loadForRun, pipelineSource, shown } from './shared';

const USAGE = `Usage: dpipe fit dc FILE.dpipe [options]

DC-Solver (Zhao et al. 2024): fits the dynamic compensation ratio of each step of the pipeline's solver.dc_solver
block on a few trajectories of its model (its conditioning, guidance, noise and schedule) against a high-NFE
reference (DPM-Solver++(2M) with many substeps per interval), step after step, and writes them into the block's
"ratios". Cost: about 30 model evaluations per step per batch, plus the reference.

Options:
  --samples K        trajectories (the run's batch size; default 16)
  --ref-substeps S   reference substeps per interval of the schedule (default 40)
  --seed S           seed of the noise (default: the pipeline's)
  --sample ID        the Sample block to fit for (default: the only one)
  --out FILE         write the edited pipeline here instead of FILE.dpipe
  --dry-run          print the ratios, do not write
  -q, --quiet        print nothing but the result
  -h, --help         this text`;

export const fitDcCommand = defineCommand({
  name: 'fit dc',
  summary: 'DC-Solver compensation ratios against a high-NFE reference, written into FILE.dpipe',
  usage: USAGE,
  options: options(['samples', 'ref-substeps', 'seed', 'sample', 'out'], ['dry-run', 'quiet']),
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw usageError(this, 'give the .dpipe file to fit on');
    const samples = intOption(this, '--samples', values.samples, 1) ?? 16;
    const sub = intOption(this, '--ref-substeps', values['ref-substeps'], 2) ?? 40;
    const seed = intOption(this, '--seed', values.seed, 0);
    const file = positionals[0];
    const { doc, abs } = loadForRun(io, file);
    const site = findSite(doc, values.sample);
    if (site.solverType !== 'solver.dc_solver') {
      throw new DpipeError('E_COMPOSE', `the Sample block "${site.sample}" is driven by ${site.solverType} ("${site.solver}"); replace it by a solver.dc_solver block, then fit its ratios`);
    }
    const node = doc.nodes.find((n) => n.id === site.solver)!;
    const o = readParams('solver.dc_solver', DC_PARAMS, node.params ?? {});
    const t0 = performance.now();
    const fit = await fitOnPipeline(doc, site, { baseDir: path.dirname(abs), batch: samples, seed, signal: io.signal }, ({ model, x, sigmas }) =>
      fitDcRatios(model, x, sigmas, o, { refSubsteps: sub, signal: io.signal }),
    );
    if (!values.quiet) io.err(`DC-Solver on "${site.sample}": ${samples} trajectories, reference ${sub} substeps per interval (${((performance.now() - t0) / 1000).toFixed(1)} s); per-step MSE ${fit.losses.map((l) => l.toPrecision(3)).join(', ')}\n`);
    io.out(`ratios = [${fit.ratios.join(', ')}]\n`);
    if (values['dry-run']) return EXIT.OK;
    const text = editPipelineText(pipelineSource(abs, file), [
      { op: 'setParam', node: site.solver, param: 'ratios', value: fit.ratios },
      { op: 'setParam', node: site.solver, param: 'fitSamples', value: samples },
      { op: 'setParam', node: site.solver, param: 'fitRefSubsteps', value: sub },
    ]);
    const written = writeText(io, values.out ?? file, text);
    if (!values.quiet) io.err(`wrote ${site.solver}.ratios into ${shown(io, written)}\n`);
    return EXIT.OK;
  },
});
