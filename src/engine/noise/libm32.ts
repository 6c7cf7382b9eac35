/**
 * The float32 `logf`, `sinf` and `cosf` of glibc (2.28 and later), which ATen's scalar normal kernel calls
 * (`std::log`, `std::cos`, `std::sin` on float): the algorithms of Szabolcs Nagy and Wilco Dijkstra in Arm's
 * optimized-routines (`math/logf.c`, `math/sinf.c`, `math/cosf.c`, `math/sincosf.h`), which glibc ships as
 * `sysdeps/ieee754/flt-32/e_logf.c`, `s_sinf.c`, `s_cosf.c`. They work in float64 and round once to float32;
 * they are not correctly rounded (logf: up to 0.82 ulp), so a correctly rounded float32 log/sin/cos differs from
 * them in about 1.5 % of normal deviates. The tables below are their published coefficients.
 *
 * Only the arguments the normal kernel produces are handled: logf on (0, 1], sinf/cosf on [0, 120)
 * (the kernel's θ = 2π·u2 < 2π). The float64 steps are written without fused multiply-adds; glibc's FMA builds
 * (x86-64 CPUs with FMA, every aarch64) fuse some of them, which moves the float64 result by about 2⁻⁵³ relative
 * and changes the rounded float32 only when that lands within 2⁻⁵³ of a float32 rounding boundary (≈ 2⁻²⁸ of
 * the values). The quadrant is computed the x86-64 way (truncate x·2²⁴·2/π, round by adding 2²³); aarch64
 * rounds x·2/π to nearest, which differs only within 2⁻²⁴ of a half-quadrant.
 */

/** Parses a C99 hex float literal such as `-0x1.57bf7808caadep-2`, exactly. */
function hex(lit: string): number {
  const m = /^(-?)0x([0-9a-f]+)(?:\.([0-9a-f]*))?p([+-]?\d+)$/i.exec(lit);
  if (!m) throw new Error(`bad hex float ${lit}`);
  const frac = m[3] ?? '';
  const mant = parseInt(m[2] + frac, 16); // at most 53 bits here: exact
  const v = mant * 2 ** (Number(m[4]) - 4 * frac.length);
  return m[1] ? -v : v;
}

/** invc, logc pairs of the 16 subintervals. */
const LOGF_T = Float64Array.from([
  ['0x1.661ec79f8f3bep+0', '-0x1.57bf7808caadep-2'],
  ['0x1.571ed4aaf883dp+0', '-0x1.2bef0a7c06ddbp-2'],
  ['0x1.49539f0f010bp+0', '-0x1.01eae7f513a67p-2'],
  ['0x1.3c995b0b80385p+0', '-0x1.b31d8a68224e9p-3'],
  ['0x1.30d190c8864a5p+0', '-0x1.6574f0ac07758p-3'],
  ['0x1.25e227b0b8eap+0', '-0x1.1aa2bc79c81p-3'],
  ['0x1.1bb4a4a1a343fp+0', '-0x1.a4e76ce8c0e5ep-4'],
  ['0x1.12358f08ae5bap+0', '-0x1.1973c5a611cccp-4'],
  ['0x1.0953f419900a7p+0', '-0x1.252f438e10c1ep-5'],
  ['0x1p+0', '0x0p+0'],
  ['0x1.e608cfd9a47acp-1', '0x1.aa5aa5df25984p-5'],
  ['0x1.ca4b31f026aap-1', '0x1.c5e53aa362eb4p-4'],
  ['0x1.b2036576afce6p-1', '0x1.526e57720db08p-3'],
  ['0x1.9c2d163a1aa2dp-1', '0x1.bc2860d22477p-3'],
  ['0x1.886e6037841edp-1', '0x1.1058bc8a07ee1p-2'],
  ['0x1.767dcf5534862p-1', '0x1.4043057b6ee09p-2'],
].flat().map(hex));
const LOGF_LN2 = hex('0x1.62e42fefa39efp-1');
const [A0, A1, A2] = ['-0x1.00ea348b88334p-2', '0x1.5575b0be00b6ap-2', '-0x1.ffffef20a4123p-2'].map(hex);

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
const f = Math.fround;

/** glibc logf for a normal float32 x > 0. */
export function glibcLogf(x: number): number {
  F32[0] = x;
  const ix = U32[0];
  if (ix === 0x3f800000) return 0;
  const tmp = (ix - 0x3f330000) >>> 0;
  const i = (tmp >>> 19) & 15;
  const k = (tmp | 0) >> 23;
  U32[0] = (ix - ((tmp & 0xff800000) >>> 0)) >>> 0;
  const z = F32[0];
  const r = z * LOGF_T[2 * i] - 1;
  const y0 = LOGF_T[2 * i + 1] + k * LOGF_LN2;
  const r2 = r * r;
  let y = A1 * r + A2;
  y = A0 * r2 + y;
  y = y * r2 + (y0 + r);
  return f(y);
}

interface SinCosTable {
  readonly c0: number;
  readonly c1: number;
  readonly c2: number;
  readonly c3: number;
  readonly c4: number;
  readonly s1: number;
  readonly s2: number;
  readonly s3: number;
}
const S = ['-0x1.555545995a603p-3', '0x1.1107605230bc4p-7', '-0x1.994eb3774cf24p-13'].map(hex);
const C = ['0x1p0', '-0x1.ffffffd0c621cp-2', '0x1.55553e1068f19p-5', '-0x1.6c087e89a359dp-10', '0x1.99343027bf8c3p-16'].map(hex);
/** The second table computes −cos, so quadrants 2 and 3 get their sign for free. */
const TABLES: readonly SinCosTable[] = [1, -1].map((g) => ({
  c0: g * C[0], c1: g * C[1], c2: g * C[2], c3: g * C[3], c4: g * C[4], s1: S[0], s2: S[1], s3: S[2],
}));
const SIGN = [1, -1, -1, 1];
const HPI_INV = hex('0x1.45F306DC9C883p+23');
const HPI = hex('0x1.921FB54442D18p0');
/** Top 12 bits (exponent and 3 mantissa bits) of |x| as float32: glibc's abstop12. */
function abstop12(x: number): number {
  F32[0] = x;
  return (U32[0] >>> 20) & 0x7ff;
}
const TOP_PIO4 = abstop12(0.7853981633974483);
const TOP_TINY = abstop12(2 ** -12);
const TOP_120 = abstop12(120);

function poly(x: number, x2: number, p: SinCosTable, n: number): number {
  if ((n & 1) === 0) {
    const x3 = x * x2;
    const s1 = p.s2 + x2 * p.s3;
    const x7 = x3 * x2;
    const s = x + x3 * p.s1;
    return f(s + x7 * s1);
  }
  const x4 = x2 * x2;
  const c2 = p.c3 + x2 * p.c4;
  const c1 = p.c0 + x2 * p.c1;
  const x6 = x4 * x2;
  const c = c1 + x4 * p.c2;
  return f(c + x6 * c2);
}

/** glibc sinf (`cos` false) or cosf (`cos` true) for a float32 y with |y| < 120. */
export function glibcSinCosf(y: number, cos: boolean): number {
  const top = abstop12(y);
  if (!(top < TOP_120)) throw new Error(`glibcSinCosf: |${y}| ≥ 120 is not implemented`);
  if (top < TOP_PIO4) {
    if (top < TOP_TINY) return cos ? 1 : y;
    return poly(y, y * y, TABLES[0], cos ? 1 : 0);
  }
  const r = y * HPI_INV;
  const n = (Math.trunc(r) + 0x800000) >> 24;
  const x = y - n * HPI;
  const table = n & 2 ? TABLES[1] : TABLES[0];
  return poly(x * SIGN[n & 3], x * x, table, cos ? n ^ 1 : n);
}
