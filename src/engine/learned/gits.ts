/**
 * GITS: the time schedule fitted to the user's model by dynamic programming.
 *
 * Chen, Zhou, Wang, Yu, Zhao, Huang, Lyu, Wang & Li 2024, "On the Trajectory Regularity of ODE-based Diffusion
 * Sampling" (ICML 2024), §4 ("Geometry-Inspired Time Scheduling") and Algorithm 1. Procedure, as in the reference
 * code (zju-pi/diff-sampler, `gits-main/sample.py` `get_dp_list` and `dp`):
 *
 * 1. warm-up: a few trajectories of the model are computed by a teacher solver on a fine grid of M time points
 *    (polynomial ρ = 7 from σ_max to σ_min; the reference's recommended `num_steps_tea` = 61, teacher iPNDM,
 *    order ≤ 4), recording the state x_i and the ODE derivative d_i = (x_i − D(x_i; σ_i))/σ_i at each point;
 * 2. cost matrix: c_ij (i < j) is the error of ONE Euler step from the teacher's x_i to σ_j against the teacher's
 *    x_j, ‖x_i + (σ_j − σ_i)d_i − x_j‖ (per sample, mean over samples). `metric` "l1"/"l2" are those norms;
 *    "dev" compares the step's deviation from the straight line x_0 → x_{M−1} with the teacher's own;
 * 3. dynamic programming: the path 0 = i_0 < i_1 < … < i_K = M−1 of K steps minimizing
 *    c_{i_0 i_1} + γ·(c_{i_1 i_2} + γ·(…)), i.e. V_j(k) = min_{i>j} c_ji + γ·V_i(k−1), V_j(1) = c_{j,M−1}
 *    (γ = `coeff` = 1.15 in the reference's recommended settings).
 *
 * The fitted σ values are saved INTO THE PIPELINE as the `values` of a `schedule.gits` block (with the fine-grid
 * size, sample count, γ, metric and DP cost for provenance) by `dpipe fit gits FILE.dpipe --nfe N`; the block
 * itself only replays them. Not implemented: the reference's optional AFS step (`afs=True`).
 */
import { DpipeError } from '../core/errors';
import type { Denoiser, Latent } from '../core/types';
import { defineSchedule, type NodeType } from '../registry/node';
import { karrasSigmas } from '../schedules/kdiffusion';
import { finish, FINAL_MODES, type FinalMode } from '../schedules/common';
import { axpy, toD } from '../solvers/common';
import { defineParams } from '../registry/params';

export const GITS_METRICS = ['l2', 'l1', 'dev'] as const;
export type GitsMetric = (typeof GITS_METRICS)[number];

export interface GitsFitOptions {
  /** Number of steps K of the fitted schedule (NFE of a one-evaluation-per-step solver). */
  readonly steps: number;
  /** Number of time points M of the fine (teacher) grid; default 61. */
  readonly finePoints?: number;
  /** ρ of the fine polynomial grid; default 7. */
  readonly rho?: number;
  /** DP discount γ (reference `coeff`); default 1.15. */
  readonly gamma?: number;
  /** Cost metric; default "l2". */
  readonly metric?: GitsMetric;
  /** Teacher order (iPNDM, 1–4); default 4. */
  readonly teacherOrder?: number;
  readonly signal?: AbortSignal;
}

export interface GitsFit {
  /** The fitted σ values, descending, K + 1 of them, from σ_max to σ_min. */
  readonly sigmas: number[];
  /** Their indices on the fine grid. */
  readonly indices: number[];
  /** The fine grid. */
  readonly grid: Float64Array;
  /** V_0(K): the DP's total discounted cost of the chosen path. */
  readonly cost: number;
  readonly costMatrix: number[][];
  readonly samples: number;
}

/** iPNDM multistep coefficients (Zhang & Chen 2023, "Fast Sampling of Diffusion Models with Exponential Integrator", iPNDM). */
const IPNDM: readonly (readonly number[])[] = [[1], [3 / 2, -1 / 2], [23 / 12, -16 / 12, 5 / 12], [55 / 24, -59 / 24, 37 / 24, -9 / 24]];

/**
 * The warm-up trajectory: iPNDM (variable-step coefficients of the constant-step formula, as the reference's
 * `ipndm_sampler`) on `grid`, recording x_i at every grid point and d_i at every point but the last.
 */
export async function teacherTrajectory(model: Denoiser, x: Latent, grid: Float64Array, order = 4, signal?: AbortSignal): Promise<{ xs: Latent[]; ds: Float64Array[] }> {
  if (!(order >= 1 && order <= 4)) throw new DpipeError('E_PARAM_VALUE', `GITS teacher order must be 1–4; got ${order}`);
  const xs: Latent[] = [x];
  const ds: Float64Array[] = [];
  for (let i = 0; i + 1 < grid.length; i++) {
    if (signal?.aborted) throw new DpipeError('E_ABORTED', `The fit was stopped at teacher step ${i + 1} of ${grid.length - 1}.`);
    const den = await model(x, grid[i], { step: i, role: 'predictor' });
    const d = toD(x, grid[i], den);
    ds.push(d);
    const k = Math.min(order, ds.length);
    const c = IPNDM[k - 1];
    const h = grid[i + 1] - grid[i];
    x = axpy(x, c.map((ck, j) => [h * ck, ds[ds.length - 1 - j]] as const));
    xs.push(x);
  }
  return { xs, ds };
}

function itemNorm(a: Float64Array, per: number, b: number, p: 1 | 2): number {
  let s = 0;
  for (let i = b * per; i < (b + 1) * per; i++) s += p === 2 ? a[i] * a[i] : Math.abs(a[i]);
  return p === 2 ? Math.sqrt(s) : s;
}

/** Per-item distance of x from the straight line through b and c (the reference's `cal_deviation`). */
function deviation(x: Float64Array, b: Float64Array, c: Float64Array, per: number, item: number): number {
  let bc2 = 0;
  let dot = 0;
  for (let i = item * per; i < (item + 1) * per; i++) {
    bc2 += (c[i] - b[i]) ** 2;
    dot += (c[i] - x[i]) * (c[i] - b[i]);
  }
  const proj = bc2 > 0 ? dot / bc2 : 0;
  let s = 0;
  for (let i = item * per; i < (item + 1) * per; i++) s += (c[i] - x[i] - proj * (c[i] - b[i])) ** 2;
  return Math.sqrt(s);
}

/** c_ij of step 2 (see the module comment), averaged over the batch items of the trajectories. */
export function gitsCostMatrix(xs: readonly Latent[], ds: readonly Float64Array[], grid: Float64Array, metric: GitsMetric = 'l2'): number[][] {
  const M = grid.length;
  const n = xs[0].data.length;
  const batch = xs[0].shape[0] ?? 1;
  const per = n / batch;
  const C = Array.from({ length: M }, () => new Array<number>(M).fill(0));
  const first = xs[0].data;
  const last = xs[M - 1].data;
  const tmp = new Float64Array(n);
  for (let i = 0; i + 1 < M; i++) {
    const xi = xs[i].data;
    const di = ds[i];
    for (let j = i + 1; j < M; j++) {
      const h = grid[j] - grid[i];
      const xj = xs[j].data;
      let total = 0;
      if (metric === 'dev') {
        for (let q = 0; q < n; q++) tmp[q] = xi[q] + h * di[q];
        for (let b = 0; b < batch; b++) {
          const teacher = j === M - 1 ? 0 : deviation(xj, first, last, per, b);
          total += deviation(tmp, first, last, per, b) - teacher;
        }
      } else {
        for (let q = 0; q < n; q++) tmp[q] = xi[q] + h * di[q] - xj[q];
        for (let b = 0; b < batch; b++) total += itemNorm(tmp, per, b, metric === 'l2' ? 2 : 1);
      }
      C[i][j] = total / batch;
    }
  }
  return C;
}

/**
 * Step 3: the K-step path from grid point 0 to M−1 minimizing the γ-discounted sum of costs. Returns the grid
 * indices (K + 1 of them) and V_0(K). Ties go to the earliest index, as the reference's backtracking does.
 */
export function gitsDp(C: readonly (readonly number[])[], steps: number, gamma: number): { indices: number[]; cost: number } {
  const M = C.length;
  const K = steps;
  if (!(Number.isInteger(K) && K >= 1 && K <= M - 1)) {
    throw new DpipeError('E_PARAM_VALUE', `GITS: ${K} steps cannot be chosen from a fine grid of ${M} points; use 1 to ${M - 1} steps or a finer grid`);
  }
  // V[j][k]: min cost from j to M−1 in exactly k steps; arg[j][k]: the next point.
  const V = Array.from({ length: M }, () => new Array<number>(K + 1).fill(Infinity));
  const arg = Array.from({ length: M }, () => new Array<number>(K + 1).fill(-1));
  for (let j = 0; j < M - 1; j++) {
    V[j][1] = C[j][M - 1];
    arg[j][1] = M - 1;
  }
  for (let k = 2; k <= K; k++) {
    for (let j = 0; j < M - 1; j++) {
      for (let i = j + 1; i < M - 1; i++) {
        const v = C[j][i] + gamma * V[i][k - 1];
        if (v < V[j][k]) {
          V[j][k] = v;
          arg[j][k] = i;
        }
      }
    }
  }
  const indices = [0];
  let w = 0;
  for (let k = K; k >= 1; k--) {
    w = arg[w][k];
    if (w < 0) throw new DpipeError('E_INTERNAL', 'GITS: no path through the cost matrix');
    indices.push(w);
  }
  return { indices, cost: V[0][K] };
}

/**
 * Fits a GITS schedule on `model` from the start states `x` (a batch of warm-up samples at σ_max = `sigmaMax`)
 * down to `sigmaMin`.
 */
export async function fitGits(model: Denoiser, x: Latent, sigmaMax: number, sigmaMin: number, o: GitsFitOptions): Promise<GitsFit> {
  const M = o.finePoints ?? 61;
  if (!(Number.isInteger(M) && M >= 3)) throw new DpipeError('E_PARAM_VALUE', `GITS: the fine grid needs at least 3 points; got ${M}`);
  if (!(sigmaMin > 0 && sigmaMax > sigmaMin)) throw new DpipeError('E_PARAM_VALUE', `GITS: needs 0 < σ_min < σ_max; got ${sigmaMin}, ${sigmaMax}`);
  const grid = karrasSigmas(M, sigmaMin, sigmaMax, o.rho ?? 7);
  const { xs, ds } = await teacherTrajectory(model, x, grid, o.teacherOrder ?? 4, o.signal);
  const C = gitsCostMatrix(xs, ds, grid, o.metric ?? 'l2');
  const { indices, cost } = gitsDp(C, o.steps, o.gamma ?? 1.15);
  return { sigmas: indices.map((i) => grid[i]), indices, grid, cost, costMatrix: C, samples: x.shape[0] ?? 1 };
}

// ---------------------------------------------------------------------------------------------
// The schedule block: replays the fitted values.

export const GITS_PARAMS = defineParams(
  { name: 'values', type: 'numberList', default: [], min: 0, doc: 'The fitted σ values, descending from σ_max to σ_min (written by `dpipe fit gits`).' },
  {
    name: 'final',
    type: 'enum',
    default: 'none',
    options: FINAL_MODES,
    optionDocs: {
      none: 'end at the last fitted σ (σ_min), as the reference sampler does.',
      zero: 'append σ = 0: one more step, to the clean sample.',
      sigma_min: 'append σ_min again (same as none for a fitted list ending at σ_min; kept for symmetry with the other schedules).',
    },
    doc: 'How the schedule ends.',
  },
  { name: 'finePoints', type: 'integer', default: 0, min: 0, advanced: true, doc: 'Provenance: time points M of the fine teacher grid the values were chosen from (0 = not fitted).' },
  { name: 'samples', type: 'integer', default: 0, min: 0, advanced: true, doc: 'Provenance: warm-up trajectories the cost matrix was averaged over.' },
  { name: 'gamma', type: 'number', default: 1.15, min: 0, advanced: true, doc: 'Provenance: the DP discount γ used by the fit (reference `coeff`).' },
  { name: 'metric', type: 'enum', default: 'l2', options: GITS_METRICS, advanced: true, doc: 'Provenance: the cost metric used by the fit.' },
  { name: 'cost', type: 'number', default: 0, min: 0, advanced: true, doc: 'Provenance: the DP cost V_0(K) of the fitted path (in the metric\'s units; "dev" costs may be negative and are stored as 0).' },
);

/** σ values of a `schedule.gits` block: the fitted list, checked, then the end. */
export function gitsSigmas(values: readonly number[], final: FinalMode): Float64Array {
  if (values.length < 2) {
    throw new DpipeError('E_PARAM_VALUE', `schedule.gits: "values" holds ${values.length} σ value(s); fit them on your model with \`dpipe fit gits FILE.dpipe --nfe N\` (it writes them here)`);
  }
  for (let i = 0; i + 1 < values.length; i++) {
    if (!(values[i + 1] < values[i])) throw new DpipeError('E_PARAM_VALUE', `schedule.gits: "values" must be strictly decreasing; σ[${i}] = ${values[i]}, σ[${i + 1}] = ${values[i + 1]}`);
  }
  const last = values[values.length - 1];
  if (!(last > 0)) throw new DpipeError('E_PARAM_VALUE', 'schedule.gits: the fitted values end above 0 (use final "zero" to end at 0)');
  return finish(final === 'sigma_min' ? values.slice(0, -1) : values, final, last);
}

export const GITS_NODE: NodeType = defineSchedule({
  type: 'schedule.gits',
  title: 'GITS (fitted)',
  doc:
    'A time schedule chosen for your model by dynamic programming over a fine grid (GITS). The values are fitted by ' +
    '`dpipe fit gits FILE.dpipe --nfe N`, which runs a few warm-up trajectories of the pipeline\'s model and writes the ' +
    'σ list into this block; the block replays them. Use with one-evaluation-per-step solvers (Euler/DDIM, iPNDM, DPM-Solver++ 2M).',
  paper: 'Chen, Zhou, Wang, Yu, Zhao, Huang, Lyu, Wang & Li 2024, "On the Trajectory Regularity of ODE-based Diffusion Sampling" (ICML), §4, Algorithm 1 (zju-pi/diff-sampler gits-main).',
  params: GITS_PARAMS,
  needsModel: false,
  sigmas: (p) => gitsSigmas(p.values, p.final),
});
