/**
 * "Run and compare with…" without VS Code: what the command offers (the pipeline's parameters as `NODE.PARAM`
 * choices), how it checks an override before anything runs, which seed both runs share, and the order of work —
 * run A, then B with the same seed, then open the inspector's compare view on the two run folders. The command
 * in commands.ts only adds the quick pick, the dialogs and the messages.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { DpipeError } from '../src/engine/core/errors';
import type { PipelineDoc } from '../src/engine/format/types';
import type { NodeTypeInfo, ParamSpec, ParamValue } from '../src/engine/registry/types';
import { applyOverrides, parseSetArg } from '../src/engine/run/overrides';
import { TRAJECTORY_INDEX } from '../src/engine/run/trajectory';
import type { RunFinished } from '../src/protocol';

/** One parameter of the pipeline that B may change. */
export interface ParamChoice {
  /** `NODE.PARAM`. */
  readonly label: string;
  readonly node: string;
  readonly param: string;
  readonly spec: ParamSpec;
  /** The value A runs with (the file's, else the block default). */
  readonly current: ParamValue | undefined;
}

/** Text of a value as `--set` reads it back (strings as they are, lists comma-separated). */
export function valueText(v: ParamValue | undefined): string {
  return v === undefined ? '' : Array.isArray(v) ? v.join(', ') : String(v);
}

/** Every parameter of every known block, in file order; seeds last (B shares A's seed, so they rarely help). */
export function paramChoices(doc: PipelineDoc, types: ReadonlyMap<string, NodeTypeInfo>): ParamChoice[] {
  const out: ParamChoice[] = [];
  for (const n of doc.nodes) {
    const info = types.get(n.type);
    for (const spec of info?.params ?? []) out.push({ label: `${n.id}.${spec.name}`, node: n.id, param: spec.name, spec, current: n.params[spec.name] ?? spec.default });
  }
  return [...out.filter((c) => c.spec.type !== 'seed'), ...out.filter((c) => c.spec.type === 'seed')];
}

/**
 * The seed both runs use: A's first seeded block's seed (so A runs as its file says), else undefined (the caller
 * picks one). Either way both runs get it as a seed override, so B draws the same noise whatever its file says.
 */
export function sharedSeed(doc: PipelineDoc, types: ReadonlyMap<string, NodeTypeInfo>): number | undefined {
  for (const n of doc.nodes) {
    const spec = types.get(n.type)?.params.find((p) => p.type === 'seed');
    if (!spec) continue;
    const v = n.params[spec.name] ?? spec.default;
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  }
  return undefined;
}

export type OverrideCheck = { readonly ok: true; readonly set: string; readonly applied: string } | { readonly ok: false; readonly error: string };

/**
 * Checks `NODE.PARAM=VALUE` against the pipeline exactly as the run will apply it (`applyOverrides`), so a typo is
 * reported in the input box, not after run A. `applied` is the typed form for labels (`sched.steps=8`).
 */
export function checkOverride(doc: PipelineDoc, types: ReadonlyMap<string, NodeTypeInfo>, text: string, baseDir: string): OverrideCheck {
  const set = text.trim();
  try {
    parseSetArg(set);
    const r = applyOverrides(doc, types, { set: [set] }, baseDir);
    return { ok: true, set, applied: r.applied[0] ?? set };
  } catch (e) {
    return { ok: false, error: e instanceof DpipeError ? e.message.replace(/^--set /, '') : String(e) };
  }
}

/** Whether text typed in the quick pick looks like an override (then it is offered as one). */
export function looksLikeOverride(text: string): boolean {
  return /^\s*[^.=\s]+\.[^.=\s]+=/.test(text);
}

/** One of the two runs: how to start it with the shared seed. Resolves undefined when the run was refused. */
export interface CompareSide {
  readonly label: string;
  run(seed: number): Promise<RunFinished | undefined>;
}

export type CompareOutcome =
  | { readonly kind: 'compared'; readonly a: string; readonly b: string }
  | { readonly kind: 'stopped'; readonly reason: string };

/** Whether a run folder holds a trajectory the inspector can open. */
export function hasTrajectory(outDir: string): boolean {
  return existsSync(path.join(outDir, 'trajectory', TRAJECTORY_INDEX));
}

/**
 * Runs A, then B, with the same seed (one run at a time, as the runner does), then opens the comparison of their
 * run folders. Stops at the first run that does not complete, or that kept no trajectory, and says why.
 */
export async function runBothAndCompare(
  a: CompareSide,
  b: CompareSide,
  seed: number,
  open: (runA: string, runB: string) => unknown,
  trajectory: (outDir: string) => boolean = hasTrajectory,
): Promise<CompareOutcome> {
  const dirs: string[] = [];
  for (const [side, s] of [['A', a], ['B', b]] as const) {
    const r = await s.run(seed);
    if (!r) return { kind: 'stopped', reason: `run ${side} (${s.label}) did not start` };
    if (!r.ok) return { kind: 'stopped', reason: `run ${side} (${s.label}) ${r.stopped ? 'was stopped' : `failed${r.error ? `: ${r.error.message}` : ''}`}` };
    if (!trajectory(r.outDir)) {
      return { kind: 'stopped', reason: `run ${side} (${s.label}) kept no trajectory to compare (the setting dpipe.trajectoryMemoryMB is 0); its outputs are in ${r.outDir}` };
    }
    dirs.push(r.outDir);
  }
  await open(dirs[0], dirs[1]);
  return { kind: 'compared', a: dirs[0], b: dirs[1] };
}
