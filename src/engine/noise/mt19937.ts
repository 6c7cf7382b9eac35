/**
 * PyTorch's CPU generator: the 32-bit Mersenne Twister MT19937 of Matsumoto & Nishimura 1998 ("Mersenne
 * Twister: a 623-dimensionally equidistributed uniform pseudo-random number generator", ACM TOMACS 8(1)), as
 * ATen runs it (`aten/src/ATen/core/MT19937RNGEngine.h`, `aten/src/ATen/CPUGeneratorImpl.cpp`):
 *
 * - seeding (`torch.manual_seed(s)`, `torch.Generator('cpu').manual_seed(s)`): state[0] = s mod 2³² — only the
 *   low 32 bits of the 64-bit seed are used — then the init_genrand recurrence
 *   state[j] = 1812433253·(state[j−1] ⊕ (state[j−1] ≫ 30)) + j (mod 2³²); the state is regenerated before the
 *   first draw (left = 1);
 * - `random()` is one tempered 32-bit output, `random64()` two of them, the first one as the high word;
 * - seeding also clears the cached second Box–Muller value of the small-tensor normal path (see `torchcpu.ts`).
 */

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER = 0x80000000;
const LOWER = 0x7fffffff;

export class Mt19937 {
  private readonly state = new Uint32Array(N);
  private left = 1;
  private next = 0;

  /** `seedLow32`: the seed mod 2³² (what torch keeps of a 64-bit seed). */
  constructor(seedLow32: number) {
    const s = this.state;
    s[0] = seedLow32 >>> 0;
    for (let j = 1; j < N; j++) {
      const p = s[j - 1];
      s[j] = (Math.imul(1812433253, (p ^ (p >>> 30)) >>> 0) + j) >>> 0;
    }
  }

  private twist(): void {
    const s = this.state;
    let j = 0;
    for (; j < N - M; j++) {
      const y = (s[j] & UPPER) | (s[j + 1] & LOWER);
      s[j] = s[j + M] ^ (y >>> 1) ^ (s[j + 1] & 1 ? MATRIX_A : 0);
    }
    for (; j < N - 1; j++) {
      const y = (s[j] & UPPER) | (s[j + 1] & LOWER);
      s[j] = s[j + M - N] ^ (y >>> 1) ^ (s[j + 1] & 1 ? MATRIX_A : 0);
    }
    const y = (s[N - 1] & UPPER) | (s[0] & LOWER);
    s[N - 1] = s[M - 1] ^ (y >>> 1) ^ (s[0] & 1 ? MATRIX_A : 0);
    this.left = N;
    this.next = 0;
  }

  /** One tempered 32-bit output (`CPUGeneratorImpl::random()`), as an unsigned number. */
  random(): number {
    if (--this.left === 0) this.twist();
    let y = this.state[this.next++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** `uniform_real_distribution<float>(0, 1)`: the low 24 bits of one draw times 2⁻²⁴ (exact in float32). */
  uniformFloat(): number {
    return (this.random() & 0xffffff) * 5.9604644775390625e-8;
  }

  /**
   * `uniform_real_distribution<double>(0, 1)`: the low 53 bits of `random64()` (first draw high) times 2⁻⁵³,
   * i.e. ((hi mod 2²¹)·2³² + lo)·2⁻⁵³, exact in float64.
   */
  uniformDouble(): number {
    const hi = this.random() & 0x1fffff;
    const lo = this.random();
    return (hi * 4294967296 + lo) * 1.1102230246251565e-16;
  }
}
