/**
 * Composition rules: blocks that each are fine but cannot work together. Each rule is a function over the
 * document and the registry that returns findings; the loader reports them as `E_COMPOSE` problems (or warnings)
 * and `canConnect` refuses an edge a rule objects to. To add a rule, write a function here and append it to
 * `COMPOSE_RULES`; name both blocks (ids, types and titles) and say why in its message.
 *
 * Rules read only registry metadata and the document (plus the model sidecar when the caller can read files), so
 * they run in the editor as the user drags an edge, and a run never discovers these combinations mid-way:
 * - `correctorNeedsSupport`: a corrector on a solver without `acceptsCorrector`;
 * - `correctorFollows`: a corrector whose `corrector.follows` is "deterministic" on a stochastic solver;
 * - `adaptiveNeedsEnds`: an adaptive solver (`solver.adaptive`) fed a schedule with interior points;
 * - `zeroEndDefined` (warning): a solver without a step to σ = 0 (`solver.noStepToZero`) on a schedule ending at 0;
 * - `cfgppNeedsDdimStep`: `guider.cfgpp` with a solver whose step is not the DDIM/Euler step (`solver.ddimStep`);
 * - `modelKindSupported`: a solver whose `solver.supports` excludes the model's kind (from the model block's
 *   prediction/time params or its sidecar);
 * - `iidNoiseForCorrector`: a corrector that needs i.i.d. noise (`corrector.iidNoise`) with a Brownian-path
 *   noise block (`noise.brownian`);
 * - `vpOutputNeedsSigmas`: `output.latent` in VP coordinates without the schedule that gives σ_end;
 * - `torchNoiseOrderOptions`: `noise.torch` with an option of one tool's draw order (A1111's variation seed, seed
 *   resize, ENSD; ComfyUI's batch indices) set but another order.
 *
 * Placement: a finding's `edgeIndex` is the edge that completes the combination (the last of the edges involved,
 * so `canConnect` refuses the edge being drawn); `pointer`, when given, is where the loader marks it (the
 * parameter that decides it, when the file writes one).
 */
import type { ModelSchedule } from '../core/types';
import type { NodeTypeInfo, ParamValue, PortSpec, PortType } from '../registry/types';
import { findPort, paramsWithDefaults, type BlockRegistry } from './registry';
import type { Endpoint, PipelineDoc, PipelineNode } from './types';
import { ENDPOINT_PATTERN } from './types';
import { pointerOf } from './locate';

/** An edge whose endpoints parse and whose two nodes exist with known types; the ports may not exist. */
export interface ResolvedEdge {
  /** Index in `doc.edges`. */
  readonly index: number;
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly fromInfo: NodeTypeInfo;
  readonly toInfo: NodeTypeInfo;
  /** The source output port, when it exists. */
  readonly fromPort?: PortSpec;
  /** The target input port, when it exists. */
  readonly toPort?: PortSpec;
}

export interface ComposeContext {
  readonly doc: PipelineDoc;
  readonly registry: BlockRegistry;
  readonly edges: readonly ResolvedEdge[];
  /**
   * Reads the sidecar `<path>.json` of a model file param (`path` as written in the file, relative to the .dpipe);
   * undefined when there is none or it cannot be read. Absent where files cannot be read (webview): rules that
   * need it then decide only from the params.
   */
  readonly readSidecar?: (path: string) => Readonly<Record<string, unknown>> | undefined;
}

export interface ComposeFinding {
  readonly message: string;
  /** The node the finding is marked on. */
  readonly nodeId: string;
  /** The edge that brings the two blocks together, when there is one (the problem is placed on it). */
  readonly edgeIndex?: number;
  /** Where to mark the problem instead (RFC 6901 pointer into the document, e.g. a parameter). */
  readonly pointer?: string;
  /** Default `error`. */
  readonly severity?: 'error' | 'warning';
}

export type ComposeRule = (ctx: ComposeContext) => ComposeFinding[];

export function resolveEdges(doc: PipelineDoc, registry: BlockRegistry): ResolvedEdge[] {
  const types = new Map<string, string>();
  for (const n of doc.nodes) if (!types.has(n.id)) types.set(n.id, n.type);
  const out: ResolvedEdge[] = [];
  doc.edges.forEach((e, index) => {
    if (typeof e.from !== 'string' || typeof e.to !== 'string' || !ENDPOINT_PATTERN.test(e.from) || !ENDPOINT_PATTERN.test(e.to)) return;
    const split = (s: string): Endpoint => ({ node: s.slice(0, s.indexOf('.')), port: s.slice(s.indexOf('.') + 1) });
    const from = split(e.from);
    const to = split(e.to);
    const ft = types.get(from.node);
    const tt = types.get(to.node);
    const fromInfo = ft !== undefined ? registry.get(ft) : undefined;
    const toInfo = tt !== undefined ? registry.get(tt) : undefined;
    if (!fromInfo || !toInfo) return;
    out.push({ index, from, to, fromInfo, toInfo, fromPort: findPort(fromInfo, 'output', from.port), toPort: findPort(toInfo, 'input', to.port) });
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading the graph: what feeds a node's input, and what a Sample node is wired to.

/** A node of the document with its registry entry and where it sits in `doc.nodes`. */
export interface Block {
  readonly node: PipelineNode;
  readonly info: NodeTypeInfo;
  readonly index: number;
}

/** The block feeding an input, with the edge that does. */
export interface Feed extends Block {
  readonly edge: ResolvedEdge;
}

/** Index of a document: blocks by id and the (first well-typed) edge into each input. */
export class Wiring {
  private readonly blocks = new Map<string, Block>();
  private readonly into = new Map<string, ResolvedEdge>();

  constructor(readonly ctx: ComposeContext) {
    ctx.doc.nodes.forEach((node, index) => {
      const info = ctx.registry.get(node.type);
      if (info && !this.blocks.has(node.id)) this.blocks.set(node.id, { node, info, index });
    });
    for (const e of ctx.edges) {
      if (!e.fromPort || !e.toPort || e.fromPort.type !== e.toPort.type) continue;
      const key = `${e.to.node}.${e.to.port}`;
      if (!this.into.has(key)) this.into.set(key, e);
    }
  }

  block(id: string): Block | undefined {
    return this.blocks.get(id);
  }

  all(): Block[] {
    return [...this.blocks.values()];
  }

  /** What feeds the input of `id` of this type (the first such input when there are several). */
  feed(id: string, type: PortType): Feed | undefined {
    const b = this.blocks.get(id);
    const port = b?.info.inputs.find((p) => p.type === type);
    if (!port) return undefined;
    const edge = this.into.get(`${id}.${port.name}`);
    const src = edge && this.blocks.get(edge.from.node);
    return src ? { ...src, edge } : undefined;
  }

  /** A node's params with the registry defaults filled in. */
  params(b: Block): Record<string, ParamValue> {
    return paramsWithDefaults(b.info, b.node.params);
  }

  /** Pointer to a param of a block when the file writes it, else undefined. */
  paramPointer(b: Block, name: string): string | undefined {
    return Object.prototype.hasOwnProperty.call(b.node.params, name) ? pointerOf(['nodes', b.index, 'params', name]) : undefined;
  }
}

/** A sampling block (one with SAMPLER, SIGMAS, GUIDER and NOISE inputs) and what feeds it. */
export interface SampleWiring {
  readonly sample: Block;
  readonly solver?: Feed;
  /** The corrector attached to the solver. */
  readonly corrector?: Feed;
  readonly schedule?: Feed;
  readonly noise?: Feed;
  /** The guider chain from the one feeding the sample down to the one holding the model (thresholding wraps). */
  readonly guiders: readonly Feed[];
  /** The model under the guider chain. */
  readonly model?: Feed;
}

export function sampleWirings(w: Wiring): SampleWiring[] {
  const out: SampleWiring[] = [];
  for (const b of w.all()) {
    const types = new Set(b.info.inputs.map((p) => p.type));
    if (!types.has('SAMPLER') || !types.has('SIGMAS') || !types.has('GUIDER')) continue;
    const solver = w.feed(b.node.id, 'SAMPLER');
    const guiders: Feed[] = [];
    const seen = new Set<string>();
    for (let g = w.feed(b.node.id, 'GUIDER'); g && !seen.has(g.node.id); g = w.feed(g.node.id, 'GUIDER')) {
      seen.add(g.node.id);
      guiders.push(g);
    }
    const last = guiders[guiders.length - 1];
    out.push({
      sample: b,
      solver,
      corrector: solver && w.feed(solver.node.id, 'CORRECTOR'),
      schedule: w.feed(b.node.id, 'SIGMAS'),
      noise: w.feed(b.node.id, 'NOISE'),
      guiders,
      model: last && w.feed(last.node.id, 'MODEL'),
    });
  }
  return out;
}

/** `solver "s" (solver.euler)`: role, id and type, the way every rule opens its message. */
function named(role: string, b: { node: PipelineNode; info: NodeTypeInfo }): string {
  return `${role} "${b.node.id}" (${b.info.type})`;
}

/** The edge completing a combination: the last one in document order (the one `canConnect` is checking). */
function completing(...feeds: (Feed | undefined)[]): number | undefined {
  const idx = feeds.filter((f): f is Feed => f !== undefined).map((f) => f.edge.index);
  return idx.length ? Math.max(...idx) : undefined;
}

function list(types: readonly string[], max = 6): string {
  if (types.length === 0) return 'none in this registry';
  return types.length > max ? `${types.slice(0, max).join(', ')}, …` : types.join(', ');
}

// ---------------------------------------------------------------------------------------------------------------
// Rules.

/**
 * A CORRECTOR output may only feed a solver whose registry info sets `acceptsCorrector` (a multistep predictor
 * whose corrector is defined, e.g. UniPC's UniC). Fires whether or not the solver block declares a corrector port,
 * so the user reads why rather than "no such port".
 */
export const correctorNeedsSupport: ComposeRule = ({ edges, registry }) => {
  const out: ComposeFinding[] = [];
  for (const e of edges) {
    if (e.fromPort?.type !== 'CORRECTOR' || !e.toInfo.solver || e.toInfo.solver.acceptsCorrector) continue;
    const takers = registry.all.filter((t) => t.solver?.acceptsCorrector).map((t) => t.type);
    out.push({
      nodeId: e.to.node,
      edgeIndex: e.index,
      message:
        `corrector "${e.from.node}" (${e.fromInfo.type}) cannot attach to solver "${e.to.node}" (${e.toInfo.type}): ` +
        `${e.toInfo.title} does not accept a corrector (its registry info has no acceptsCorrector), so ${e.fromInfo.title} has no step to correct; ` +
        `use a solver that does (${list(takers)}), or remove the edge`,
    });
  }
  return out;
};

/**
 * A corrector declared `follows: 'deterministic'` (UniC, the SA-Solver corrector: they rebuild the step from the
 * predictor's data-prediction history as an ODE step) cannot follow a stochastic solver, whose step adds fresh
 * noise that the rebuilt step would drop.
 */
export const correctorFollows: ComposeRule = ({ edges, registry }) => {
  const out: ComposeFinding[] = [];
  for (const e of edges) {
    const c = e.fromInfo.corrector;
    const s = e.toInfo.solver;
    if (e.fromPort?.type !== 'CORRECTOR' || !c || !s?.acceptsCorrector || c.follows !== 'deterministic' || !s.stochastic) continue;
    const solvers = registry.all.filter((t) => t.solver?.acceptsCorrector && !t.solver.stochastic).map((t) => t.type);
    const anyCorrectors = registry.all.filter((t) => t.corrector?.follows === 'any').map((t) => t.type);
    out.push({
      nodeId: e.to.node,
      edgeIndex: e.index,
      message:
        `corrector "${e.from.node}" (${e.fromInfo.type}) cannot follow solver "${e.to.node}" (${e.toInfo.type}): ` +
        `${e.fromInfo.title} follows deterministic (ODE) solvers only — it rebuilds the step from the data-prediction history, ` +
        `which drops the fresh noise of a stochastic step — and ${e.toInfo.title} is stochastic; ` +
        `attach it to a deterministic solver that accepts correctors (${list(solvers)}), ` +
        `or use a corrector that follows any solver (${list(anyCorrectors)})`,
    });
  }
  return out;
};

/** What the loader can tell about a schedule block's output without running it. */
export interface ScheduleShape {
  /** Bounds on the number of σ values (equal when the params fix it; `maxPoints` may be Infinity). */
  readonly minPoints: number;
  readonly maxPoints: number;
  /** How it ends, when a param says so: at 0 ("zero") or at a positive σ ("sigma_min", "none"). */
  readonly end?: 'zero' | 'positive';
  /** The param that sets the length (for messages and placement). */
  readonly lengthParam: 'steps' | 'values';
}

/**
 * The length of a schedule block's σ list from its params, without running it:
 * - a generator with `steps` and a `final`/`end` param: steps + 1 values (steps with "none");
 * - a generator with `steps` only: at least steps + 1 (ComfyUI's ddim_uniform may add a few);
 * - a generator with a `values` list and `final`: its length + 1 with "zero", + 0 with "none", either with
 *   "sigma_min" (a fitted list may already end at σ_min);
 * - undefined for operations on other schedules (split, truncate, …) and anything else.
 * `test/format/rules.test.ts` checks these bounds against every schedule block of the registry.
 */
export function scheduleShape(info: NodeTypeInfo, params: Readonly<Record<string, ParamValue>>): ScheduleShape | undefined {
  if (info.category !== 'Schedule' || info.inputs.some((p) => p.type === 'SIGMAS')) return undefined;
  const finalSpec = info.params.find((p) => (p.name === 'final' || p.name === 'end') && p.type === 'enum');
  const final = finalSpec ? params[finalSpec.name] : undefined;
  const end = final === 'zero' ? 'zero' : final === 'sigma_min' || final === 'none' ? 'positive' : undefined;
  const steps = info.params.some((p) => p.name === 'steps' && p.type === 'integer') ? params.steps : undefined;
  if (typeof steps === 'number') {
    if (!finalSpec) return { minPoints: steps + 1, maxPoints: Infinity, lengthParam: 'steps' };
    const n = steps + (final === 'none' ? 0 : 1);
    return { minPoints: n, maxPoints: n, end, lengthParam: 'steps' };
  }
  const values = info.params.some((p) => p.name === 'values' && p.type === 'numberList') ? params.values : undefined;
  if (Array.isArray(values) && finalSpec) {
    const n = values.length;
    return { minPoints: final === 'zero' ? n + 1 : n, maxPoints: final === 'none' ? n : n + 1, end, lengthParam: 'values' };
  }
  return undefined;
}

/** "5 σ values", "at least 5 σ values", "5 or 6 σ values". */
function describePoints(shape: ScheduleShape): string {
  const { minPoints: lo, maxPoints: hi } = shape;
  const n = lo === hi ? `${lo}` : hi === Infinity ? `at least ${lo}` : `${lo} to ${hi}`;
  return `${n} σ value${lo === 1 && hi === 1 ? '' : 's'}`;
}

/**
 * An adaptive solver (`solver.adaptive`: DPM-Solver-adaptive, Gotta Go Fast) picks its own steps and takes only
 * the schedule's ends: [σ_max, σ_min] or [σ_max, σ_min, 0]. A schedule whose length shows interior points (or no
 * σ_min) is refused here rather than when the solver starts.
 */
export const adaptiveNeedsEnds: ComposeRule = (ctx) => {
  const w = new Wiring(ctx);
  const out: ComposeFinding[] = [];
  for (const s of sampleWirings(w)) {
    if (!s.solver?.info.solver?.adaptive || !s.schedule) continue;
    const params = w.params(s.schedule);
    const shape = scheduleShape(s.schedule.info, params);
    if (!shape) continue;
    // Bounds on the number of positive σs; the solver needs exactly two.
    const lo = shape.end === 'positive' ? shape.minPoints : shape.minPoints - 1;
    const hi = shape.end === 'zero' ? shape.maxPoints - 1 : shape.maxPoints;
    if (lo <= 2 && 2 <= hi) continue;
    const ranged = ctx.registry.all
      .filter((t) => t.category === 'Schedule' && t.params.some((p) => p.name === 'steps') && t.params.some((p) => p.name === 'final'))
      .map((t) => t.type);
    // Lists the user writes (a default list to edit), not fitted ones.
    const lists = ctx.registry.all
      .filter((t) => t.category === 'Schedule' && t.params.some((p) => p.name === 'values' && p.type === 'numberList' && p.default.length > 0) && t.params.some((p) => p.name === 'final'))
      .map((t) => t.type);
    const finalName = s.schedule.info.params.find((p) => p.name === 'final' || p.name === 'end')?.name;
    const setting = (shape.lengthParam === 'steps' ? `steps ${String(params.steps)}` : `${(params.values as readonly number[]).length} values`) +
      (finalName ? `, ${finalName} ${JSON.stringify(params[finalName])}` : '');
    const what = lo > 2
      ? `${lo === hi ? '' : 'at least '}${lo - 2} interior point${lo - 2 === 1 ? '' : 's'} between σ_max and σ_min`
      : 'no σ_min above 0 after σ_max';
    out.push({
      nodeId: s.schedule.node.id,
      edgeIndex: completing(s.solver, s.schedule),
      pointer: w.paramPointer(s.schedule, shape.lengthParam) ?? pointerOf(['edges', s.schedule.edge.index]),
      message:
        `${named('schedule', s.schedule)} cannot drive ${named('solver', s.solver)} in ${named('sample', s.sample)}: ` +
        `${s.solver.info.title} is adaptive — it picks its own steps and uses only the schedule's ends [σ_max, σ_min] (a final 0 adds a denoising step) — ` +
        `but ${s.schedule.info.title} gives ${describePoints(shape)} (${setting}): ${what}; ` +
        `connect ${list(lists)} with two values [σ_max, σ_min], or a σ-range schedule with steps 2 and final "zero" (${list(ranged, 8)})`,
    });
  }
  return out;
};

/**
 * CFG++ (`guider.cfgpp`) rewrites the DDIM/Euler step; it is exact only with a solver whose registry info
 * declares that step (`solver.ddimStep`, with the param values that make it so) and no corrector (a corrector
 * evaluates off the schedule's σs). Where the guider would refuse at run time (Heun-type stages, churn) or run
 * without being the paper's method (multistep, ancestral), the combination is refused here.
 */
export const cfgppNeedsDdimStep: ComposeRule = (ctx) => {
  const w = new Wiring(ctx);
  const out: ComposeFinding[] = [];
  for (const s of sampleWirings(w)) {
    const g = s.guiders.find((f) => f.info.type === 'guider.cfgpp');
    if (!g || !s.solver?.info.solver) continue;
    const ddim = s.solver.info.solver.ddimStep;
    const exact = ctx.registry.all
      .filter((t) => t.solver?.ddimStep)
      .map((t) => `${t.type}${Object.entries(t.solver!.ddimStep!).map(([k, v]) => ` with ${k} = ${JSON.stringify(v)}`).join(',')}`);
    const head = `${named('guider', g)} is not exact with ${named('solver', s.solver)} in ${named('sample', s.sample)}: ` +
      `${g.info.title} rewrites the first-order step x_next = D + (σ_next/σ)·(x − D) with one model evaluation at each schedule σ`;
    const tail = `; use ${exact.length ? exact.join(' or ') : 'a solver that declares that step'}, or guider.cfg`;
    const edgeIndex = completing(s.solver, ...s.guiders);
    if (!ddim) {
      out.push({ nodeId: s.solver.node.id, edgeIndex, pointer: pointerOf(['edges', s.solver.edge.index]), message: `${head}, and ${s.solver.info.title} does not take that step${tail}` });
      continue;
    }
    const params = w.params(s.solver);
    const off = mismatches(params, ddim);
    if (off.length) {
      const [k, v] = off[0];
      out.push({
        nodeId: s.solver.node.id,
        edgeIndex,
        pointer: w.paramPointer(s.solver, k) ?? pointerOf(['edges', s.solver.edge.index]),
        message: `${head}, which ${s.solver.info.title} takes only with ${k} = ${JSON.stringify(v)} (here ${k} = ${JSON.stringify(params[k])})${tail}`,
      });
      continue;
    }
    if (s.corrector) {
      out.push({
        nodeId: s.solver.node.id,
        edgeIndex: completing(s.corrector, s.solver, ...s.guiders),
        pointer: pointerOf(['edges', s.corrector.edge.index]),
        message: `${head}, and ${named('corrector', s.corrector)} attached to it evaluates the model again at σ_next, off that step; remove the corrector${tail}`,
      });
    }
  }
  return out;
};

/** The entries of `want` that `params` does not match (JSON equality), as [name, wanted value]. */
function mismatches(params: Readonly<Record<string, ParamValue>>, want: Readonly<Record<string, ParamValue>>): [string, ParamValue][] {
  return Object.entries(want).filter(([k, v]) => JSON.stringify(params[k]) !== JSON.stringify(v));
}

/**
 * A solver whose step to σ = 0 is undefined with its params (`solver.noStepToZero`: UniPC and DC-Solver with
 * B(h) = h) cannot finish a schedule whose `final` param ends it at 0. A warning, not an error: the run reproduces
 * the reference up to that step and then stops with a clear error (diffusers gives NaN there: the golden runs
 * df_unipc_bh1_o2/o3 are reproduced as that error), so the user learns it here and may still inspect the run.
 */
export const zeroEndDefined: ComposeRule = (ctx) => {
  const w = new Wiring(ctx);
  const out: ComposeFinding[] = [];
  for (const s of sampleWirings(w)) {
    const when = s.solver?.info.solver?.noStepToZero;
    if (!s.solver || !when || !s.schedule) continue;
    const params = w.params(s.solver);
    if (mismatches(params, when).length) continue;
    const sched = w.params(s.schedule);
    const shape = scheduleShape(s.schedule.info, sched);
    if (shape?.end !== 'zero') continue;
    const finalName = s.schedule.info.params.find((p) => p.name === 'final' || p.name === 'end')?.name ?? 'final';
    const keys = Object.keys(when);
    const setting = keys.map((k) => `${k} ${JSON.stringify(params[k])}`).join(', ');
    const written = keys.map((k) => w.paramPointer(s.solver!, k)).find((p) => p !== undefined);
    out.push({
      nodeId: s.schedule.node.id,
      edgeIndex: completing(s.solver, s.schedule),
      pointer: w.paramPointer(s.schedule, finalName) ?? written ?? pointerOf(['edges', s.schedule.edge.index]),
      message:
        `${named('schedule', s.schedule)} cannot end the run of ${named('solver', s.solver)} in ${named('sample', s.sample)}: ` +
        `${s.solver.info.title} with ${setting} has no defined step to σ = 0, and ${s.schedule.info.title} ends at 0 (${finalName} "zero"); ` +
        `the run will stop with an error at its last step; end the schedule above 0 (${finalName} "sigma_min" or "none"), or change ${keys.join(' or ')} on the solver`,
      severity: 'warning',
    });
  }
  return out;
};

/** Settings of a `model.onnx`-like block that decide its kind, with where each came from. */
interface KindSetting {
  readonly value: string;
  /** `param` (written on the node) or `sidecar`. */
  readonly from: 'param' | 'sidecar';
}

/**
 * The model kind (`ModelSchedule['kind']`) a model block will have, from its `prediction` and `time` params
 * (values other than "auto") or its sidecar; undefined when the ONNX file's tensor names would decide (the same
 * mapping as the model loader: discrete time → discrete; flow prediction or flow time → flow; EDM prediction or
 * EDM c_noise time → edm; else sigma).
 */
export function modelKind(prediction: string | undefined, time: string | undefined): ModelSchedule['kind'] | undefined {
  if (time === undefined) return undefined;
  if (time === 'discrete') return 'discrete';
  if (time === 'flow' || time === 'flow1000' || prediction === 'flow') return 'flow';
  if (prediction === undefined) return undefined;
  if (prediction === 'edm' || time === 'edm_cnoise') return 'edm';
  return 'sigma';
}

function modelSettings(w: Wiring, b: Block): { prediction?: KindSetting; time?: KindSetting; file?: string } {
  const params = w.params(b);
  const path = b.info.params.find((p) => p.type === 'file') ? params[b.info.params.find((p) => p.type === 'file')!.name] : undefined;
  let side: Readonly<Record<string, unknown>> | undefined;
  if (typeof path === 'string' && path !== '' && w.ctx.readSidecar) side = w.ctx.readSidecar(path);
  const one = (name: string): KindSetting | undefined => {
    const v = params[name];
    if (typeof v === 'string' && v !== 'auto') return { value: v, from: 'param' };
    const s = side?.[name];
    const spec = b.info.params.find((p) => p.name === name);
    if (typeof s === 'string' && s !== 'auto' && spec?.type === 'enum' && spec.options.includes(s)) return { value: s, from: 'sidecar' };
    return undefined;
  };
  return { prediction: one('prediction'), time: one('time'), file: typeof path === 'string' ? path : undefined };
}

/**
 * A solver whose registry info lists the model kinds it supports (`solver.supports`) cannot run on a model of
 * another kind; the kind is read from the model block's params or its sidecar, without opening the ONNX file.
 */
export const modelKindSupported: ComposeRule = (ctx) => {
  const w = new Wiring(ctx);
  const out: ComposeFinding[] = [];
  for (const s of sampleWirings(w)) {
    const supports = s.solver?.info.solver?.supports;
    if (!s.solver || !supports || !s.model) continue;
    const m = modelSettings(w, s.model);
    const kind = modelKind(m.prediction?.value, m.time?.value);
    if (!kind || supports.includes(kind)) continue;
    const where = (name: 'prediction' | 'time', k: KindSetting | undefined): string | undefined =>
      k && (k.from === 'param' ? `${name} "${k.value}" on the node` : `${name} "${k.value}" in its sidecar ${m.file}.json`);
    const why = [where('prediction', m.prediction), where('time', m.time)].filter(Boolean).join(', ');
    const decisive = m.time?.from === 'param' ? 'time' : 'prediction';
    const others = ctx.registry.all.filter((t) => t.solver && (!t.solver.supports || t.solver.supports.includes(kind))).map((t) => t.type);
    out.push({
      nodeId: s.solver.node.id,
      edgeIndex: completing(s.solver, ...s.guiders, s.model),
      pointer: w.paramPointer(s.model, decisive) ?? pointerOf(['edges', s.solver.edge.index]),
      message:
        `${named('solver', s.solver)} cannot run on ${named('model', s.model)} in ${named('sample', s.sample)}: ` +
        `${s.solver.info.title} supports ${supports.join('/')} models only, and ${s.model.info.title} is ${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} model (${why}); ` +
        `use a solver that supports ${kind} models (${list(others)})`,
    });
  }
  return out;
};

/**
 * A corrector that draws fresh noise at a fixed σ (`corrector.iidNoise`: Langevin) needs i.i.d. per-step noise; a
 * Brownian-path noise block (`noise.brownian`) gives a draw over a zero-length interval, which is 0.
 */
export const iidNoiseForCorrector: ComposeRule = (ctx) => {
  const w = new Wiring(ctx);
  const out: ComposeFinding[] = [];
  for (const s of sampleWirings(w)) {
    if (!s.corrector?.info.corrector?.iidNoise || !s.noise?.info.noise?.brownian || !s.solver) continue;
    const iid = ctx.registry.all.filter((t) => t.category === 'Noise' && t.outputs.some((o) => o.type === 'NOISE') && !t.noise?.brownian).map((t) => t.type);
    out.push({
      nodeId: s.noise.node.id,
      edgeIndex: completing(s.corrector, s.solver, s.noise),
      pointer: pointerOf(['edges', s.noise.edge.index]),
      message:
        `${named('corrector', s.corrector)} on ${named('solver', s.solver)} cannot use ${named('noise', s.noise)} in ${named('sample', s.sample)}: ` +
        `${s.corrector.info.title} draws fresh noise at a fixed σ after every step, and ${s.noise.info.title} gives increments of one Brownian path, ` +
        `which are 0 over a zero-length interval; feed the sample i.i.d. noise (${list(iid)})`,
    });
  }
  return out;
};

/**
 * `output.latent` with `space: "vp"` divides by √(1+σ_end²), σ_end being the last σ of the schedule wired to its
 * `sigmas` input; without that wire the run could only fail at the end, so the loader says it up front.
 */
export const vpOutputNeedsSigmas: ComposeRule = (ctx) => {
  const out: ComposeFinding[] = [];
  ctx.doc.nodes.forEach((node, i) => {
    const info = ctx.registry.get(node.type);
    if (!info || node.type !== 'output.latent' || paramsWithDefaults(info, node.params).space !== 'vp') return;
    if (ctx.edges.some((e) => e.to.node === node.id && e.to.port === 'sigmas')) return;
    out.push({
      nodeId: node.id,
      pointer: pointerOf(['nodes', i, 'params', 'space']),
      message:
        `block "${node.id}" (${node.type}, ${info.title}) writes VP coordinates (space "vp"), which needs the run's last σ: ` +
        `connect the schedule the Sample block ran on to its "sigmas" input, or set space to "ve"`,
    });
  });
  return out;
};

/**
 * `noise.torch` options that exist in one tool's draw order only (A1111's variation seed, seed resize and ENSD;
 * ComfyUI's batch indices): set with another order they would change nothing that tool does, so the loader says so
 * on the parameter instead of ignoring it.
 */
const TORCH_NOISE_OPTION_ORDER: Readonly<Record<string, { order: string; what: string }>> = {
  variationStrength: { order: 'a1111', what: 'an A1111 option (variation seed)' },
  seedResizeFrom: { order: 'a1111', what: 'an A1111 option (resize seed from)' },
  ensd: { order: 'a1111', what: 'an A1111 option (eta noise seed delta)' },
  batchIndex: { order: 'comfyui', what: 'a ComfyUI option (a latent\'s batch_index)' },
};

export const torchNoiseOrderOptions: ComposeRule = (ctx) => {
  const out: ComposeFinding[] = [];
  ctx.doc.nodes.forEach((node, i) => {
    const info = ctx.registry.get(node.type);
    if (!info || node.type !== 'noise.torch') return;
    const p = paramsWithDefaults(info, node.params);
    for (const [k, { order, what }] of Object.entries(TORCH_NOISE_OPTION_ORDER)) {
      const v = p[k];
      const on = Array.isArray(v) ? v.length > 0 : v !== 0 && v !== undefined;
      if (!on || p.order === order) continue;
      out.push({
        nodeId: node.id,
        pointer: pointerOf(['nodes', i, 'params', k]),
        message:
          `block "${node.id}" (${node.type}, ${info.title}) sets ${k}, ${what}, with order "${String(p.order)}", whose tool has no such option; ` +
          `set order to "${order}" or remove ${k}`,
      });
    }
  });
  return out;
};

/** The rules the loader and `canConnect` apply, in order. */
export const COMPOSE_RULES: readonly ComposeRule[] = [
  correctorNeedsSupport, correctorFollows, adaptiveNeedsEnds, zeroEndDefined, cfgppNeedsDdimStep, modelKindSupported, iidNoiseForCorrector,
  vpOutputNeedsSigmas, torchNoiseOrderOptions,
];
