/**
 * The messages between the extension host and the Latent Inspector webview (one panel per run, or per pair of
 * runs in compare mode). Both directions are tagged unions on `type`, validated on arrival with
 * {@link validateToInspector} / {@link validateFromInspector}; requests carry ids, time out
 * ({@link INSPECTOR_TIMEOUT_MS}) and are cleaned up by `RequestTracker` (rpc.ts).
 *
 * Flow: the webview posts `ready`; the host answers `init` (the runs' evaluation lists: no latents), then pushes
 * `stats` per run as it reads them, `compare` (σ alignment and x̂0 distance) in compare mode, `reference` when the
 * run folder has a reference.json, `sweep` for a sweep panel, `grid` for a grid panel (whose `gridCells` messages
 * open a cell, or two side by side, in a panel of their own). Latents travel only as answers to `frame` requests,
 * one evaluation at a time, as base64 of little-endian float32 (the webview keeps a small LRU of them).
 */
import type { AlignMode } from '../engine/inspect/align';
import type { RunError } from '../engine/inspect/error';
import type { ViewOptions } from '../engine/inspect/render';
import type { EvalStats } from '../engine/inspect/stats';
import type { SweepResult } from '../engine/inspect/sweep';
import type { ResponseBody } from './rpc';
import { array, bool, int, literal, logMessage, nullable, num, object, optional, record, requestMessage, responseMessage, str, tagged, type Validator } from './validate';

// ---------------------------------------------------------------------------------------------
// Shared pieces

export interface EvalInfo {
  readonly i: number;
  readonly node: string;
  readonly step: number;
  readonly sigma: number;
  /** The model's time input at this evaluation (discrete timestep, flow t); null for σ-input models; absent: unknown. */
  readonly timestep?: number | null;
  readonly role: string;
  /** Planes offered: stored (`x`, `denoised`, branches) and derived (`eps`, `diff`). */
  readonly planes: readonly string[];
}

export interface SampleInfo {
  readonly node: string;
  readonly shape: readonly number[];
  readonly sigmas: readonly number[];
  /** Solver block type from the run record, when known. */
  readonly sampler?: string;
}

export interface RunInfo {
  /** Short name (the run folder's name). */
  readonly name: string;
  /** The run folder (or trajectory folder), absolute. */
  readonly path: string;
  /** Pipeline title from the run record. */
  readonly title?: string;
  readonly samples: readonly SampleInfo[];
  readonly evals: readonly EvalInfo[];
  /** Value range of the model (for the fixed display range), else [-1, 1]. */
  readonly valueRange: readonly number[];
  /** The model's latent → RGB view (run.json models[].preview), used by channels "auto" unless a projection is typed. */
  readonly preview?: { readonly projection: readonly number[]; readonly bias: readonly number[] };
}

/** σ alignment of run B to each evaluation of run A (see engine/inspect/align.ts). */
export interface PairWire {
  readonly a: number;
  readonly b0: number;
  readonly b1: number;
  readonly w: number;
  readonly clamped: boolean;
}

export type ExportKind = 'png' | 'npy' | 'gif' | 'contact';
export const EXPORT_KINDS: readonly ExportKind[] = ['png', 'npy', 'gif', 'contact'];

// ---------------------------------------------------------------------------------------------
// Host → webview

export interface InspectorInitMessage {
  readonly type: 'init';
  readonly runs: readonly RunInfo[];
  readonly align: AlignMode;
}

export interface StatsMessage {
  readonly type: 'stats';
  readonly run: number;
  readonly stats: EvalStats;
  /** Evaluations read so far (stats arrive in pieces while a long run is read); = evals when complete. */
  readonly done: number;
}

export interface CompareMessage {
  readonly type: 'compare';
  readonly mode: AlignMode;
  /** One per evaluation of run A. */
  readonly pairs: readonly PairWire[];
  /** ‖x̂0_A − x̂0_B(σ)‖ (RMS) per evaluation of run A. */
  readonly distance: readonly (number | null)[];
}

export interface ReferenceMessage {
  readonly type: 'reference';
  readonly run: number;
  readonly errors: readonly RunError[];
}

export interface SweepMessage {
  readonly type: 'sweep';
  readonly result: SweepResult;
}

/** One cell of a grid as the grid view shows it (a digest of grid.json; the run records stay on disk). */
export interface GridCellView {
  readonly index: number;
  readonly label: string;
  /** Index of the value on each axis. */
  readonly coords: readonly number[];
  readonly status: 'completed' | 'failed';
  /** `CODE: message` of a failed cell. */
  readonly error: string | null;
  readonly nfe: number | null;
  readonly wallMs: number | null;
  /** Final error against the reference (last Sample node), when computed. */
  readonly finalError: number | null;
  readonly fd: number | null;
  readonly accuracy: number | null;
  readonly dropped: readonly string[];
}

export interface GridTileBox {
  readonly cell: number;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** A grid (`dpipe grid`): its labelled image with where each cell's tile is, its axes and its cells. */
export interface GridView {
  readonly title: string;
  /** The grid folder, absolute. */
  readonly dir: string;
  readonly axes: readonly { readonly name: string; readonly labels: readonly string[] }[];
  /** grid.png as base64, with its size and tile boxes (pixels). */
  readonly image: { readonly png: string; readonly width: number; readonly height: number; readonly tiles: readonly GridTileBox[] };
  readonly cells: readonly GridCellView[];
}

export interface GridMessage {
  readonly type: 'grid';
  readonly grid: GridView;
}

export interface NoticeMessage {
  readonly type: 'notice';
  readonly level: 'info' | 'error';
  readonly text: string;
}

export type InspectorResponse = { readonly type: 'response' } & ResponseBody;

export type ToInspector = InspectorInitMessage | StatsMessage | CompareMessage | ReferenceMessage | SweepMessage | GridMessage | NoticeMessage | InspectorResponse;

// ---------------------------------------------------------------------------------------------
// Webview → host

export interface InspectorReadyMessage {
  readonly type: 'ready';
}

export interface FrameParams {
  readonly run: number;
  readonly i: number;
  readonly planes: readonly string[];
}

export interface FrameResult {
  readonly run: number;
  readonly i: number;
  readonly shape: readonly number[];
  /** Plane name → base64 of B·C·H·W little-endian float32. */
  readonly planes: Readonly<Record<string, string>>;
}

export interface ExportParams {
  readonly run: number;
  readonly kind: ExportKind;
  /** The evaluation (png, npy). */
  readonly i?: number;
  readonly plane: string;
  readonly item: number | 'grid';
  readonly view: ViewOptions;
  readonly zoom?: number;
}

export interface ExportResult {
  /** Where the file was written; null when the user cancelled the save dialog. */
  readonly path: string | null;
}

export interface InspectorRequestMethods {
  frame: { params: FrameParams; result: FrameResult };
  export: { params: ExportParams; result: ExportResult };
}
export type InspectorMethod = keyof InspectorRequestMethods;

export type InspectorRequest = {
  [M in InspectorMethod]: { readonly type: 'request'; readonly id: string; readonly method: M; readonly params: InspectorRequestMethods[M]['params'] };
}[InspectorMethod];

export interface SetAlignMessage {
  readonly type: 'setAlign';
  readonly mode: AlignMode;
}

export const INSPECTOR_COMMANDS = ['computeReference', 'sweep', 'compareWith', 'openFile'] as const;
export type InspectorCommand = (typeof INSPECTOR_COMMANDS)[number];

export interface InspectorCommandMessage {
  readonly type: 'command';
  readonly command: InspectorCommand;
  /** `openFile`: the file. */
  readonly path?: string;
}

export interface InspectorLogMessage {
  readonly type: 'log';
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
}

/** Grid view: open one cell in the Latent Inspector, or compare two cells (their run folders) aligned by σ. */
export interface GridCellsMessage {
  readonly type: 'gridCells';
  readonly action: 'open' | 'compare';
  /** Cell numbers: one to open, two to compare. */
  readonly cells: readonly number[];
}

export type FromInspector = InspectorReadyMessage | InspectorRequest | SetAlignMessage | InspectorCommandMessage | GridCellsMessage | InspectorLogMessage;

// ---------------------------------------------------------------------------------------------
// Validators

const nullableNums = array(nullable(num), 1_000_000);

const vStats = object<EvalStats>({ xNorm: nullableNums, denoisedNorm: nullableNums, dDenoised: nullableNums, dLogSigma: nullableNums });

const vEval = object<EvalInfo>({ i: int, node: str, step: int, sigma: num, timestep: optional(nullable(num)), role: str, planes: array(str, 64) });

const vRun = object<RunInfo>({
  name: str,
  path: str,
  title: optional(str),
  samples: array(object<SampleInfo>({ node: str, shape: array(int, 8), sigmas: array(num, 1_000_000), sampler: optional(str) }), 1000),
  evals: array(vEval, 1_000_000),
  valueRange: array(num, 2),
  preview: optional(object<{ projection: readonly number[]; bias: readonly number[] }>({ projection: array(num, 3 * 4096), bias: array(num, 3) })),
});

const vAlign = literal<AlignMode>('nearest', 'interpolate');

const vPair = object<PairWire>({ a: int, b0: int, b1: int, w: num, clamped: bool });

const vRunError = object<RunError>({ node: str, method: str, referenceNfe: int, perEval: nullableNums, final: nullable(num) });

const vSweep: Validator<SweepResult> = object<SweepResult>({
  format: literal('dpipe-sweep'),
  steps: array(int, 1000),
  series: array(
    object<SweepResult['series'][number]>({
      label: str,
      node: str,
      referenceMethod: str,
      referenceNfe: int,
      slope: nullable(num),
      points: array(object<SweepResult['series'][number]['points'][number]>({ steps: int, nfe: int, error: num }), 1000),
    }),
    100,
  ),
});

const vGridCell = object<GridCellView>({
  index: int,
  label: str,
  coords: array(int, 32),
  status: literal('completed', 'failed'),
  error: nullable(str),
  nfe: nullable(int),
  wallMs: nullable(num),
  finalError: nullable(num),
  fd: nullable(num),
  accuracy: nullable(num),
  dropped: array(str, 1000),
});

const vGrid = object<GridView>({
  title: str,
  dir: str,
  axes: array(object<GridView['axes'][number]>({ name: str, labels: array(str, 10_000) }), 32),
  image: object<GridView['image']>({
    png: str,
    width: int,
    height: int,
    tiles: array(object<GridTileBox>({ cell: int, x: int, y: int, width: int, height: int }), 10_000),
  }),
  cells: array(vGridCell, 10_000),
});

export const validateToInspector: Validator<ToInspector> = tagged<ToInspector>({
  init: object<InspectorInitMessage>({ type: literal('init'), runs: array(vRun, 2), align: vAlign }),
  stats: object<StatsMessage>({ type: literal('stats'), run: int, stats: vStats, done: int }),
  compare: object<CompareMessage>({ type: literal('compare'), mode: vAlign, pairs: array(vPair, 1_000_000), distance: nullableNums }),
  reference: object<ReferenceMessage>({ type: literal('reference'), run: int, errors: array(vRunError, 1000) }),
  sweep: object<SweepMessage>({ type: literal('sweep'), result: vSweep }),
  grid: object<GridMessage>({ type: literal('grid'), grid: vGrid }),
  notice: object<NoticeMessage>({ type: literal('notice'), level: literal('info', 'error'), text: str }),
  response: responseMessage<InspectorResponse>(),
});

/** Validates a frame result's payload (the response body itself is generic). */
export const validateFrameResult = object<FrameResult>({ run: int, i: int, shape: array(int, 8), planes: record(str) });

const vChannels: Validator<ViewOptions['channels']> = (v, p) =>
  v === 'auto' || v === 'project' || v === 'tile' || (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 4096)
    ? undefined
    : `${p}: expected "auto", "project", "tile" or a channel number`;

const vRange: Validator<ViewOptions['range']> = (v, p) => {
  const mode = (v as { mode?: unknown } | null)?.mode;
  if (mode === 'channel') return undefined;
  if (mode === 'fixed') {
    const r = v as { lo: unknown; hi: unknown };
    return num(r.lo, `${p}.lo`) ?? num(r.hi, `${p}.hi`) ?? ((r.hi as number) > (r.lo as number) ? undefined : `${p}: hi must be greater than lo`);
  }
  return `${p}.mode: expected "fixed" or "channel"`;
};

export const vView = object<ViewOptions>({ channels: vChannels, projection: optional(array(num, 3 * 4096)), bias: optional(array(num, 3)), range: vRange });

const vItem: Validator<number | 'grid'> = (v, p) => (v === 'grid' || (typeof v === 'number' && Number.isInteger(v) && v >= 0) ? undefined : `${p}: expected "grid" or a batch item number`);

const requestParams: { [M in InspectorMethod]: Validator<InspectorRequestMethods[M]['params']> } = {
  frame: object<FrameParams>({ run: int, i: int, planes: array(str, 16) }),
  export: object<ExportParams>({ run: int, kind: literal(...EXPORT_KINDS), i: optional(int), plane: str, item: vItem, view: vView, zoom: optional(int) }),
};

const vRequest = requestMessage<InspectorRequest, InspectorMethod>(requestParams);

export const validateFromInspector: Validator<FromInspector> = tagged<FromInspector>({
  ready: object<InspectorReadyMessage>({ type: literal('ready') }),
  request: vRequest,
  setAlign: object<SetAlignMessage>({ type: literal('setAlign'), mode: vAlign }),
  command: object<InspectorCommandMessage>({ type: literal('command'), command: literal(...INSPECTOR_COMMANDS), path: optional(str) }),
  gridCells: object<GridCellsMessage>({ type: literal('gridCells'), action: literal('open', 'compare'), cells: array(int, 2) }),
  log: logMessage,
});

/** Request timeouts, ms: a frame is one small file read; an export may wait for a save dialog. */
export const INSPECTOR_TIMEOUT_MS: { readonly [M in InspectorMethod]: number } = {
  frame: 10_000,
  export: 10 * 60_000,
};
