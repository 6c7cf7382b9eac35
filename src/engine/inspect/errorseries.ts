/**
 * The error-against-reference plot data of one or more runs on a common σ axis (no fs, so the webview can use it).
 *
 * Each run keeps its OWN reference (the `reference.json` of its run folder, solved from that run's pipeline and
 * seeds by `referenceForRun`): two compared runs may differ in seed, model, batch or σ_max, and then one shared
 * reference would be wrong for one of them. When both runs start from the same x_T with the same model the two
 * references are the same ODE solution, equal to the solver tolerance, at the cost of one extra reference solve.
 *
 * Runs' evaluations sit at different σ, so the series share the x axis of σ itself: x = every positive σ at which
 * some run has an error, ascending (uPlot needs ascending x); each series has its error at the σs it evaluated and
 * null elsewhere (drawn joined across the gaps). When a run evaluated the model several times at one σ (Heun's
 * second evaluation at σ_{i+1} and the next step's first; a corrector), the LAST of them is plotted, the same rule
 * as the σ alignment (`align.ts`). σ = 0 has no place on a log axis and is left out; the final error (at the end
 * of the schedule, usually σ = 0) is carried beside each series instead.
 */
import type { RunError } from './error';

export interface ErrorRunInput {
  /** A label for the run (its name). */
  readonly name: string;
  /** σ of every evaluation of the run, by evaluation number. */
  readonly sigmas: readonly number[];
  /** The run's errors, one per Sample node (`RunError.perEval` indexed like `sigmas`). */
  readonly errors: readonly RunError[];
}

export interface ErrorSeries {
  /** Index of the run in the input. */
  readonly run: number;
  readonly name: string;
  readonly node: string;
  readonly method: string;
  readonly referenceNfe: number;
  /** Error at each σ of {@link ErrorPlot.sigmas}, null where this run has none. */
  readonly values: (number | null)[];
  readonly final: number | null;
}

export interface ErrorPlot {
  /** Positive σ values, ascending. */
  readonly sigmas: number[];
  readonly series: ErrorSeries[];
}

/** The runs' per-evaluation errors on the union of their positive σs. See the module comment. */
export function errorPlotBySigma(runs: readonly ErrorRunInput[]): ErrorPlot {
  const perSeries: { run: number; e: RunError; name: string; at: Map<number, number> }[] = [];
  const all = new Set<number>();
  runs.forEach((r, run) => {
    for (const e of r.errors) {
      const at = new Map<number, number>();
      e.perEval.forEach((v, i) => {
        const s = r.sigmas[i];
        if (v === null || !(s > 0) || !Number.isFinite(s)) return;
        at.set(s, v); // the last evaluation at this σ wins
        all.add(s);
      });
      perSeries.push({ run, e, name: r.name, at });
    }
  });
  const sigmas = [...all].sort((a, b) => a - b);
  const series = perSeries.map(({ run, e, name, at }) => ({
    run,
    name,
    node: e.node,
    method: e.method,
    referenceNfe: e.referenceNfe,
    values: sigmas.map((s) => at.get(s) ?? null),
    final: e.final,
  }));
  return { sigmas, series };
}
