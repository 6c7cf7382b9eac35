/**
 * `torch.randn(shape, generator=g)` on the CPU for float32, bit for bit, as ATen computes it
 * (`aten/src/ATen/native/cpu/DistributionTemplates.h` `normal_kernel`, unchanged in this respect from
 * torch 1.10 to 2.x). Box & Muller 1958 ("A note on the generation of random normal deviates") in two
 * shapes, chosen by the tensor's size:
 *
 * - fewer than 16 elements: one `normal_distribution<double>` per element — u1, u2 uniform doubles
 *   (`random64` each), r = √(−2·ln(1 − u2)), θ = 2π·u1; r·cos θ is returned and r·sin θ cached in the
 *   generator for its next small draw; each value is rounded to float32. (Newer torch writes log1p(−u2):
 *   1 − u2 is exact in float64, so both are the logarithm of the same number.)
 * - 16 elements or more (`normal_fill`): first one float uniform (24 bits) per element for the whole tensor,
 *   then each block of 16 is transformed in place, element j (j < 8) paired with j + 8:
 *   u1 = 1 − d[j], u2 = d[j+8], radius = √(−2·log u1), θ = 2π·u2, d[j] = radius·cos θ, d[j+8] = radius·sin θ.
 *   When the size is not a multiple of 16, 16 new uniforms are drawn for the last 16 elements and that block
 *   is redone. The float32 log/sin/cos depend on the build:
 *     `avx2`       — x86-64 with AVX2 (every x86-64 CPU since 2013; AVX-512 CPUs too, ATen never dispatches
 *                    this kernel to AVX-512): the Cephes AVX routines compiled by GCC with FMA contraction —
 *                    the Linux wheels and distribution packages. Verified bit-exact against torch 1.13.
 *     `avx2-nofma` — the same routines with every operation rounded separately, as a compiler that does not
 *                    contract them (MSVC for the Windows wheels, clang for macOS x86-64) should give. Not
 *                    verified against such a build.
 *     `scalar`     — builds without AVX2 (ARM: Apple silicon, Linux aarch64): float32 logf/cosf/sinf of the
 *                    platform's C library, computed here as correctly rounded float32 functions. Compared with
 *                    glibc 2.36 in the tests (count of differing elements reported there); Apple's libm is not
 *                    published and cannot be checked here.
 */
import { Mt19937 } from './mt19937';
import { cephesLogf, cephesSinCosf } from './float32';
import { glibcLogf, glibcSinCosf } from './libm32';

export type TorchCpuKernel = 'avx2' | 'avx2-nofma' | 'scalar';
export const TORCH_CPU_KERNELS: readonly TorchCpuKernel[] = ['avx2', 'avx2-nofma', 'scalar'];

const f = Math.fround;
const TWO_PI_F = f(2 * Math.PI);
const TWO_PI = 2 * Math.PI;
const TWO64 = BigInt(2) ** BigInt(64);

/** The seed torch's CPU generator keeps: the 64-bit seed (negative seeds wrap, as torch.manual_seed does) mod 2³². */
export function torchSeedLow32(seed: number | bigint): number {
  const b = typeof seed === 'bigint' ? seed : BigInt(seed);
  return Number(((b % TWO64) + TWO64) % BigInt(4294967296));
}

/** A `torch.Generator('cpu')` after `manual_seed(seed)`. */
export class TorchCpuGenerator {
  private readonly mt: Mt19937;
  private cachedNormal: number | undefined;
  private readonly sc = new Float64Array(2);

  constructor(seed: number | bigint) {
    this.mt = new Mt19937(torchSeedLow32(seed));
  }

  /** `torch.randn(numel elements, dtype=float32, generator=this)`, values in C order. */
  randn(numel: number, kernel: TorchCpuKernel = 'avx2'): Float32Array {
    const out = new Float32Array(numel);
    if (numel < 16) {
      for (let i = 0; i < numel; i++) out[i] = this.normalDouble();
      return out;
    }
    for (let i = 0; i < numel; i++) out[i] = this.mt.uniformFloat();
    for (let i = 0; i + 16 <= numel; i += 16) this.fill16(out, i, kernel);
    if (numel % 16 !== 0) {
      const at = numel - 16;
      for (let i = 0; i < 16; i++) out[at + i] = this.mt.uniformFloat();
      this.fill16(out, at, kernel);
    }
    return out;
  }

  /** `at::normal_distribution<double>(0, 1)` with the generator's cached second value. */
  private normalDouble(): number {
    if (this.cachedNormal !== undefined) {
      const v = this.cachedNormal;
      this.cachedNormal = undefined;
      return v + 0;
    }
    const u1 = this.mt.uniformDouble();
    const u2 = this.mt.uniformDouble();
    const r = Math.sqrt(-2 * Math.log(1 - u2));
    const theta = TWO_PI * u1;
    this.cachedNormal = r * Math.sin(theta);
    return r * Math.cos(theta) + 0;
  }

  private fill16(d: Float32Array, at: number, kernel: TorchCpuKernel): void {
    const sc = this.sc;
    for (let j = 0; j < 8; j++) {
      const u1 = 1 - d[at + j];
      const u2 = d[at + j + 8];
      if (kernel === 'scalar') {
        const radius = f(Math.sqrt(-2 * glibcLogf(u1)));
        const theta = f(TWO_PI * u2);
        d[at + j] = f(radius * glibcSinCosf(theta, true)) + 0;
        d[at + j + 8] = f(radius * glibcSinCosf(theta, false)) + 0;
      } else {
        const fused = kernel === 'avx2';
        const radius = f(Math.sqrt(-2 * cephesLogf(u1, fused)));
        cephesSinCosf(f(TWO_PI_F * u2), fused, sc);
        d[at + j] = f(radius * sc[1]) + 0;
        d[at + j + 8] = f(radius * sc[0]) + 0;
      }
    }
  }
}
