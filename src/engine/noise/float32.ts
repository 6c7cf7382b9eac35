/**
 * Float32 arithmetic for reproducing PyTorch's CPU normal sampler bit for bit: a correctly rounded float32
 * fused multiply-add, and one lane of the Cephes-derived AVX log and sin/cos that ATen's AVX2 kernel calls
 * (`aten/src/ATen/native/cpu/avx_mathfun.h`, Giovanni Garberoglio's AVX port of Julien Pommier's
 * sse_mathfun, itself a transcription of Stephen Moshier's Cephes `logf`/`sinf`/`cosf`; Cephes Mathematical
 * Library, 1984–1992).
 *
 * Every float32 operation is a float64 operation followed by `Math.fround`: for +, −, ×, ÷ and √ of float32
 * operands this is the correctly rounded float32 result (float64 has more than 2·24 + 2 bits, so the double
 * rounding is innocuous). A fused multiply-add is not covered by that argument; `fma32` handles it exactly.
 *
 * Two variants of the AVX routines, because the compiler decides the last bits:
 * - `fused` (GCC builds — the Linux x86-64 wheels and distribution packages): GCC contracts a multiply whose
 *   only use is an add into one FMA (`-ffp-contract=fast`, the default for GNU C++, with `-mfma` in the AVX2
 *   kernels). It walks the statements in order, so in `add(mul(y, z), mul(e, q1))` the first multiply is
 *   fused: fma(y, z, e·q1). Checked against Debian's GCC 12 build of torch 1.13 (`test/noise/torch.test.ts`).
 * - unfused: every intrinsic rounds on its own (a compiler that does not contract intrinsics: MSVC, used for
 *   the Windows wheels, and clang's default, used for macOS x86-64 — neither is available here to check).
 */

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
const f = Math.fround;

/**
 * fl32(a·b + c) with one rounding, for float32 a, b, c. The product is exact in float64 (48 bits); the sum is
 * rounded to float64 and its error recovered exactly (Knuth's TwoSum). Rounding that float64 sum to float32 is
 * wrong only when it lands exactly on a midpoint between two float32 values while the error is not zero; then
 * the error's sign picks the side.
 */
export function fma32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = f(s);
  if (r === s) return r;
  const bv = s - p;
  const err = p - (s - bv) + (c - bv);
  if (err === 0) return r;
  const other = 2 * s - r;
  if (other === r || f(other) !== other) return r;
  return err > 0 ? Math.max(r, other) : Math.min(r, other);
}

// avx_mathfun.h constants: float32 roundings of the Cephes double literals.
const SQRTHF = f(0.707106781186547524);
const LOG_P = [7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1].map(f);
const LOG_Q1 = f(-2.1219444e-4);
const LOG_Q2 = f(0.693359375);
const MIN_NORM = 1.1754943508222875e-38; // 2⁻¹²⁶
const FOPI = f(1.27323954473516);
const DP1 = f(-0.78515625);
const DP2 = f(-2.4187564849853515625e-4);
const DP3 = f(-3.77489497744594108e-8);
const SIN_P = [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1].map(f);
const COS_P = [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2].map(f);

/** One lane of `log256_ps` for x > 0 (ATen calls it on u ∈ (0, 1]); NaN for x ≤ 0 as the AVX code gives. */
export function cephesLogf(x: number, fused: boolean): number {
  if (!(x > 0)) return NaN;
  F32[0] = x < MIN_NORM ? MIN_NORM : x;
  const bits = U32[0];
  U32[0] = (bits & 0x807fffff) | 0x3f000000; // mantissa with the exponent of 0.5: m ∈ [0.5, 1)
  let m = F32[0];
  let e = (bits >>> 23) - 127 + 1;
  const small = m < SQRTHF;
  const tmp = small ? m : 0;
  m = f(m - 1);
  if (small) e -= 1;
  m = f(m + tmp);
  const z = f(m * m);
  let y = LOG_P[0];
  if (fused) {
    for (let k = 1; k < 9; k++) y = fma32(y, m, LOG_P[k]);
    y = f(y * m);
    y = fma32(y, z, f(e * LOG_Q1));
  } else {
    for (let k = 1; k < 9; k++) y = f(f(y * m) + LOG_P[k]);
    y = f(y * m);
    y = f(f(y * z) + f(e * LOG_Q1));
  }
  y = f(y - f(z * 0.5)); // z·½ is exact: fused or not, one rounding
  m = f(m + y);
  return f(m + f(e * LOG_Q2)); // e·q2 is exact (q2 has 9 significant bits)
}

/**
 * One lane of `sincos256_ps`: writes [sin x, cos x] to `out`. Octant reduction by 4/π with the three-part
 * Cody–Waite constants DP1..DP3, then the Cephes minimax polynomials on [−π/4, π/4]; the blend of the two
 * polynomials is done with the same adds and subtracts of zero as the AVX code (so −0 becomes +0 where it does).
 */
export function cephesSinCosf(x0: number, fused: boolean, out: Float64Array): void {
  const negIn = x0 < 0 || Object.is(x0, -0);
  let x = Math.abs(x0);
  const j = (Math.trunc(f(x * FOPI)) + 1) & ~1;
  const y = j;
  if (fused) {
    x = fma32(y, DP1, x);
    x = fma32(y, DP2, x);
    x = fma32(y, DP3, x);
  } else {
    x = f(x + f(y * DP1));
    x = f(x + f(y * DP2));
    x = f(x + f(y * DP3));
  }
  const negSin = negIn !== ((j & 4) !== 0);
  const negCos = (~(j - 2) & 4) !== 0;
  const polyIsSin = (j & 2) === 0;
  const z = f(x * x);
  let yc: number;
  let ys: number;
  if (fused) {
    yc = fma32(COS_P[0], z, COS_P[1]);
    yc = fma32(yc, z, COS_P[2]);
    yc = f(yc * z);
    yc = fma32(yc, z, -f(z * 0.5));
    ys = fma32(SIN_P[0], z, SIN_P[1]);
    ys = fma32(ys, z, SIN_P[2]);
    ys = f(ys * z);
    ys = fma32(ys, x, x);
  } else {
    yc = f(f(COS_P[0] * z) + COS_P[1]);
    yc = f(f(yc * z) + COS_P[2]);
    yc = f(yc * z);
    yc = f(f(yc * z) - f(z * 0.5));
    ys = f(f(SIN_P[0] * z) + SIN_P[1]);
    ys = f(f(ys * z) + SIN_P[2]);
    ys = f(ys * z);
    ys = f(f(ys * x) + x);
  }
  yc = f(yc + 1);
  const sinFromSin = polyIsSin ? ys : 0;
  const sinFromCos = polyIsSin ? 0 : yc;
  const s = sinFromCos + sinFromSin;
  const c = yc - sinFromCos + (ys - sinFromSin);
  out[0] = negSin ? -s : s;
  out[1] = negCos ? -c : c;
}
