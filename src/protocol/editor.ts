/**
 * The messages between the extension host and the graph-editor webview. Both directions are tagged unions on
 * `type`; each side validates what arrives with {@link validateToWebview} / {@link validateToHost} and drops (and
 * logs) anything that does not match. Requests (`request` → `response`) carry ids, time out and are cleaned up
 * by `RequestTracker` (rpc.ts).
 *
 * Flow: the webview posts `ready`; the host answers `init`. From then on the host pushes `documentChanged`
 * whenever the .dpipe text changes (graph edits, undo/redo, edits in a text editor, revert), `problems` after
 * each validation, `runState`/`preview`/`runFinished` during runs. The webview never edits text itself: it posts
 * `applyOps` and the host turns them into ONE WorkspaceEdit (so undo/redo/dirty/save are VS Code's).
 */
import type { Problem } from '../engine/core/errors';
import type { NodeTypeInfo } from '../engine/registry/types';
import { parseGraphOp, type GraphOp } from '../engine/graph';
import type { PipelineDoc } from '../engine/format/types';
import {
  array,
  bool,
  errorInfo,
  int,
  json,
  literal,
  logMessage,
  num,
  object,
  optional,
  previewMessage,
  record,
  requestMessage,
  responseMessage,
  str,
  tagged,
  type Validator,
} from './validate';

// ---------------------------------------------------------------------------------------------
// Shared pieces

/**
 * A graph edit the webview asks for: `GraphOp` of `src/engine/graph` (addNode, removeNodes, connect, disconnect,
 * setParam, moveNodes, renameNode, setMetadata), validated on arrival with the engine's `parseGraphOp`.
 */
export type GraphOpWire = GraphOp;

/** Editor settings the webview needs (from the `dpipe.*` configuration). */
export interface EditorSettings {
  /** Most previews per second the host forwards during a run (`dpipe.previewRate`). */
  readonly previewRate: number;
}

/** Phase of the run attached to this editor. */
export type RunPhase = 'idle' | 'starting' | 'running' | 'stopping' | 'done' | 'failed' | 'stopped';

/**
 * A file a run wrote. For PNGs up to 4 MB `uri` is the image as a `data:image/png;base64,` URI (the webview loads
 * nothing from disk); otherwise it is the file's `file:` URI, for display only (open it with `openFile`).
 */
export interface RunOutput {
  readonly nodeId: string;
  readonly kind: 'png' | 'npy' | 'json';
  /** Absolute path on disk. */
  readonly path: string;
  readonly uri: string;
}

// ---------------------------------------------------------------------------------------------
// Host → webview

/** First message after `ready`: everything the webview needs to draw the editor. */
export interface InitMessage {
  readonly type: 'init';
  /** The .dpipe file name (for titles), e.g. `euler.dpipe`. */
  readonly fileName: string;
  /** The document text (the single source of truth). */
  readonly text: string;
  /** Document version (TextDocument.version); later `documentChanged` carry larger ones. */
  readonly version: number;
  /** The loaded pipeline document as plain JSON, or null when the text does not parse (see `problems`). */
  readonly doc: PipelineDoc | null;
  readonly problems: readonly Problem[];
  /** The block registry (`registryInfo()`), for the palette and inspector. */
  readonly registry: readonly NodeTypeInfo[];
  /** Workspace trust: false means view and edit only, no model execution. */
  readonly trusted: boolean;
  /** Why runs are disabled (shown in the editor) when `trusted` is false. */
  readonly untrustedReason?: string;
  readonly settings: EditorSettings;
}

/** The text changed (graph edit applied, undo/redo, edit in a text editor, revert). */
export interface DocumentChangedMessage {
  readonly type: 'documentChanged';
  readonly text: string;
  readonly version: number;
  /** As in `init`: the loaded document, or null when the text does not parse. */
  readonly doc: PipelineDoc | null;
  readonly problems: readonly Problem[];
}

/** New validation results for the current text (e.g. after a referenced file appeared). */
export interface ProblemsMessage {
  readonly type: 'problems';
  readonly version: number;
  readonly problems: readonly Problem[];
}

/** Workspace trust changed (the user trusted the folder). */
export interface TrustMessage {
  readonly type: 'trust';
  readonly trusted: boolean;
  readonly untrustedReason?: string;
}

/** Settings changed. */
export interface SettingsMessage {
  readonly type: 'settings';
  readonly settings: EditorSettings;
}

/** Progress of the run attached to this document; sent on every phase change and at most ~10×/s while running. */
export interface RunStateMessage {
  readonly type: 'runState';
  readonly phase: RunPhase;
  readonly runId?: string;
  /** Sample node currently evaluating. */
  readonly nodeId?: string;
  /** Model evaluations done / planned in the whole run. */
  readonly nfeDone?: number;
  readonly nfeTotal?: number;
  readonly step?: number;
  readonly sigma?: number;
  /** Human-readable status or error. */
  readonly message?: string;
}

/**
 * The current predicted x̂0 of a Sample node as a PNG (batch items tiled in a row). The host keeps at most
 * one preview in flight per webview: it sends the next only after `previewAck` for this `seq`, and replaces
 * (drops) any preview that arrives meanwhile, so previews never queue and never slow the run.
 */
export interface PreviewMessage {
  readonly type: 'preview';
  readonly runId: string;
  readonly seq: number;
  readonly nodeId: string;
  /** 0-based model-evaluation index within the Sample node. */
  readonly index: number;
  readonly step: number;
  readonly sigma: number;
  readonly width: number;
  readonly height: number;
  /** `data:image/png;base64,…` */
  readonly image: string;
}

/** The run ended: outputs written (ok), stopped by the user, or failed with an error. */
export interface RunFinishedMessage {
  readonly type: 'runFinished';
  readonly runId: string;
  readonly ok: boolean;
  /** True when the user stopped it. */
  readonly stopped: boolean;
  readonly outputs: readonly RunOutput[];
  /** Model evaluations performed. */
  readonly nfe: number;
  /** Wall time, ms. */
  readonly ms: number;
  /** Folder the run wrote to (`dpipe-out/<timestamp>/`). */
  readonly outDir?: string;
  readonly error?: { readonly code: string; readonly message: string };
}

/** The answer to a webview `request`. */
export type ResponseMessage =
  | { readonly type: 'response'; readonly id: string; readonly ok: true; readonly result?: unknown }
  | { readonly type: 'response'; readonly id: string; readonly ok: false; readonly error: string };

export type ToWebview =
  | InitMessage
  | DocumentChangedMessage
  | ProblemsMessage
  | TrustMessage
  | SettingsMessage
  | RunStateMessage
  | PreviewMessage
  | RunFinishedMessage
  | ResponseMessage;

// ---------------------------------------------------------------------------------------------
// Webview → host

/** The webview's script is up and listening; the host answers with `init` (again after a reload). */
export interface ReadyMessage {
  readonly type: 'ready';
}

/**
 * Apply graph operations as ONE undoable edit (label shown in logs). With an `id`, the host answers with a
 * `response` (ok, or the reason the ops were refused); the resulting text arrives as `documentChanged`.
 */
export interface ApplyOpsMessage {
  readonly type: 'applyOps';
  readonly ops: readonly GraphOpWire[];
  readonly label?: string;
  readonly id?: string;
}

/** Requests the webview can make, with their params and results. */
export interface RequestMethods {
  /** Ask the user for a file; `path` is relative to the .dpipe's folder (null when cancelled). */
  pickFile: { params: { readonly extensions: readonly string[]; readonly title?: string; readonly folder?: boolean }; result: { readonly path: string | null } };
  /** Ask the user for a seed (Run with Seed…); null when cancelled. */
  pickSeed: { params: { readonly current?: number }; result: { readonly seed: number | null } };
  /** Re-validate now (checks referenced files again); the result is also pushed as `problems`. */
  validate: { params: Record<string, never>; result: { readonly problems: readonly Problem[] } };
}
export type RequestMethod = keyof RequestMethods;

export type RequestMessage = {
  [M in RequestMethod]: { readonly type: 'request'; readonly id: string; readonly method: M; readonly params: RequestMethods[M]['params'] };
}[RequestMethod];

/** Editor commands the webview's toolbar and shortcuts trigger (same as the command-palette commands). */
export const EDITOR_COMMANDS = ['run', 'runWithSeed', 'runAndCompare', 'stop', 'validate', 'revealOutputs', 'openAsText', 'openInspector'] as const;
export type EditorCommand = (typeof EDITOR_COMMANDS)[number];

export interface CommandMessage {
  readonly type: 'command';
  readonly command: EditorCommand;
  /** For `run`: a seed override for this run only. */
  readonly seed?: number;
}

/** Open a file in VS Code (an output image, a model); relative paths resolve against the .dpipe's folder. */
export interface OpenFileMessage {
  readonly type: 'openFile';
  readonly path: string;
}

/** The webview drew preview `seq`; the host may send the next one. */
export interface PreviewAckMessage {
  readonly type: 'previewAck';
  readonly runId: string;
  readonly seq: number;
}

/** A line for the dpipe Output channel. */
export interface LogMessage {
  readonly type: 'log';
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
}

export type ToHost = ReadyMessage | ApplyOpsMessage | RequestMessage | CommandMessage | OpenFileMessage | PreviewAckMessage | LogMessage;

// ---------------------------------------------------------------------------------------------
// Validators

const vProblem: Validator<Problem> = object<Problem>({
  code: str as Validator<Problem['code']>,
  message: str,
  severity: literal('error', 'warning'),
  nodeId: optional(str),
  file: optional(str),
  pointer: optional(str),
  line: optional(int),
  column: optional(int),
  offset: optional(int),
  length: optional(int),
});
export const vProblems = array(vProblem);

/** Shallow check of the registry: the fields the palette relies on. */
const vNodeTypeInfo = object<Pick<NodeTypeInfo, 'type' | 'category' | 'title' | 'doc'> & { inputs: unknown[]; outputs: unknown[]; params: unknown[] }>({
  type: str,
  category: str as Validator<NodeTypeInfo['category']>,
  title: str,
  doc: str,
  inputs: array(json),
  outputs: array(json),
  params: array(json),
}) as unknown as Validator<NodeTypeInfo>;

const vSettings = object<EditorSettings>({ previewRate: num });
const vDoc: Validator<PipelineDoc | null> = (v, p) => (v === null || (typeof v === 'object' && !Array.isArray(v)) ? undefined : `${p}: expected the document object or null`);

const vRunOutput = object<RunOutput>({ nodeId: str, kind: literal('png', 'npy', 'json'), path: str, uri: str });

export const validateToWebview: Validator<ToWebview> = tagged<ToWebview>({
  init: object<InitMessage>({
    type: literal('init'),
    fileName: str,
    text: str,
    version: int,
    doc: vDoc,
    problems: vProblems,
    registry: array(vNodeTypeInfo),
    trusted: bool,
    untrustedReason: optional(str),
    settings: vSettings,
  }),
  documentChanged: object<DocumentChangedMessage>({ type: literal('documentChanged'), text: str, version: int, doc: vDoc, problems: vProblems }),
  problems: object<ProblemsMessage>({ type: literal('problems'), version: int, problems: vProblems }),
  trust: object<TrustMessage>({ type: literal('trust'), trusted: bool, untrustedReason: optional(str) }),
  settings: object<SettingsMessage>({ type: literal('settings'), settings: vSettings }),
  runState: object<RunStateMessage>({
    type: literal('runState'),
    phase: literal('idle', 'starting', 'running', 'stopping', 'done', 'failed', 'stopped'),
    runId: optional(str),
    nodeId: optional(str),
    nfeDone: optional(int),
    nfeTotal: optional(int),
    step: optional(int),
    sigma: optional(num),
    message: optional(str),
  }),
  preview: previewMessage,
  runFinished: object<RunFinishedMessage>({
    type: literal('runFinished'),
    runId: str,
    ok: bool,
    stopped: bool,
    outputs: array(vRunOutput),
    nfe: int,
    ms: num,
    outDir: optional(str),
    error: optional(errorInfo),
  }),
  response: responseMessage<ResponseMessage>(),
});

const requestParams: { [M in RequestMethod]: Validator<RequestMethods[M]['params']> } = {
  pickFile: object<RequestMethods['pickFile']['params']>({ extensions: array(str, 64), title: optional(str), folder: optional(bool) }),
  pickSeed: object<RequestMethods['pickSeed']['params']>({ current: optional(int) }),
  validate: record(json) as Validator<Record<string, never>>,
};

const vRequest = requestMessage<RequestMessage, RequestMethod>(requestParams);

const vOp: Validator<GraphOpWire> = (v, p) => {
  const r = parseGraphOp(v);
  return r.ok ? undefined : `${p}: ${r.reason}`;
};

export const validateToHost: Validator<ToHost> = tagged<ToHost>({
  ready: object<ReadyMessage>({ type: literal('ready') }),
  applyOps: object<ApplyOpsMessage>({ type: literal('applyOps'), ops: array(vOp, 10_000), label: optional(str), id: optional(str) }),
  request: vRequest,
  command: object<CommandMessage>({ type: literal('command'), command: literal(...EDITOR_COMMANDS), seed: optional(int) }),
  openFile: object<OpenFileMessage>({ type: literal('openFile'), path: str }),
  previewAck: object<PreviewAckMessage>({ type: literal('previewAck'), runId: str, seq: int }),
  log: logMessage,
});

/** Default request timeouts, ms: dialogs wait for the user, everything else should be quick. */
export const REQUEST_TIMEOUT_MS: { readonly [M in RequestMethod]: number } = {
  pickFile: 10 * 60_000,
  pickSeed: 10 * 60_000,
  validate: 30_000,
};
