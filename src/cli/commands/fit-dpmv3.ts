/** `dpipe fit dpmv3 MODEL.onnx|FILE.dpipe`: DPM-Solver-v3's empirical model statistics, saved beside the model. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DpipeError } from '../../engine/core/errors';
import type { Denoiser } from '../../engine/core/types';
import { fitOnPipeline, findSite } from '../../engine/learned/capture';
import { EmsAccumulator, emsToJson, type Ems } from '../../engine/learned/dpmv3';
import { loadModel } from '../../engine/model/index';
import { seededBatch } from '../../engine/noise/seeded';
import { EXIT, intOption, options, usageError, defineCommand } from '../command';
import { editPipelineText, numberOption, writeText } from './fit';
import { loadForRun, pipelineSource, shown } from './shared';

const USAGE = `Usage: dpipe fit dpmv3 MODEL.onnx|FILE.dpipe [options]

DPM-Solver-v3 (Zheng et al. 2023): computes the empirical model statistics l, s, b (paper eqs. 9-10, Appendix
C.1.1) of your model on a λ-uniform grid from a few ODE trajectories: l from the diagonal of the model's Jacobian
(Rademacher probes, central differences: 2 extra evaluations per grid point), s and b by per-dimension least
squares of df/dλ on f along the trajectories. Cost: about 4 × steps model evaluations per sample.
On a model: unconditional, σ range of the model. On a pipeline: its model with its conditioning and guidance, the
σ range of its schedule, its noise; a solver.dpm_solver_v3 block feeding the Sample block gets its "file" set.

Options:
  --samples N      trajectories (default 64; the paper uses 1024)
  --steps K        λ-grid intervals (default 400; the reference uses 1200 for < 10 sampling steps, 120 above)
  --out FILE       the statistics file (.json; default MODEL.onnx.ems.json beside the model)
  --sigma-min S    smallest σ (default: the model's, or the pipeline schedule's last positive σ)
  --sigma-max S    largest σ (default: the model's, or the pipeline schedule's first σ)
  --batch B        samples per model call (model route; default min(N, 64))
  --seed S         seed of the start noise and probes (default 0)
  --sample ID      the Sample block to fit for (pipeline route; default: the only one)
  -q, --quiet      print nothing but the file written
  -h, --help       this text`;

export const fitDpmv3Command = defineCommand({
  name: 'fit dpmv3',
  summary: 'DPM-Solver-v3 empirical model statistics (l, s, b) of your model, saved beside it',
  usage: USAGE,
  options: options(['samples', 'steps', 'out', 'sigma-min', 'sigma-max', 'batch', 'seed', 'sample'], ['quiet']),
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw usageError(this, 'give one model (.onnx) or pipeline (.dpipe)');
    const samples = intOption(this, '--samples', values.samples, 2) ?? 64;
    const steps = intOption(this, '--steps', values.steps, 2) ?? 400;
    const seed = intOption(this, '--seed', values.seed, 0) ?? 0;
    const sMinOpt = numberOption(this, '--sigma-min', values['sigma-min'], 0);
    const sMaxOpt = numberOption(this, '--sigma-max', values['sigma-max'], 0);
    const file = positionals[0];
    const abs = path.resolve(io.cwd, file);
    const t0 = performance.now();
    let ems: Ems;
    let outPath: string;
    let pipelineEdit: (() => void) | undefined;

    if (/\.onnx$/i.test(file)) {
      if (!fs.existsSync(abs)) throw new DpipeError('E_FILE_MISSING', `${file}: no such file`);
      const model = await loadModel({}, abs);
      if (!model.sampleShape) throw new DpipeError('E_MODEL', `${file}: the model does not fix its sample shape; set sampleShape in its sidecar ${path.basename(file)}.json`);
      const sigmaMin = sMinOpt || model.schedule.sigmaMin;
      const sigmaMax = sMaxOpt || model.schedule.sigmaMax;
      const den: Denoiser = async (x, sigma) => (await model.denoise(x, sigma, [model.unconditional], io.signal))[0];
      const batch = intOption(this, '--batch', values.batch, 1) ?? Math.min(samples, 64);
      const acc = new EmsAccumulator({ sigmaMin, sigmaMax, steps, probeSeed: seed, signal: io.signal }, model.sampleShape);
      const starts = (i0: number, n: number) => {
        const z = seededBatch(seed + i0, [n, ...model.sampleShape!], 0, 0);
        return { shape: [n, ...model.sampleShape!], data: z.map((v) => v * sigmaMax) };
      };
      for (let pass = 0; pass < 2; pass++) {
        for (let i0 = 0, bi = 0; i0 < samples; i0 += batch, bi++) {
          const n = Math.min(batch, samples - i0);
          if (!values.quiet) io.err(`pass ${pass + 1}/2: samples ${i0 + 1}–${i0 + n} of ${samples}\n`);
          if (pass === 0) await acc.jacobianPass(den, starts(i0, n), bi);
          else await acc.regressionPass(den, starts(i0, n));
        }
      }
      ems = { ...acc.result(), model: { path: path.basename(abs), sha256: model.info.sha256 } };
      outPath = path.resolve(io.cwd, values.out ?? `${file}.ems.json`);
    } else {
      const { doc } = loadForRun(io, file);
      const site = findSite(doc, values.sample);
      const modelNode = doc.nodes.find((n) => n.type === 'model.onnx');
      const modelPath = modelNode ? path.resolve(path.dirname(abs), String(modelNode.params?.path ?? '')) : undefined;
      ems = await fitOnPipeline(doc, site, { baseDir: path.dirname(abs), batch: samples, seed, signal: io.signal }, async ({ model, x, sigmas }) => {
        const positive = [...sigmas].filter((s) => s > 0);
        const sigmaMax = sMaxOpt || positive[0];
        const sigmaMin = sMinOpt || positive[positive.length - 1];
        if (Math.abs(sigmaMax - positive[0]) > 1e-9 * sigmaMax) {
          throw usageError(this, `on a pipeline the trajectories start at its first σ (${positive[0]}); --sigma-max must be left out or equal to it`);
        }
        const acc = new EmsAccumulator({ sigmaMin, sigmaMax, steps, probeSeed: seed, signal: io.signal }, x.shape.slice(1));
        await acc.jacobianPass(model, x);
        await acc.regressionPass(model, x);
        return acc.result();
      });
      if (modelPath) ems = { ...ems, model: { path: path.basename(modelPath) } };
      outPath = path.resolve(io.cwd, values.out ?? `${modelPath ?? abs}.ems.json`);
      if (site.solverType === 'solver.dpm_solver_v3') {
        pipelineEdit = () => {
          const rel = path.relative(path.dirname(abs), outPath).split(path.sep).join('/');
          const text = editPipelineText(pipelineSource(abs, file), [{ op: 'setParam', node: site.solver, param: 'file', value: rel }]);
          writeText(io, file, text);
          if (!values.quiet) io.err(`set ${site.solver}.file = "${rel}" in ${shown(io, abs)}\n`);
        };
      }
    }
    writeText(io, outPath, emsToJson(ems));
    pipelineEdit?.();
    if (!values.quiet) io.err(`EMS of ${ems.samples} samples on ${steps} λ intervals, σ ${ems.sigmaMax} → ${ems.sigmaMin} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
    io.out(`${shown(io, outPath)}\n`);
    return EXIT.OK;
  },
});
