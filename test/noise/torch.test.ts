/**
 * noise.torch against PyTorch: every fixture in test/fixtures/noise/torch comes from Debian's torch 1.13 (CPU)
 * through tools/noise/make_torch_fixtures.py. Equality is of float32 bits (Object.is on the float32 values, so
 * −0 and +0 differ too), element by element; counts of differing elements are asserted to be 0.
 *
 * What the A1111 "NV" fixture proves: NV's definition (A1111 modules/rng_philox.py) is an algorithm, not a torch
 * function, so its reference is the fixture script's own NumPy transcription of that algorithm (not A1111's code,
 * which is not available here); equality shows this TypeScript and that independent transcription agree bit for
 * bit. The only published NV values found (the example in rng_philox.py's docstring, seed 0, shape (3, 4)) agree to
 * within 2.7e-7 (under 7 float32 ulps; the printed values carry 8 digits) — which suggests they were printed from CUDA's torch.randn rather than from the
 * float64 NV code; both the fixture and this code reproduce the NV code.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DpipeError } from '../../src/engine/core/errors';
import { parseNpy } from '../../src/engine/core/npy';
import { hasErrors, loadPipeline, loadPipelineFile } from '../../src/engine/format/index';
import { cephesLogf, fma32 } from '../../src/engine/noise/float32';
import { Mt19937 } from '../../src/engine/noise/mt19937';
import { NvGenerator } from '../../src/engine/noise/nv';
import { a1111Slerp, torchNoise, type TorchNoiseOptions } from '../../src/engine/noise/torch';
import { TorchCpuGenerator, torchSeedLow32, type TorchCpuKernel } from '../../src/engine/noise/torchcpu';
import { runPipeline } from '../../src/engine/run/index';
import { gaussModel, gaussPipeline, testTypes } from '../run/helpers';

const ROOT = path.join(__dirname, '..', '..');
const DIR = path.join(ROOT, 'test', 'fixtures', 'noise', 'torch');

interface Part { file: string; offset: number; length: number }
interface Case extends Part { seed: string; shape: number[] }
interface KernelFixture {
  capability: string;
  cases: Case[];
  big: { seed: string; shape: number[]; sha256: string; head: number[]; tail: number[] }[];
  sequence: { seed: string; shapes: number[][]; parts: Part[] };
}
interface A1111Case {
  seed: string; itemShape: number[]; batch: number; source: 'cpu' | 'nv'; subseed: string | null; strength: number;
  resize: [number, number] | null; ensd: number; initial: Part; initialFloat32: Part; steps: Part;
}
const INDEX = JSON.parse(fs.readFileSync(path.join(DIR, 'index.json'), 'utf8')) as {
  kernels: Record<'avx2' | 'default', KernelFixture>;
  comfyui: (Case & { initial: Part; steps: Part })[];
  comfyuiBatchIndex: (Case & { batchIndex: number[]; initial: Part })[];
  diffusers: (Case & { perItem: boolean; initial: Part; steps: Part })[];
  a1111: A1111Case[];
  nv: { seed: string; shapes: number[][]; parts: Part[] }[];
  mnistInitial: Case;
  gaussEulerAncestral: Part & { seed: string; shape: number[]; sigmas: number[]; mu: number; s: number };
};
const files = new Map<string, Float64Array>();
function part(p: Part): Float64Array {
  let all = files.get(p.file);
  if (!all) {
    all = Float64Array.from(parseNpy(fs.readFileSync(path.join(DIR, p.file))).data as ArrayLike<number>);
    files.set(p.file, all);
  }
  return all.subarray(p.offset, p.offset + p.length);
}
const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Elements whose float32 values differ (Object.is: −0 ≠ +0, NaN = NaN). */
function differing(got: ArrayLike<number>, want: ArrayLike<number>): number {
  assert.equal(got.length, want.length);
  let n = 0;
  for (let i = 0; i < got.length; i++) if (!Object.is(Math.fround(got[i]), Math.fround(want[i]))) n++;
  return n;
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** The kernels of dpipe that reproduce torch's two CPU builds here. */
const KERNEL_OF: Record<'avx2' | 'default', TorchCpuKernel> = { avx2: 'avx2', default: 'scalar' };

describe('noise.torch: MT19937 as ATen runs it', () => {
  it('gives the C++ standard\'s check value (10000th output of mt19937 seeded 5489 is 4123659995)', () => {
    const mt = new Mt19937(5489);
    assert.equal(mt.random(), 3499211612);
    for (let i = 2; i < 10000; i++) mt.random();
    assert.equal(mt.random(), 4123659995);
  });

  it('keeps the seed mod 2^32, as torch.manual_seed does with a 64-bit seed', () => {
    assert.equal(torchSeedLow32(BigInt(2) ** BigInt(64) - BigInt(1)), 4294967295);
    assert.equal(torchSeedLow32(BigInt('12345678901234567890')), Number(BigInt('12345678901234567890') % BigInt(4294967296)));
    assert.equal(torchSeedLow32(2 ** 40 + 5), 5);
    assert.deepEqual(new TorchCpuGenerator(BigInt(2) ** BigInt(64) - BigInt(1)).randn(20), new TorchCpuGenerator(4294967295).randn(20));
  });
});

describe('noise.torch: float32 fused multiply-add', () => {
  /** The exact fl32(a·b + c) by integer arithmetic: significands as BigInt, one rounding to 24 bits, ties to even. */
  function exactFma32(a: number, b: number, c: number): number {
    const split = (x: number): [bigint, number] => {
      if (x === 0) return [BigInt(0), 0];
      let e = Math.floor(Math.log2(Math.abs(x))) - 52;
      let m = x / 2 ** e;
      while (!Number.isInteger(m)) { e -= 1; m = x / 2 ** e; }
      return [BigInt(m), e];
    };
    const [ma, ea] = split(a);
    const [mb, eb] = split(b);
    const [mc, ec] = split(c);
    const ep = ea + eb;
    const e = Math.min(ep, ec);
    const s = ma * mb * BigInt(2) ** BigInt(ep - e) + mc * BigInt(2) ** BigInt(ec - e);
    if (s === BigInt(0)) return 0;
    const neg = s < 0;
    let m = neg ? -s : s;
    let exp = e;
    const bits = m.toString(2).length;
    if (bits > 24) {
      const drop = BigInt(bits - 24);
      const q = m >> drop;
      const rem = m - (q << drop);
      const half = BigInt(1) << (drop - BigInt(1));
      m = rem > half || (rem === half && (q & BigInt(1)) === BigInt(1)) ? q + BigInt(1) : q;
      exp += bits - 24;
    }
    const v = Number(m) * 2 ** exp;
    return neg ? -v : v;
  }

  it('rounds once, also where the float64 sum lands on a float32 midpoint', () => {
    const a = Math.fround(1 + 2 ** -12);
    // a·a = 1 + 2^-11 + 2^-24: a float32 midpoint; the sign of a tiny c decides the side.
    assert.equal(fma32(a, a, 2 ** -80), 1 + 2 ** -11 + 2 ** -23);
    assert.equal(fma32(a, a, -(2 ** -80)), 1 + 2 ** -11);
    assert.equal(Math.fround(a * a + 2 ** -80), 1 + 2 ** -11, 'the naive float64-then-float32 rounding is wrong here');
    let seed = 12345;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < 20000; i++) {
      const x = Math.fround((rnd() - 0.5) * 2 ** Math.floor(rnd() * 20 - 10));
      const y = Math.fround((rnd() - 0.5) * 2 ** Math.floor(rnd() * 20 - 10));
      const z = i % 3 === 0 ? Math.fround(-x * y + (rnd() - 0.5) * 2 ** -30) : Math.fround((rnd() - 0.5) * 2 ** Math.floor(rnd() * 40 - 20));
      assert.equal(fma32(x, y, z), exactFma32(x, y, z), `fma32(${x}, ${y}, ${z})`);
    }
  });

  it('the Cephes AVX log of 1 is 0 and of 2^-24 is 24·(−ln 2) to float32 accuracy', () => {
    for (const fused of [true, false]) {
      assert.equal(cephesLogf(1, fused), 0);
      assert.ok(Math.abs(cephesLogf(2 ** -24, fused) + 24 * Math.LN2) < 2e-6);
    }
  });
});

describe('noise.torch: torch.randn on the CPU, bit for bit (torch 1.13 fixtures)', () => {
  for (const kind of ['avx2', 'default'] as const) {
    const fx = INDEX.kernels[kind];
    const kernel = KERNEL_OF[kind];
    it(`kernel "${kernel}" = torch's ${fx.capability} build: ${fx.cases.length} seed × shape cases (sizes 1 to 16384, seeds up to 2^64 − 1)`, () => {
      const bad: string[] = [];
      let total = 0;
      for (const c of fx.cases) {
        const got = new TorchCpuGenerator(BigInt(c.seed)).randn(numel(c.shape), kernel);
        const n = differing(got, part(c));
        total += c.length;
        if (n) bad.push(`seed ${c.seed} shape [${c.shape}]: ${n} of ${c.length}`);
      }
      assert.deepEqual(bad, []);
      assert.ok(total > 50000, `${total} values`);
    });

    it(`kernel "${kernel}": [1, 16, 128, 128] (262,144 values) has torch's SHA-256 for seeds 0 and 2^64 − 1`, () => {
      for (const b of fx.big) {
        const got = new TorchCpuGenerator(BigInt(b.seed)).randn(numel(b.shape), kernel);
        assert.deepEqual([...got.subarray(0, 4)], b.head);
        assert.deepEqual([...got.subarray(-4)], b.tail);
        const hex = createHash('sha256').update(Buffer.from(got.buffer, got.byteOffset, got.byteLength)).digest('hex');
        assert.equal(hex, b.sha256, `seed ${b.seed}`);
      }
    });

    it(`kernel "${kernel}": one generator across calls of sizes 7, 100, 7, 3, 16, 512, 5, 1, 1 (the small path's cached value survives large draws)`, () => {
      const g = new TorchCpuGenerator(BigInt(fx.sequence.seed));
      fx.sequence.shapes.forEach((s, k) => {
        assert.equal(differing(g.randn(numel(s), kernel), part(fx.sequence.parts[k])), 0, `call ${k + 1}, shape [${s}]`);
      });
    });
  }

  it('torch\'s two builds really differ (so the kernel option matters), and only from 16 elements up', () => {
    let diff = 0;
    let smallDiff = 0;
    INDEX.kernels.avx2.cases.forEach((c, k) => {
      const n = differing(part(c), part(INDEX.kernels.default.cases[k]));
      diff += n;
      if (c.length < 16) smallDiff += n;
    });
    assert.ok(diff > 1000, `${diff}`);
    assert.equal(smallDiff, 0);
  });

  it('kernel "avx2-nofma" (no torch build here to check it against): the same draws as avx2 below 16 elements, within 2 ulps above, not identical', () => {
    let differ = 0;
    for (const seed of [0, 1, 42]) {
      for (const n of [7, 15, 16, 100, 16384]) {
        const a = new TorchCpuGenerator(seed).randn(n, 'avx2');
        const b = new TorchCpuGenerator(seed).randn(n, 'avx2-nofma');
        if (n < 16) assert.deepEqual(a, b);
        for (let i = 0; i < n; i++) {
          if (a[i] === b[i]) continue;
          differ++;
          assert.ok(Math.abs(a[i] - b[i]) <= 2 * 2 ** (Math.floor(Math.log2(Math.abs(a[i]))) - 23), `seed ${seed} n ${n} element ${i}: ${a[i]} vs ${b[i]}`);
        }
      }
    }
    assert.ok(differ > 0);
  });
});

describe('noise.torch: the draw orders of ComfyUI, diffusers and A1111', () => {
  const steps = (v: ReturnType<typeof torchNoise>, shape: number[], k: number): Float64Array => {
    const s = v.stepSampler(shape, new Float64Array([1, 0]));
    const out = new Float64Array(k * numel(shape));
    for (let i = 0; i < k; i++) out.set(s(1, 0.5), i * numel(shape));
    return out;
  };
  const base: Omit<TorchNoiseOptions, 'seed' | 'order'> = { source: 'cpu', kernel: 'avx2' };

  it('comfyui: one randn of the batch from torch.manual_seed(seed); per-step draws from a CPU generator seeded seed + 1', () => {
    for (const c of INDEX.comfyui) {
      const v = torchNoise({ ...base, seed: BigInt(c.seed), order: 'comfyui' });
      assert.equal(differing(v.initial(c.shape), part(c.initial)), 0, `initial, seed ${c.seed}`);
      assert.equal(differing(steps(v, c.shape, c.steps.length / numel(c.shape)), part(c.steps)), 0, `steps, seed ${c.seed}`);
      // A second sampler replays the same draws (each run starts the generator afresh).
      assert.equal(differing(steps(v, c.shape, 1), part(c.steps).subarray(0, numel(c.shape))), 0);
    }
  });

  it('comfyui with a latent\'s batch_index: item b takes the batch_index[b]-th item-shaped draw (sizes 256, 15, 25)', () => {
    for (const c of INDEX.comfyuiBatchIndex) {
      const v = torchNoise({ ...base, seed: BigInt(c.seed), order: 'comfyui', batchIndex: c.batchIndex });
      assert.equal(differing(v.initial(c.shape), part(c.initial)), 0, `batch_index [${c.batchIndex}], shape [${c.shape}]`);
    }
    // [0, 1] is not the whole-batch draw when an item's size is not a multiple of 16 (torch redraws each tail).
    const c = INDEX.comfyuiBatchIndex[2];
    assert.ok(differing(torchNoise({ ...base, seed: BigInt(c.seed), order: 'comfyui' }).initial(c.shape), part(c.initial)) > 0);
    assert.throws(() => torchNoise({ ...base, seed: 1, order: 'comfyui', batchIndex: [0] }).initial([2, 16]), /batchIndex has 1 entries for a batch of 2/);
    assert.throws(() => torchNoise({ ...base, seed: 1, order: 'a1111', batchIndex: [0] }), /batchIndex is a ComfyUI option/);
  });

  it('diffusers: the latents then each step from the same generator; diffusers-per-item: one generator per item (seed + b)', () => {
    for (const c of INDEX.diffusers) {
      const v = torchNoise({ ...base, seed: BigInt(c.seed), order: c.perItem ? 'diffusers-per-item' : 'diffusers' });
      assert.equal(differing(v.initial(c.shape), part(c.initial)), 0, `initial, per item ${c.perItem}`);
      assert.equal(differing(steps(v, c.shape, 5), part(c.steps)), 0, `steps, per item ${c.perItem}`);
    }
  });

  it('a1111: per-item generators, ENSD, variation seed (slerp) and seed resize, CPU and NV sources', () => {
    for (const c of INDEX.a1111) {
      const what = JSON.stringify({ ...c, initial: undefined, initialFloat32: undefined, steps: undefined });
      const v = torchNoise({
        seed: BigInt(c.seed), order: 'a1111', source: c.source, kernel: 'avx2',
        variationSeed: c.subseed === null ? 0 : BigInt(c.subseed), variationStrength: c.strength,
        seedResizeFrom: c.resize ?? undefined, ensd: c.ensd,
      });
      const shape = [c.batch, ...c.itemShape];
      const init = v.initial(shape);
      if (c.strength === 0) {
        assert.equal(differing(init, part(c.initial)), 0, `initial ${what}`);
      } else {
        // slerp is arithmetic, not a draw: float64 here and in the reference; A1111 itself runs it in float32.
        assert.ok(maxAbs(init, part(c.initial)) < 1e-12, `initial vs float64 slerp ${what}: ${maxAbs(init, part(c.initial))}`);
        assert.ok(maxAbs(init, part(c.initialFloat32)) < 2e-6, `initial vs torch float32 slerp ${what}: ${maxAbs(init, part(c.initialFloat32))}`);
      }
      const k = c.steps.length / numel(shape);
      assert.equal(differing(steps(v, shape, k), part(c.steps)), 0, `steps ${what}`);
      assert.deepEqual(v.seeds, Array.from({ length: c.batch }, (_, b) => Number(c.seed) + (c.strength === 0 ? b : 0)));
    }
  });

  it('a1111 slerp: near-parallel noise takes the linear fallback low·val + high·(1 − val)', () => {
    const low = Float64Array.from({ length: 2 * 3 * 4 }, (_, i) => Math.sin(i + 1));
    const same = a1111Slerp(0.25, low, low, [2, 3, 4]);
    assert.ok(maxAbs(same, low) < 1e-15);
    const high = low.map((x) => x * 2);
    const lin = a1111Slerp(0.25, low, high, [2, 3, 4]);
    for (let i = 0; i < low.length; i++) assert.ok(Math.abs(lin[i] - (low[i] * 0.25 + high[i] * 0.75)) < 1e-15);
  });

  it('A1111 NV: bit-equal to the fixture script\'s transcription of rng_philox.py (4 seeds, 3 calls each, offset per call)', () => {
    let total = 0;
    for (const c of INDEX.nv) {
      const g = new NvGenerator(BigInt(c.seed));
      c.shapes.forEach((s, k) => {
        assert.equal(differing(g.randn(numel(s)), part(c.parts[k])), 0, `seed ${c.seed} call ${k + 1}`);
        total += numel(s);
      });
    }
    assert.equal(total, 4 * (12 + 256 + 5));
  });

  it('A1111 NV: within 2.7e-7 (under 7 float32 ulps) of the values published in rng_philox.py for seed 0, shape (3, 4)', () => {
    const published = [
      -0.92466259, -0.42534415, -2.6438457, 0.14518388, -0.12086647, -0.57972564, -0.62285122, -0.32838709, -1.07454231, -0.36314407, -1.67105067, 2.26550497,
    ];
    const got = new NvGenerator(0).randn(12);
    const err = maxAbs(got, published);
    let ulps = 0;
    got.forEach((g, i) => (ulps = Math.max(ulps, Math.abs(g - published[i]) / 2 ** (Math.floor(Math.log2(Math.abs(g))) - 23))));
    assert.ok(err < 2.7e-7 && ulps < 7, `${err}, ${ulps} ulps`);
    assert.ok(err > 1e-8, 'they are not the float64 NV values: see the file comment');
  });

  it('refuses A1111-only options with another order, naming the option', () => {
    for (const [opt, val] of [['variationStrength', 0.5], ['seedResizeFrom', [4, 4]], ['ensd', 31337]] as const) {
      assert.throws(
        () => torchNoise({ ...base, seed: 1, order: 'comfyui', [opt]: val }),
        (e: unknown) => e instanceof DpipeError && e.code === 'E_PARAM_VALUE' && e.message.includes(opt) && e.message.includes('"a1111"'),
      );
    }
    assert.throws(() => torchNoise({ ...base, seed: 1, order: 'a1111', variationStrength: 0.5 }).initial([1, 16]), /\[C, H, W\]/);
  });

  it('describes itself and reports its seeds for the run record', () => {
    const v = torchNoise({ ...base, seed: 7, order: 'comfyui' });
    assert.match(v.describe, /comfyui order, seed 7 .*avx2.*per-step draws from a CPU generator seeded 8/);
    assert.deepEqual(v.seeds, [7]);
    const p = torchNoise({ ...base, seed: 7, order: 'diffusers-per-item' });
    p.initial([3, 16]);
    assert.deepEqual(p.seeds, [7, 8, 9]);
    const nv = torchNoise({ source: 'nv', kernel: 'avx2', seed: 7, order: 'comfyui' });
    assert.match(nv.describe, /CUDA generator seeded 7 \(NV imitation\)/);
  });
});

describe('noise.torch: runs end to end', function () {
  this.timeout(60000);

  it('k-diffusion Euler ancestral on a Gaussian with ComfyUI\'s noise = the float64 torch loop of the fixture', async () => {
    const g = INDEX.gaussEulerAncestral;
    const text = gaussPipeline({ batch: 2, solver: 'solver.euler_ancestral', noise: { id: 'noise', type: 'noise.torch', params: { seed: Number(g.seed), order: 'comfyui' } } })
      .replace(/"type": "schedule.karras",\s*"params": \{[^}]*\}/, `"type": "schedule.explicit", "params": { "values": ${JSON.stringify(g.sigmas)} }`);
    const r = loadPipeline(text, { registry: testTypes(), baseDir: ROOT, checkFiles: false });
    assert.ok(r.doc && !hasErrors(r.problems), JSON.stringify(r.problems));
    let final: { shape: readonly number[]; data: ArrayLike<number> } | undefined;
    const res = await runPipeline(r.doc, {
      baseDir: ROOT, nodeTypes: testTypes(), loadModel: async () => gaussModel({ mu: g.mu, s: g.s }), runtimeVersion: 'test', trajectory: { record: false },
      onStep: (_node, ev) => {
        final = ev.x;
      },
    });
    assert.equal(res.status, 'completed');
    assert.ok(final);
    assert.deepEqual(final.shape, g.shape);
    // Both sides are float64 arithmetic on the same float32 draws: they agree to rounding.
    assert.ok(maxAbs(final.data, part(g)) < 1e-12, `${maxAbs(final.data, part(g))}`);
  });

  it('examples/comfyui-euler-ancestral-torch-noise.dpipe on the demo UNet starts from √(σ₀² + 1)·torch.randn(seed 42) exactly', async () => {
    const file = path.join(ROOT, 'examples', 'comfyui-euler-ancestral-torch-noise.dpipe');
    const { doc, problems } = loadPipelineFile(file);
    assert.ok(doc && !hasErrors(problems), JSON.stringify(problems));
    let first: Float64Array | undefined;
    let sigma0 = NaN;
    const res = await runPipeline(doc, {
      baseDir: path.dirname(file),
      trajectory: { record: false },
      onEval: (_node, ev) => {
        if (ev.index === 0) {
          first = Float64Array.from(ev.x.data);
          sigma0 = ev.sigma;
        }
      },
    });
    assert.equal(res.status, 'completed');
    assert.equal(res.record.samples[0].nfe, 20);
    const z = part(INDEX.mnistInitial);
    assert.deepEqual(INDEX.mnistInitial.shape, [10, 1, 32, 32]);
    assert.ok(first && first.length === z.length);
    const c = Math.sqrt(sigma0 * sigma0 + 1);
    assert.ok(sigma0 > 100, `σ₀ = ${sigma0} is the model's σ_max`);
    for (let i = 0; i < z.length; i++) assert.equal(first[i], c * z[i], `element ${i}`);
    assert.ok(res.outputs.some((o) => o.kind === 'png'));
  });
});
