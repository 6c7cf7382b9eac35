/**
 * NOISE blocks: the seeded generator (`seeded.ts`, its algorithm is part of the file format), noise
 * read from .npy files (`file.ts`), and torch's generators in the draw orders of ComfyUI, diffusers and
 * A1111 (`torch.ts`), for reproducing another tool's run draw for draw, and per-step draws from Brownian trees
 * (`brownian.ts`) for the SDE solvers.
 */
import * as path from 'path';
import { DpipeError } from '../core/errors';
import { defineBlock, type NodeType } from '../registry/node';
import { checkParamValue, defineParam, defineParams } from '../registry/params';
import type { NoiseValue } from '../registry/types';
import { NOISE_BROWNIAN } from './brownian';
import { fileNoise } from './file';
import { seededNoise } from './seeded';
import { TORCH_NOISE_ORDERS, torchNoise } from './torch';
import { TORCH_CPU_KERNELS } from './torchcpu';

export { torchNoise } from './torch';
export { seededNoise, seededBatch, normalDraw, STREAM_INITIAL, STREAM_STEPS } from './seeded';
export { fileNoise } from './file';

/** The seed a run uses: the run's override (--seed) when it has one, else the block's; an error naming what is allowed. */
function seedOf(seed: number, override: number | undefined): number {
  const s = override ?? seed;
  const why = checkParamValue(SEED_PARAM, s);
  if (why) throw new DpipeError('E_PARAM_VALUE', `seed ${why}.`);
  return s;
}

const SEED_PARAM = defineParam({ name: 'seed', type: 'seed', default: 0, doc: 'Seed of batch item 0 (item b uses seed + b). Integer ≥ 0.' });
const SEEDED_PARAMS = defineParams(SEED_PARAM);

const SEEDED = defineBlock({
  type: 'noise.seeded',
  category: 'Noise',
  title: 'Seeded noise',
  doc:
    'Standard-normal noise from a seed: Philox4x32-10 counters with a Box–Muller transform in IEEE-exact arithmetic, ' +
    'identical on every OS and Node version. Batch item b uses seed + b; the initial noise and the solver\'s per-step ' +
    'draws come from separate streams, so the initial noise does not depend on the solver. A run\'s --seed replaces the seed.',
  paper: 'Salmon et al. 2011, "Parallel random numbers: as easy as 1, 2, 3" (Philox4x32-10); Box & Muller 1958.',
  inputs: [],
  outputs: [{ name: 'noise', type: 'NOISE', doc: 'Initial noise and per-step draws.' }],
  params: SEEDED_PARAMS,
  async evaluate(ctx, _inputs, o) {
    const noise: NoiseValue = seededNoise(seedOf(o.seed, ctx.services.seed), ctx.services.batch ?? 1);
    return { noise };
  },
});

const NPY_PARAMS = defineParams(
    { name: 'initial', type: 'file', default: '', extensions: ['npy'], mustExist: true, doc: 'Initial noise [B, ...] (empty: seeded).' },
    { name: 'steps', type: 'file', default: '', extensions: ['npy'], mustExist: true, doc: 'Per-step noise [K, B, ...], one slice per draw (empty: seeded).' },
    { name: 'seed', type: 'seed', default: 0, doc: 'Seed for the part that has no file.' },
);

const NPY = defineBlock({
  type: 'noise.npy',
  category: 'Noise',
  title: 'Noise from .npy',
  doc:
    'Noise read from NumPy files, to reproduce another tool\'s run exactly. `initial`: the starting noise [B, ...] ' +
    '(standard normal; the Sample node scales it by the first σ). `steps`: per-step draws [K, B, ...], consumed in ' +
    'order, one slice per draw of the solver; a run that needs more than K draws stops with E_NOISE_EXHAUSTED. ' +
    'A part left empty comes from the seeded generator with `seed`.',
  inputs: [],
  outputs: [{ name: 'noise', type: 'NOISE', doc: 'Initial noise and per-step draws.' }],
  params: NPY_PARAMS,
  async evaluate(ctx, _inputs, o) {
    const read = async (p: string) => {
      if (p === '') return undefined;
      const abs = path.resolve(ctx.baseDir, p);
      return { arr: await ctx.services.readNpy(abs), name: p };
    };
    const initial = await read(o.initial);
    const steps = await read(o.steps);
    const noise: NoiseValue = fileNoise({
      initial: initial?.arr,
      initialName: initial?.name,
      steps: steps?.arr,
      stepsName: steps?.name,
      seed: seedOf(o.seed, ctx.services.seed),
    });
    return { noise };
  },
});

/** seedResizeFrom: [] (off) or the latent's [height, width]. */
function resizeOf(v: readonly number[]): readonly [number, number] | undefined {
  if (v.length === 0) return undefined;
  if (v.length !== 2 || !v.every((x) => Number.isInteger(x) && x >= 1)) {
    throw new DpipeError('E_PARAM_VALUE', `seedResizeFrom must be [] (off) or [height, width] of the latent, two integers ≥ 1; got [${v.join(', ')}].`);
  }
  return [v[0], v[1]];
}

const TORCH_PARAMS = defineParams(
    { name: 'seed', type: 'seed', default: 0, doc: 'The tool\'s seed (A1111: the seed of batch item 0, item b uses seed + b). Integer ≥ 0.' },
    {
      name: 'order',
      type: 'enum',
      default: 'comfyui',
      options: [...TORCH_NOISE_ORDERS],
      optionDocs: {
        comfyui: 'ComfyUI KSampler/SamplerCustom: one randn of the whole batch from torch.manual_seed(seed) on the CPU; per-step draws (x-shaped) from a separate generator (seed + 1 on a CPU run; seed on a GPU, see source).',
        diffusers: 'diffusers with generator=torch.Generator(...).manual_seed(seed): the latents, then every scheduler step\'s noise (EulerAncestral, DDPM, DDIM η > 0, DPM-Solver SDE variants, LCM) from the same generator.',
        'diffusers-per-item': 'diffusers with a list of generators, item b seeded seed + b: each item\'s latents and per-step noise from its own generator.',
        a1111: 'A1111/Forge (ImageRNG): item b from its own generator seeded seed + b; first draw = initial noise, later draws = per-step noise; with the variation seed, seed resize and ENSD options below.',
      },
      doc: 'Which tool\'s draw order to reproduce.',
    },
    {
      name: 'source',
      type: 'enum',
      default: 'cpu',
      options: ['cpu', 'nv'],
      optionDocs: {
        cpu: 'torch\'s CPU generator (torch.Generator("cpu"), torch.manual_seed): bit-exact.',
        nv: 'A1111\'s "NV" generator (Philox, as A1111 imitates CUDA\'s torch.randn): exactly A1111\'s NV setting; for ComfyUI\'s per-step draws on a GPU and diffusers with a CUDA generator, an approximation of CUDA (float64 vs the GPU\'s float32, within a few float32 ulps; exact only where CUDA\'s randn is).',
      },
      doc: 'The generator the tool draws from. With order comfyui it picks the per-step draws only (the initial noise is always CPU).',
    },
    {
      name: 'kernel',
      type: 'enum',
      default: 'avx2',
      options: [...TORCH_CPU_KERNELS],
      optionDocs: {
        avx2: 'x86-64 CPUs with AVX2 (Intel/AMD since 2013, AVX-512 CPUs too) running Linux torch builds (GCC, fused multiply-adds): verified bit-exact.',
        'avx2-nofma': 'x86-64 AVX2 with every operation rounded separately, as Windows (MSVC) and macOS x86-64 (clang) builds should compute it: matches the AVX code compiled without contraction bit for bit; not verified against those builds.',
        scalar: 'builds without AVX2 (Apple silicon, Linux on ARM): glibc\'s float32 logf/sinf/cosf, verified bit-exact against glibc 2.36; macOS uses Apple\'s libm, which may differ in the last bit for ~1 % of values.',
      },
      doc: 'Which CPU build of torch.randn to reproduce for tensors of 16 or more elements (smaller ones are the same everywhere).',
    },
    { name: 'variationSeed', type: 'integer', default: 0, min: 0, max: Number.MAX_SAFE_INTEGER, doc: 'A1111 "Variation seed" (item b uses it + b). Not replaced by --seed.' },
    { name: 'variationStrength', type: 'number', default: 0, min: 0, max: 1, doc: 'A1111 "Variation strength": slerp from the seed\'s noise (0) to the variation seed\'s (1); 0 = off. With a strength every item uses the same seed.' },
    { name: 'seedResizeFrom', type: 'numberList', default: [], min: 1, advanced: true, doc: 'A1111 "Resize seed from" as the latent\'s [height, width] (A1111\'s pixel size ÷ 8); [] = off.' },
    { name: 'batchIndex', type: 'numberList', default: [], min: 0, advanced: true, doc: 'ComfyUI: the latent\'s batch_index (from "Latent From Batch"), one index per batch item: item b gets the batch_index[b]-th item-shaped draw of the seed; [] = the whole batch in one draw.' },
    { name: 'ensd', type: 'integer', default: 0, min: 0, max: 2 ** 32, advanced: true, doc: 'A1111 "Eta noise seed delta": per-step noise from generators seeded with each item\'s seed + ensd (NovelAI used 31337); 0 = off.' },
);

const TORCH = defineBlock({
  type: 'noise.torch',
  category: 'Noise',
  title: 'Torch noise (ComfyUI / diffusers / A1111)',
  doc:
    'The noise ComfyUI, diffusers or A1111/Forge use for a seed, bit for bit: torch.randn on the CPU (mt19937 seeded as ' +
    'torch.manual_seed, with torch\'s float32 normal kernels) or A1111\'s "NV" generator, drawn in the tool\'s order. ' +
    'Which generator each tool uses: ComfyUI draws the initial noise on the CPU, always (order comfyui); its ancestral/SDE ' +
    'samplers draw per-step noise on the sampling device — the CPU with seed + 1 on a CPU run (source cpu), the GPU with seed ' +
    'otherwise (source nv approximates CUDA). diffusers draws from whatever generator is passed to the pipeline: ' +
    'torch.Generator("cpu").manual_seed(seed) is source cpu; a CUDA generator is approximated by nv. A1111/Forge draws on ' +
    'the GPU by default ("GPU" source: CUDA\'s generator on NVIDIA, which no CPU code reproduces bit for bit — nv is A1111\'s ' +
    'stand-in; on a Mac (MPS) it draws on the CPU, i.e. source cpu with kernel scalar; other GPU makers are not reproducible); ' +
    'its "CPU" setting is source cpu and its "NV" setting is source nv. ' +
    'Not reproducible here: samplers that take per-step noise from a Brownian tree (torchsde) — ComfyUI\'s dpmpp_sde, ' +
    'dpmpp_2m_sde, dpmpp_2m_sde_heun, dpmpp_3m_sde (and their _gpu variants), A1111\'s DPM++ SDE / 2M SDE / 3M SDE, ' +
    'diffusers\' DPMSolverSDEScheduler: their initial noise still matches; and ComfyUI\'s Euler/Heun/DPM2 "churn" noise, ' +
    'which comes from the global generator. ComfyUI scales the initial noise by √(σ₀² + 1) when σ₀ is the model\'s σ_max ' +
    '(Sample: noiseScale vp), by σ₀ otherwise. Float32 only (fp16 latents are drawn with other kernels). A run\'s --seed ' +
    'replaces the seed; torch keeps only seed mod 2³² for its CPU generator, so a ComfyUI seed above 2⁵³ is entered as ' +
    'seed mod 2³² (order comfyui, source cpu).',
  paper:
    'Matsumoto & Nishimura 1998 (MT19937, as PyTorch ATen MT19937RNGEngine.h); Box & Muller 1958 (ATen normal_kernel: ' +
    'normal_fill / normal_fill_16_AVX2 with Cephes avx_mathfun log/sincos; normal_distribution<double> below 16 elements); ' +
    'Salmon et al. 2011 (Philox4x32-10, A1111 rng_philox.py "NV"); A1111 modules/rng.py ImageRNG and slerp; ComfyUI ' +
    'comfy/sample.py prepare_noise and k_diffusion default_noise_sampler; diffusers randn_tensor.',
  inputs: [],
  outputs: [{ name: 'noise', type: 'NOISE', doc: 'Initial noise and per-step draws, in the chosen tool\'s order.' }],
  params: TORCH_PARAMS,
  async evaluate(ctx, _inputs, o) {
    const noise: NoiseValue = torchNoise({
      seed: seedOf(o.seed, ctx.services.seed),
      order: o.order,
      source: o.source,
      kernel: o.kernel,
      variationSeed: o.variationSeed,
      variationStrength: o.variationStrength,
      seedResizeFrom: resizeOf(o.seedResizeFrom),
      ensd: o.ensd,
      batchIndex: o.batchIndex.length ? o.batchIndex : undefined,
    });
    return { noise };
  },
});

export const NOISE_NODES: NodeType[] = [SEEDED, NPY, TORCH, NOISE_BROWNIAN];
