/**
 * Logarithm and sine/cosine written with IEEE-754 basic operations only (+ − × ÷ √, each correctly
 * rounded), so that the standard-normal transform gives bit-identical numbers on every JavaScript engine
 * and platform. `Math.log`, `Math.cos` and friends are not specified to the last bit and differ between
 * engines and versions; they are not used here.
 *
 * Both functions are exact-input designs for the dyadic uniforms the generator produces
 * (u = (k + ½)·2⁻³², k a uint32): every range-reduction step is exact for those inputs, and the polynomial
 * evaluation is a fixed sequence of rounded operations (fixed term count, fixed order). Accuracy is about
 * 1 ulp; what matters for the file format is that the result is fixed, not that it is the rounded true value.
 *
 * Changing anything in this file changes every seeded noise dpipe produces: it is a file-format change.
 */

/** ln 2 split for Cody–Waite reduction (fdlibm's ln2_hi / ln2_lo). */
const LN2_HI = 6.93147180369123816490e-01;
const LN2_LO = 1.90821492927058770002e-10;
const SQRT2 = 1.4142135623730951;
const TWO_PI = 6.283185307179586;

/** 1/(2k+1) for k = 0..11, computed once with correctly rounded divisions. */
const ATANH_COEF: number[] = [];
for (let k = 0; k <= 11; k++) ATANH_COEF.push(1 / (2 * k + 1));

/** 1/n! for n = 0..25 by repeated correctly rounded division. */
const INV_FACT: number[] = [1];
for (let n = 1; n <= 25; n++) INV_FACT.push(INV_FACT[n - 1] / n);

/**
 * Natural logarithm of a positive finite number. Reduction: u = m·2^e with m ∈ [√½, √2) by exact
 * multiplications by 2 or ½; then ln m = 2·atanh(s), s = (m−1)/(m+1), |s| ≤ 0.1716, by the odd series
 * through s²³ (truncation < 3e-19), Horner in s²; finally e·ln2_hi + (e·ln2_lo + ln m).
 */
export function exactLog(u: number): number {
  if (!(u > 0) || u === Infinity) return u === 0 ? -Infinity : NaN;
  let m = u;
  let e = 0;
  while (m >= 2) {
    m *= 0.5;
    e += 1;
  }
  while (m < 1) {
    m *= 2;
    e -= 1;
  }
  if (m > SQRT2) {
    m *= 0.5;
    e += 1;
  }
  const s = (m - 1) / (m + 1);
  const s2 = s * s;
  let p = ATANH_COEF[11];
  for (let k = 10; k >= 0; k--) p = p * s2 + ATANH_COEF[k];
  const lnm = 2 * s * p;
  return e * LN2_HI + (e * LN2_LO + lnm);
}

/** sin(a) and cos(a) for |a| ≤ π/4 by Taylor series through a²⁵ / a²⁴ (truncation < 1e-20), Horner in a². */
function sinCosSmall(a: number): [number, number] {
  const a2 = a * a;
  let s = INV_FACT[25];
  for (let n = 23; n >= 1; n -= 2) s = s * -a2 + INV_FACT[n];
  let c = INV_FACT[24];
  for (let n = 22; n >= 0; n -= 2) c = c * -a2 + INV_FACT[n];
  return [a * s, c];
}

/**
 * [sin(2πt), cos(2πt)] for t given in turns. Reduction q = ⌊4t + ½⌋, r = t − q/4 ∈ [−⅛, ⅛]: exact for any
 * t that is a multiple of 2⁻⁵⁰ with |t| < 4 (in particular the generator's 33-bit dyadic uniforms); then
 * a = 2π·r (one rounding) and the quadrant q mod 4 selects ±sin/±cos.
 */
export function exactSinCosTurns(t: number): [number, number] {
  const q = Math.floor(4 * t + 0.5);
  const r = t - q / 4;
  const [s, c] = sinCosSmall(TWO_PI * r);
  switch (((q % 4) + 4) % 4) {
    case 0:
      return [s, c];
    case 1:
      return [c, -s];
    case 2:
      return [-s, -c];
    default:
      return [-c, s];
  }
}
