/**
 * Exact Gaussian-mixture denoisers as ONNX models.
 *
 * Data: a mixture of isotropic Gaussians p(x0) = Σ_k w_k N(μ_k, s²I). Noised in VE coordinates,
 * x = x0 + σ·ε, the posterior mean (the ideal denoiser, Tweedie's formula) is closed-form:
 *   D(x; σ) = Σ_k r_k (μ_k + s²/(s²+σ²)·(x − μ_k)),  r = softmax_k(log w_k − ‖x − μ_k‖² / (2(s²+σ²))).
 * With class labels, component k belongs to class c_k; conditioning on class c keeps the components of c
 * (log w_k = −∞ elsewhere), and the unconditional label keeps them all.
 *
 * The generator wraps that D in any of the parameterizations and time inputs the model wrapper
 * (`src/engine/model/wrap.ts`) understands, so tests can check that every wrapper recovers the same x̂0.
 */
import type { DiscreteOptions, TimeKind } from '../../src/engine/model/schedule';
import { discreteSigmas } from '../../src/engine/model/schedule';
import type { InputScaling, Prediction } from '../../src/engine/model/params';
import { GraphBuilder } from './onnx-graph';

export interface Mixture {
  /** Per-item shape, e.g. [C, H, W]. */
  readonly itemShape: readonly number[];
  /** Number of components K. */
  readonly k: number;
  /** Means, [K, D] row-major, D = Π itemShape. */
  readonly mu: Float64Array;
  /** Shared standard deviation s of every component. */
  readonly s: number;
  /** Log weights log w_k (length K); undefined = equal weights. */
  readonly logWeights?: Float64Array;
  /** Class of each component (length K) for class-conditional models. */
  readonly classes?: Int32Array;
  readonly numClasses?: number;
}

export interface Interface {
  readonly prediction: Prediction;
  readonly time: TimeKind;
  /** Defaults as the wrapper's "auto": edm → none; flow prediction or flow time → flow; else vp. */
  readonly inputScaling?: InputScaling;
  /** Discrete time: the training schedule (σ(t) with log-σ interpolation of fractional t, clipped to [0, N−1]). */
  readonly discrete?: DiscreteOptions;
  readonly names: { readonly sample: string; readonly time: string; readonly output: string; readonly class?: string };
  /** Class-conditional: the label meaning "all classes" (its row keeps every component). */
  readonly unconditionalClass?: number;
  /**
   * How ‖x − μ_k‖² enters the logits. `direct`: the difference is formed ([B,K,D] intermediate; most
   * accurate). `matmul`: −2x·μ_k + ‖μ_k‖² through one Gemm (‖x‖² is the same for every k and cancels in the
   * softmax); fast for many components.
   */
  readonly distance?: 'direct' | 'matmul';
  /** Batch dimension: symbolic (dynamic, the default) or a fixed number. */
  readonly batch?: number | string;
  /** Element type of the time input (some UNet exports take int64 timesteps) [float32]. */
  readonly timeType?: 'float32' | 'int64';
}

export function defaultScaling(prediction: Prediction, time: TimeKind): InputScaling {
  return prediction === 'edm' ? 'none' : prediction === 'flow' || time === 'flow' || time === 'flow1000' ? 'flow' : 'vp';
}

/** The golden mixture: 8 components in [3,8,8], s = 0.2, equal weights, μ_k[c,i,j] = 0.9·sin(2π((k+1)i + (k%3+1)j)/16 + 2πc/3 + 0.7k). */
export function goldenMixture(): Mixture {
  const K = 8;
  const C = 3;
  const H = 8;
  const W = 8;
  const mu = new Float64Array(K * C * H * W);
  for (let k = 0; k < K; k++) {
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < H; i++) {
        for (let j = 0; j < W; j++) {
          mu[((k * C + c) * H + i) * W + j] = 0.9 * Math.sin((2 * Math.PI * ((k + 1) * i + ((k % 3) + 1) * j)) / 16 + (2 * Math.PI * c) / 3 + 0.7 * k);
        }
      }
    }
  }
  return { itemShape: [C, H, W], k: K, mu, s: 0.2 };
}

/** Log weights per class row: row c keeps the components of class c (equal weights), row `uncond` keeps all. */
export function classLogWeights(m: Mixture, unconditionalClass: number): Float64Array {
  if (!m.classes || m.numClasses === undefined) throw new Error('mixture has no classes');
  const rows = Math.max(m.numClasses, unconditionalClass + 1);
  const out = new Float64Array(rows * m.k).fill(-1e30);
  const counts = new Array<number>(m.numClasses).fill(0);
  for (let k = 0; k < m.k; k++) counts[m.classes[k]]++;
  for (let k = 0; k < m.k; k++) {
    out[m.classes[k] * m.k + k] = -Math.log(counts[m.classes[k]]);
    out[unconditionalClass * m.k + k] = m.logWeights ? m.logWeights[k] : -Math.log(m.k);
  }
  return out;
}

/**
 * The exact posterior mean D(x; σ) in float64 for a batch x [B, D] (flat). `label` per item selects the
 * class (undefined or the unconditional label: all components).
 */
export function denoiseExact(m: Mixture, x: Float64Array, sigma: number, labels?: readonly (number | undefined)[]): Float64Array {
  const D = m.mu.length / m.k;
  const B = x.length / D;
  const v = m.s * m.s + sigma * sigma;
  const cSkip = (m.s * m.s) / v;
  const cOut = (sigma * sigma) / v;
  const out = new Float64Array(x.length);
  const logits = new Float64Array(m.k);
  for (let b = 0; b < B; b++) {
    const label = labels?.[b];
    let max = -Infinity;
    for (let k = 0; k < m.k; k++) {
      let d2 = 0;
      for (let i = 0; i < D; i++) {
        const d = x[b * D + i] - m.mu[k * D + i];
        d2 += d * d;
      }
      const allowed = label === undefined || !m.classes || label >= (m.numClasses ?? Infinity) || m.classes[k] === label;
      logits[k] = allowed ? (m.logWeights ? m.logWeights[k] : 0) - d2 / (2 * v) : -Infinity;
      if (logits[k] > max) max = logits[k];
    }
    let z = 0;
    for (let k = 0; k < m.k; k++) {
      logits[k] = Math.exp(logits[k] - max);
      z += logits[k];
    }
    for (let k = 0; k < m.k; k++) {
      const r = logits[k] / z;
      if (r === 0) continue;
      for (let i = 0; i < D; i++) out[b * D + i] += r * m.mu[k * D + i];
    }
    for (let i = 0; i < D; i++) out[b * D + i] = cSkip * x[b * D + i] + cOut * out[b * D + i];
  }
  return out;
}

/** Builds the ONNX model: D(x; σ) of the mixture, wrapped in the given interface. */
export function buildGmmOnnx(m: Mixture, itf: Interface, meta: { producer?: string; doc?: string } = {}): Uint8Array {
  const g = new GraphBuilder('g');
  const D = m.mu.length / m.k;
  const batch = itf.batch ?? 'batch';
  const scaling = itf.inputScaling ?? defaultScaling(itf.prediction, itf.time);
  const X = g.input(itf.names.sample, 'float32', [batch, ...m.itemShape]);
  const Tin = g.input(itf.names.time, itf.timeType ?? 'float32', [batch]);
  const T = itf.timeType === 'int64' ? g.op('Cast', [Tin], { to: { int: 1 } }) : Tin;
  let oneName: string | undefined;
  const one = () => (oneName ??= g.scalar(1));

  // 1. σ [B] from the time input.
  let sigma: string;
  switch (itf.time) {
    case 'discrete': {
      if (!itf.discrete) throw new Error('discrete time needs a schedule');
      const sig = discreteSigmas(itf.discrete);
      const n = sig.length;
      const logSig = g.constF(sig.map(Math.log), [n]);
      const t = g.op('Clip', [T, g.scalar(0), g.scalar(n - 1)]);
      const lo = g.op('Floor', [t]);
      const hi = g.op('Min', [g.op('Add', [lo, one()]), g.scalar(n - 1)]);
      const w = g.op('Sub', [t, lo]);
      const lsLo = g.op('Gather', [logSig, g.op('Cast', [lo], { to: { int: 7 } })], { axis: { int: 0 } });
      const lsHi = g.op('Gather', [logSig, g.op('Cast', [hi], { to: { int: 7 } })], { axis: { int: 0 } });
      sigma = g.op('Exp', [g.op('Add', [lsLo, g.op('Mul', [g.op('Sub', [lsHi, lsLo]), w])])]);
      break;
    }
    case 'sigma':
      sigma = g.op('Identity', [T]);
      break;
    case 'edm_cnoise':
      sigma = g.op('Exp', [g.op('Mul', [T, g.scalar(4)])]);
      break;
    case 'flow':
    case 'flow1000': {
      const t = itf.time === 'flow1000' ? g.op('Div', [T, g.scalar(1000)]) : T;
      sigma = g.op('Div', [t, g.op('Sub', [one(), t])]);
      break;
    }
    default:
      throw new Error(`unknown time ${String(itf.time)}`);
  }

  // 2. x in VE coordinates, flat [B, D]: x_ve = x_in / a(σ).
  const flatShape = g.constI([-1, D], [2]);
  const colShape = g.constI([-1, 1], [2]);
  const sig2 = g.op('Mul', [sigma, sigma]);
  const sigCol = g.op('Reshape', [sigma, colShape]);
  const sig2Col = g.op('Reshape', [sig2, colShape]);
  const xin = g.op('Reshape', [X, flatShape]);
  let x: string;
  let aCol: string | undefined;
  if (scaling === 'none') {
    x = xin;
  } else {
    const invA = scaling === 'vp' ? g.op('Sqrt', [g.op('Add', [sig2Col, one()])]) : g.op('Add', [sigCol, one()]);
    aCol = g.op('Div', [one(), invA]);
    x = g.op('Mul', [xin, invA]);
  }

  // 3. D(x; σ), [B, D].
  const s2 = g.scalar(m.s * m.s);
  const v = g.op('Add', [sig2Col, s2]);
  const mu = g.constF(m.mu, [m.k, D]);
  let logits: string;
  if ((itf.distance ?? 'direct') === 'direct') {
    const diff = g.op('Sub', [g.op('Unsqueeze', [x, g.constI([1], [1])]), mu]);
    const d2 = g.op('ReduceSum', [g.op('Mul', [diff, diff]), g.constI([2], [1])], { keepdims: { int: 0 } });
    logits = g.op('Div', [g.op('Mul', [d2, g.scalar(-0.5)]), v]);
  } else {
    const muSq = new Float64Array(m.k);
    for (let k = 0; k < m.k; k++) for (let i = 0; i < D; i++) muSq[k] += m.mu[k * D + i] ** 2;
    // −(‖μ‖² − 2x·μ)/(2v) = (x·μ − ½‖μ‖²)/v
    const xmu = g.op('Gemm', [x, mu, g.constF(muSq.map((q) => -0.5 * q), [m.k])], { transB: { int: 1 } });
    logits = g.op('Div', [xmu, v]);
  }
  if (m.classes) {
    if (!itf.names.class || itf.unconditionalClass === undefined) throw new Error('class-conditional mixture needs a class input and an unconditional label');
    const lw = classLogWeights(m, itf.unconditionalClass);
    const rows = lw.length / m.k;
    const C = g.input(itf.names.class, 'int64', [batch]);
    logits = g.op('Add', [logits, g.op('Gather', [g.constF(lw, [rows, m.k]), C], { axis: { int: 0 } })]);
  } else if (m.logWeights) {
    logits = g.op('Add', [logits, g.constF(m.logWeights, [m.k])]);
  }
  const r = g.op('Softmax', [logits], { axis: { int: 1 } });
  const rmu = g.op('MatMul', [r, mu]);
  const den = g.op('Add', [g.op('Mul', [x, g.op('Div', [s2, v])]), g.op('Mul', [rmu, g.op('Div', [sig2Col, v])])]);

  // 4. The prediction.
  let pred: string;
  switch (itf.prediction) {
    case 'edm':
    case 'sample':
      pred = den;
      break;
    case 'epsilon':
      pred = g.op('Div', [g.op('Sub', [x, den]), sigCol]);
      break;
    case 'v_prediction': {
      // v = a·(x − (1+σ²)·x0)/σ  (vp: (x − (1+σ²)x0)/(σ√(1+σ²)) = α·ε − σ_vp·x0)
      const num = g.op('Sub', [x, g.op('Mul', [den, g.op('Add', [sig2Col, one()])])]);
      const scaled = aCol ? g.op('Mul', [num, aCol]) : num;
      pred = g.op('Div', [scaled, sigCol]);
      break;
    }
    case 'flow': {
      // v = ε − x0 = (x − (1+σ)·x0)/σ
      const num = g.op('Sub', [x, g.op('Mul', [den, g.op('Add', [sigCol, one()])])]);
      pred = g.op('Div', [num, sigCol]);
      break;
    }
    default:
      throw new Error(`unknown prediction ${String(itf.prediction)}`);
  }
  g.op('Reshape', [pred, g.op('Shape', [X])], {}, itf.names.output);
  g.output(itf.names.output, 'float32', [batch, ...m.itemShape]);
  return g.build({ producer: meta.producer ?? 'dpipe tools/gmm', doc: meta.doc });
}

/** Diffusers-UNet-like names: sample / timestep → out_sample (class_labels when class-conditional). */
export const DIFFUSERS_NAMES = { sample: 'sample', time: 'timestep', output: 'out_sample', class: 'class_labels' } as const;
/** EDM names: x / sigma → denoised (class_labels when class-conditional). */
export const EDM_NAMES = { sample: 'x', time: 'sigma', output: 'denoised', class: 'class_labels' } as const;
