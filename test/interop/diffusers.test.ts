/**
 * diffusers: a scheduler_config.json imported into schedule + solver blocks (preset "diffusers") for a model folder,
 * and a pipeline exported as a runnable script. The script is run with Debian's python3 (numpy, torch; diffusers is
 * imported only inside main(), so the test reads its settings and loads its noise without diffusers) and must hold the
 * scheduler class and config, steps, guidance, prompts and exactly the pipeline's initial noise.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeNpy } from '../../src/engine/core/npy';
import type { PipelineDoc, PipelineNode } from '../../src/engine/format/types';
import { exportDiffusersPython } from '../../src/engine/interop/diffusersExport';
import { importSchedulerConfig, schedulerBlocks } from '../../src/engine/interop/diffusersScheduler';
import { fullParams } from '../../src/engine/interop/doc';
import type { ModelFolder } from '../../src/engine/model/folder';
import { folderPipeline } from '../../src/engine/model/folderPipeline';
import { nodeTypes } from '../../src/engine/registry/index';
import type { RunServices } from '../../src/engine/registry/node';
import type { NoiseValue } from '../../src/engine/registry/types';

const SD15 = { beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', num_train_timesteps: 1000, prediction_type: 'epsilon', steps_offset: 1, timestep_spacing: 'leading', clip_sample: false, set_alpha_to_one: false, skip_prk_steps: true };

/** The parts of a model folder folderPipeline reads (no files). */
function folder(className: string, config: Record<string, unknown>): ModelFolder {
  return {
    dir: '/models/sd15', family: 'sd', pipelineClass: 'StableDiffusionPipeline', index: {},
    denoiser: { config: { sample_size: 8, in_channels: 4 } }, textEncoders: [], vaeDecoder: { config: { block_out_channels: [1, 2, 3, 4] } },
    scheduler: { className, config: { _class_name: className, ...SD15, ...config }, path: '' }, notes: [],
  } as unknown as ModelFolder;
}

const pipeline = (className: string, config: Record<string, unknown>, steps = 12): PipelineDoc =>
  folderPipeline(folder(className, config), { modelPath: 'sd15', prompt: 'a red bicycle', negative: 'blurry', steps }, nodeTypes());

async function noiseOf(node: PipelineNode, shape: readonly number[]) {
  const out = await nodeTypes().get(node.type)!.evaluate({ nodeId: node.id, baseDir: '.', services: { batch: shape[0] } as RunServices }, {}, fullParams(node));
  return (out.noise as NoiseValue).initial(shape);
}

const CASES: [string, Record<string, unknown>][] = [
  ['DDIMScheduler', {}],
  ['PNDMScheduler', {}],
  ['EulerDiscreteScheduler', {}],
  ['EulerDiscreteScheduler', { use_karras_sigmas: true, timestep_spacing: 'trailing' }],
  ['EulerAncestralDiscreteScheduler', { timestep_spacing: 'linspace' }],
  ['HeunDiscreteScheduler', {}],
  ['LMSDiscreteScheduler', {}],
  ['DPMSolverMultistepScheduler', { algorithm_type: 'dpmsolver++', solver_order: 2, use_karras_sigmas: true }],
  ['DPMSolverMultistepScheduler', { algorithm_type: 'dpmsolver++', solver_order: 3, final_sigmas_type: 'sigma_min' }],
  ['DPMSolverMultistepScheduler', { algorithm_type: 'sde-dpmsolver++', solver_order: 2 }],
  ['DPMSolverSinglestepScheduler', { solver_order: 2 }],
  ['UniPCMultistepScheduler', { solver_order: 2, solver_type: 'bh2' }],
  ['DEISMultistepScheduler', { solver_order: 3 }],
];

describe('diffusers: scheduler configs in, scripts out', function () {
  this.timeout(120000);

  for (const [cls, cfg] of CASES) {
    it(`${cls} ${JSON.stringify(cfg)}: import gives the scheduler's blocks; the export names the same class and config`, async () => {
      const config = { _class_name: cls, ...SD15, ...cfg };
      const imported = importSchedulerConfig(config, 12, { _class_name: cls, ...SD15 });
      assert.ok(imported.blocks, imported.issues.map((i) => i.message).join('\n'));
      assert.equal(imported.blocks!.reproduces, cls);
      const doc = pipeline(cls, cfg);
      const solver = doc.nodes.find((n) => n.id === 'solver')!;
      assert.equal(solver.type, imported.blocks!.solver.type);
      const e = await exportDiffusersPython(doc, { modelDir: 'sd15', noiseFile: 'x.noise.npy', imageFile: 'x.png', scriptFile: 'x.py', latentShape: [1, 4, 8, 8], source: 'x.dpipe' }, noiseOf);
      assert.ok(e.script, e.issues.map((i) => i.message).join('\n'));
      assert.equal(e.className, cls);
      // The exported config gives the same blocks as the folder's (schedulerBlocks both ways).
      const back = schedulerBlocks(cls, e.config!, 12);
      assert.deepEqual([back.solver, back.schedule, back.noiseScale, back.roundTimesteps], [imported.blocks!.solver, imported.blocks!.schedule, imported.blocks!.noiseScale, imported.blocks!.roundTimesteps]);
    });
  }

  it('the script runs in Python: its settings and its noise (.npy) are the pipeline\'s', async () => {
    const doc = pipeline('DPMSolverMultistepScheduler', { algorithm_type: 'dpmsolver++', solver_order: 2, use_karras_sigmas: true }, 9);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-diffusers-'));
    try {
      const shape = [1, 4, 8, 8];
      const e = await exportDiffusersPython(doc, { modelDir: 'sd15', noiseFile: 'run.noise.npy', imageFile: 'run.png', scriptFile: 'run.py', latentShape: shape, source: 'run.dpipe' }, noiseOf);
      fs.writeFileSync(path.join(dir, 'run.py'), e.script!);
      fs.writeFileSync(path.join(dir, 'run.noise.npy'), encodeNpy(e.noise!.shape, e.noise!.data, '<f4'));
      const probe = `
import importlib.util, json, sys, numpy as np
spec = importlib.util.spec_from_file_location("run", sys.argv[1])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
z = np.load(m.os.path.join(m.HERE, m.NOISE))
print(json.dumps({"scheduler": m.SCHEDULER, "config": m.SCHEDULER_CONFIG, "steps": m.STEPS, "guidance": m.GUIDANCE, "prompt": m.PROMPT, "negative": m.NEGATIVE, "size": [m.WIDTH, m.HEIGHT], "shape": list(z.shape), "dtype": str(z.dtype), "noise": [float(v) for v in z.reshape(-1)[:8]], "sum": float(z.astype(np.float64).sum())}))
`;
      const r = spawnSync('/usr/bin/python3', ['-c', probe, path.join(dir, 'run.py')], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const got = JSON.parse(r.stdout);
      assert.equal(got.scheduler, 'DPMSolverMultistepScheduler');
      assert.equal(got.config.use_karras_sigmas, true);
      assert.equal(got.config.algorithm_type, 'dpmsolver++');
      assert.deepEqual([got.steps, got.guidance, got.prompt, got.negative, got.size], [9, 7.5, 'a red bicycle', 'blurry', [64, 64]]);
      assert.deepEqual([got.shape, got.dtype], [shape, 'float32']);
      const z = e.noise!.data;
      got.noise.forEach((v: number, i: number) => assert.equal(v, Math.fround(z[i])));
      assert.ok(Math.abs(got.sum - [...z].reduce((a, b) => a + Math.fround(b), 0)) < 1e-9);
      const compiled = spawnSync('/usr/bin/python3', ['-m', 'py_compile', path.join(dir, 'run.py')], { encoding: 'utf8' });
      assert.equal(compiled.status, 0, compiled.stderr);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('noise.torch with diffusers\' order on the CPU: the script seeds the generator instead of loading a .npy', async () => {
    const doc = pipeline('EulerAncestralDiscreteScheduler', {});
    const withTorch = { ...doc, nodes: doc.nodes.map((n) => (n.id === 'noise' ? { ...n, type: 'noise.torch', params: { seed: 1234, order: 'diffusers', source: 'cpu' } } : n)) };
    const e = await exportDiffusersPython(withTorch, { modelDir: 'sd15', noiseFile: 'x.npy', imageFile: 'x.png', scriptFile: 'x.py', source: 'x.dpipe' });
    assert.equal(e.noise, undefined);
    assert.match(e.script!, /generator = torch\.Generator\("cpu"\)\.manual_seed\(1234\)/);
  });

  it('names what diffusers does not run: a k-diffusion solver on diffusers timesteps, CFG rescale', async () => {
    const doc = pipeline('DPMSolverMultistepScheduler', { algorithm_type: 'dpmsolver++' });
    const kd = { ...doc, nodes: doc.nodes.map((n) => (n.id === 'solver' ? { ...n, params: { preset: 'k-diffusion' } } : n)) };
    const e = await exportDiffusersPython(kd, { modelDir: 'sd15', noiseFile: 'x.npy', imageFile: 'x.png', scriptFile: 'x.py', latentShape: [1, 4, 8, 8], source: 'x.dpipe' }, noiseOf);
    assert.equal(e.script, undefined);
    assert.equal(e.issues[0].nodeId, 'solver');
    assert.match(e.issues[0].message, /solver\.dpmpp_2m "solver" has no diffusers equivalent/);
    const rescaled = { ...doc, nodes: doc.nodes.map((n) => (n.id === 'guider' ? { ...n, params: { ...n.params, rescale: 0.7 } } : n)) };
    const r = await exportDiffusersPython(rescaled, { modelDir: 'sd15', noiseFile: 'x.npy', imageFile: 'x.png', scriptFile: 'x.py', latentShape: [1, 4, 8, 8], source: 'x.dpipe' }, noiseOf);
    assert.equal(r.issues[0].nodeId, 'guider');
  });
});
