/**
 * A run's error against a reference trajectory (`reference.ts`), per model evaluation and at the end, and the
 * `reference.json` a run folder keeps so the inspector can show it without solving again.
 *
 * Error at evaluation i = ‖x_t(i) − x_ref(σ_i)‖ (RMS over the whole batch, as in `stats.ts`): the distance between
 * the state the model saw and the reference state at the same σ. Final error = ‖x_final − x_ref(σ_end)‖ with the
 * Sample node's final state. For stage and corrector evaluations the state is a provisional one, so their error
 * says how far the solver's trial point is from the solution.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DpipeError } from '../core/errors';
import { encodeNpy } from '../core/npy';
import { hasErrors, loadPipeline } from '../format/index';
import { writeFileAtomic } from '../run/files';
import type { TrajectoryReader } from './reader';
import { referenceTrajectory, stateAt, stopSigmas, type ReferenceOptions, type ReferenceStates } from './reference';
import { rmsDiff } from './stats';

export const REFERENCE_FILE = 'reference.json';

export interface RunError {
  readonly node: string;
  readonly method: string;
  readonly referenceNfe: number;
  /** Per evaluation of the whole run: the error, or null for evaluations of other Sample nodes. */
  readonly perEval: (number | null)[];
  /** Error of the node's final state; null when the run did not finish the node. */
  readonly final: number | null;
}

/** Errors of every evaluation of `ref.node` in the run, and of its final state. */
export function errorAgainstReference(reader: TrajectoryReader, ref: ReferenceStates): RunError {
  const sample = reader.samples.find((s) => s.node === ref.node);
  if (!sample) throw new DpipeError('E_PARAM_VALUE', `the run has no Sample node "${ref.node}"; it has ${reader.samples.map((s) => s.node).join(', ')}`);
  const n = sample.shape.reduce((a, b) => a * b, 1);
  if (ref.states.length && ref.states[0].length !== n) throw new DpipeError('E_SHAPE', `reference states have ${ref.states[0].length} values, the run's latents ${n}`);
  const perEval = reader.evals.map((m, i) => (m.node === ref.node ? rmsDiff(reader.plane(i, 'x', { cache: false }), stateAt(ref, m.sigma)) : null));
  const fin = reader.finalOf(ref.node);
  const final = fin ? rmsDiff(fin, stateAt(ref, sample.sigmas[sample.sigmas.length - 1])) : null;
  return { node: ref.node, method: ref.method, referenceNfe: ref.nfe, perEval, final };
}

export interface ReferenceFile {
  readonly format: 'dpipe-reference';
  readonly version: 1;
  readonly createdAt: string;
  readonly errors: RunError[];
}

/** Reads `reference.json` of a run folder, or undefined when there is none. */
export function readReferenceFile(runDir: string): ReferenceFile | undefined {
  const file = path.join(runDir, REFERENCE_FILE);
  if (!fs.existsSync(file)) return undefined;
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as ReferenceFile;
    return v.format === 'dpipe-reference' && Array.isArray(v.errors) ? v : undefined;
  } catch {
    return undefined;
  }
}

export type RunReferenceOptions = Omit<ReferenceOptions, 'baseDir' | 'stops'> & { readonly baseDir?: string };

/**
 * Solves the reference for a recorded run (its pipeline and seeds from run.json, stopping at every σ it
 * evaluated), computes the errors and, with `write`, stores `reference.json` and `reference-final-NODE.npy` in
 * the run folder.
 */
export async function referenceForRun(reader: TrajectoryReader, opts: RunReferenceOptions & { readonly write?: boolean } = {}): Promise<ReferenceFile> {
  const rec = reader.record;
  if (!rec) throw new DpipeError('E_FILE_MISSING', `${reader.location.trajectoryDir}: no run.json beside the trajectory, so the pipeline and seeds that made it are unknown`);
  // run.json is an input like any other: its pipeline goes through the loader, so a damaged record is a located error.
  const where = `${path.join(reader.location.runDir ?? reader.location.trajectoryDir, 'run.json')}`;
  const r = rec as unknown as Record<string, unknown>;
  if (typeof r !== 'object' || r === null || typeof r.pipeline !== 'object' || r.pipeline === null || typeof r.baseDir !== 'string') {
    throw new DpipeError('E_FORMAT', `${where} is not a dpipe run record: it needs "pipeline" (the pipeline that ran) and "baseDir" (its folder)`);
  }
  const loaded = loadPipeline(JSON.stringify(r.pipeline, null, 1), { file: `${where} (its "pipeline")`, checkFiles: false, ...(opts.nodeTypes ? { registry: opts.nodeTypes } : {}) });
  if (!loaded.doc || hasErrors(loaded.problems)) {
    const first = loaded.problems.find((p) => p.severity === 'error');
    throw new DpipeError(first?.code ?? 'E_FORMAT', `${where}: the pipeline it records is not valid${first ? `: ${first.message}` : ''}`);
  }
  const stops = new Map<string, number[]>();
  for (const s of reader.samples) stops.set(s.node, stopSigmas([...s.sigmas, ...reader.evals.filter((m) => m.node === s.node).map((m) => m.sigma)]));
  const refs = await referenceTrajectory(loaded.doc, { ...opts, baseDir: opts.baseDir ?? rec.baseDir, stops });
  const errors = [...refs.values()].filter((r) => reader.samples.some((s) => s.node === r.node)).map((r) => errorAgainstReference(reader, r));
  const out: ReferenceFile = { format: 'dpipe-reference', version: 1, createdAt: new Date().toISOString(), errors };
  if (opts.write && reader.location.runDir) {
    const dir = reader.location.runDir;
    writeFileAtomic(path.join(dir, REFERENCE_FILE), JSON.stringify(out) + '\n');
    for (const r of refs.values()) {
      const last = r.states[r.states.length - 1];
      if (last) writeFileAtomic(path.join(dir, `reference-final-${r.node}.npy`), encodeNpy(r.shape, last));
    }
  }
  return out;
}
