/**
 * A1111's "NV" random source (stable-diffusion-webui `modules/rng_philox.py`, setting "Random number generator
 * source: NV"): a CPU generator written to give what `torch.randn(..., device='cuda')` gives on NVIDIA GPUs, so
 * that a seed means the same image on any GPU or on the CPU. Its algorithm, implemented here from its definition:
 *
 * - Philox4x32-10 (Salmon et al. 2011; `philox.ts`) with key = the 64-bit seed (low word first) and, for
 *   element i of the c-th `randn` call of the generator, counter = (c, 0, i, 0) — the call count plays the role of
 *   cuRAND's offset, the element index that of the subsequence;
 * - element i is the first output of cuRAND's Box–Muller on words 0 and 1:
 *   u = w0·2⁻³² + 2⁻³³, v = w1·(2π·2⁻³²) + π·2⁻³², value = √(−2 ln u)·sin v, where 2⁻³² and 2π·2⁻³² are cuRAND's
 *   float32 constants (CURAND_2POW32_INV = 2.3283064e-10f, CURAND_2POW32_INV_2PI = 2.3283064e-10f·6.2831855f)
 *   and the arithmetic is float64 (NumPy), rounded to float32 at the end. Words 2 and 3 are discarded.
 *
 * Being computed in float64, it differs from the GPU's float32 arithmetic in the last bits; and CUDA's own randn
 * depends on the GPU's multiprocessor count once a tensor is larger than one grid (pytorch/pytorch#158398), which
 * NV does not model. What NV is, exactly, is this algorithm; that is what `test/noise/torch.test.ts` checks.
 */
import { philox4x32 } from './philox';

const INV = Math.fround(2.3283064e-10);
const INV_2PI = Math.fround(2.3283064e-10 * 6.2831855);
const TWO32 = 4294967296;

export class NvGenerator {
  private calls = 0;
  private readonly k0: number;
  private readonly k1: number;
  private readonly w = new Uint32Array(4);

  /** `seed`: an integer in [0, 2⁶⁴). */
  constructor(seed: number | bigint) {
    const b = BigInt(seed);
    this.k0 = Number(b & BigInt(0xffffffff));
    this.k1 = Number((b >> BigInt(32)) & BigInt(0xffffffff));
  }

  /** One `randn` call of `numel` elements (A1111 `Generator.randn`). */
  randn(numel: number): Float32Array {
    const out = new Float32Array(numel);
    const w = this.w;
    const c = this.calls++ % TWO32;
    for (let i = 0; i < numel; i++) {
      philox4x32(c, 0, i % TWO32, 0, this.k0, this.k1, w);
      const u = w[0] * INV + INV / 2;
      const v = w[1] * INV_2PI + INV_2PI / 2;
      out[i] = Math.sqrt(-2 * Math.log(u)) * Math.sin(v);
    }
    return out;
  }
}
