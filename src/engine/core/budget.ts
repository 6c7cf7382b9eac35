/**
 * The memory a run may take, checked before it starts: a block refuses a latent, a batch or a trajectory beyond the
 * run's budget with an E_BUDGET error that gives the numbers and the option that raises the limit, instead of
 * running out of memory (or filling the disk) midway.
 *
 * Estimates: a Sample block holds its state, x̂0, the solver's history and the guidance branches — at most
 * {@link WORKING_COPIES} float64 copies of the latent; its trajectory stores, for every model evaluation, up to
 * 2 + (guidance branches) float32 planes of the latent ({@link TRAJECTORY_PLANES} when the guider does not say).
 */
import { DpipeError } from './errors';

/** What a run may allocate. */
export interface RunBudget {
  /** Bytes of working memory (latents, solver history, guidance branches). */
  readonly memoryBytes: number;
  /** Bytes of trajectory (x_t, x̂0 and branches of every model evaluation, in memory and on disk); 0 = not checked. */
  readonly trajectoryBytes: number;
}

/** Float64 copies of a Sample block's latent alive at once (state, x̂0, multistep history, noise, branches). */
export const WORKING_COPIES = 16;
/** Planes stored per model evaluation in the trajectory: x_t, x̂0 and up to two guidance branches. */
export const TRAJECTORY_PLANES = 4;
/** Default working-memory budget: 8 GB. */
export const DEFAULT_MEMORY_BUDGET = 8e9;
/** Default trajectory budget (memory and disk together): 2 GB. */
export const DEFAULT_TRAJECTORY_BUDGET = 2e9;

export const DEFAULT_BUDGET: RunBudget = { memoryBytes: DEFAULT_MEMORY_BUDGET, trajectoryBytes: DEFAULT_TRAJECTORY_BUDGET };

/** "1.4 GB", "512 MB", "3.2 kB" (powers of 1000, as disks and `ls -h --si` count). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return `${n} bytes`;
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let u = 0;
  let v = n;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  if (v >= 1000) return `${n.toExponential(2)} bytes`;
  return u === 0 ? `${v} bytes` : `${v.toPrecision(v >= 100 ? 3 : 2)} ${units[u]}`;
}

/** Number of values of a shape (may exceed what an array can hold; callers check). */
export function valuesOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Largest typed array this engine allocates (2³¹ − 1 values): beyond it, a clear error rather than a RangeError. */
export const MAX_VALUES = 2 ** 31 - 1;

/**
 * Refuses an array of `shape` (float64) that the budget (or the platform) cannot hold. `what` names it for the
 * message, e.g. `latent.empty "latent"`.
 */
export function checkAllocation(shape: readonly number[], what: string, budget?: RunBudget, copies = WORKING_COPIES): void {
  const n = valuesOf(shape);
  const bytes = n * 8 * copies;
  const limit = budget?.memoryBytes ?? Infinity;
  if (!Number.isSafeInteger(n) || n > MAX_VALUES || bytes > limit) {
    const hint = n > MAX_VALUES ? `one array holds at most ${MAX_VALUES.toLocaleString('en-US')} values` : `the memory budget is ${formatBytes(limit)} (dpipe run --max-memory MB raises it)`;
    throw new DpipeError(
      'E_BUDGET',
      `${what}: a latent of shape [${shape.join(', ')}] is ${n.toLocaleString('en-US')} values; a run keeps about ${copies} float64 copies of it ` +
        `(${formatBytes(bytes)}), and ${hint}; use a smaller batch or size`,
    );
  }
}

/**
 * Refuses a Sample block whose trajectory would exceed the budget: `nfe` evaluations × `planes` (x_t, x̂0 and the
 * guidance branches) × the latent, float32.
 */
export function checkTrajectory(shape: readonly number[], nfe: number, what: string, budget?: RunBudget, planes = TRAJECTORY_PLANES): void {
  if (!budget || budget.trajectoryBytes <= 0) return;
  const bytes = nfe * planes * valuesOf(shape) * 4;
  if (bytes > budget.trajectoryBytes) {
    throw new DpipeError(
      'E_BUDGET',
      `${what}: its trajectory would hold ${nfe.toLocaleString('en-US')} model evaluations × ${planes} planes (x_t, x̂0${planes > 2 ? ', guidance branches' : ''}) ` +
        `× [${shape.join(', ')}] float32 = ${formatBytes(bytes)}, above the trajectory budget of ${formatBytes(budget.trajectoryBytes)}; ` +
        `use fewer steps or a smaller batch, raise the budget (dpipe run --max-trajectory MB), or do not record it (--no-trajectory)`,
    );
  }
}
