/**
 * The catalog of user-facing errors. Every error a user can see has a stable code, so tests and docs can
 * name it. Add new codes here (never reuse one); messages say what is allowed or what to do instead.
 */
export const ERROR_CODES = {
  // .dpipe loading (format/)
  E_JSON: 'The file is not valid JSON.',
  E_FORMAT: 'The document does not follow the .dpipe format.',
  E_VERSION: 'The file was written by a newer dpipe.',
  E_NODE_TYPE: 'Unknown node type.',
  E_NODE_ID: 'Invalid or duplicate node id.',
  E_PARAM: 'Unknown parameter.',
  E_PARAM_VALUE: 'Parameter value not allowed.',
  E_EDGE: 'Edge refers to a node or port that does not exist.',
  E_PORT_TYPE: 'Edge connects ports of different types.',
  E_INPUT_MISSING: 'A required input is not connected.',
  E_INPUT_MULTI: 'An input has more than one edge.',
  E_CYCLE: 'The graph has a cycle.',
  E_FILE_MISSING: 'A referenced file does not exist.',
  E_COMPOSE: 'Blocks that cannot work together are connected.',
  W_UNUSED: "A block's outputs are not connected to anything (warning).",
  // running
  E_MODEL: 'The model cannot be loaded or run with these settings.',
  E_NPY: 'A .npy file cannot be read.',
  E_NOISE_EXHAUSTED: 'The noise file has fewer draws than the run needs.',
  E_SHAPE: 'Tensor shapes do not match.',
  E_NAN: 'The computation produced NaN or infinity.',
  E_ABORTED: 'The run was stopped.',
  E_USAGE: 'The command line is not valid.',
  E_SOLVER_BUDGET: 'An adaptive solver needed more model evaluations than its budget allows.',
  E_PROVIDER: 'The execution provider cannot be used on this machine.',
  E_MODEL_FOLDER: 'A model folder is incomplete or its parts do not fit together.',
  E_BUDGET: 'The run would need more memory than its budget allows.',
  E_WRITE: 'A file could not be written (disk full, no permission, or an existing file, link or input in the way).',
  W_UNCHECKED: 'A file outside the workspace was not checked, because the workspace is not trusted (warning).',
  // grids, shards and merging
  E_AXIS: 'A grid axis names a node, block type, parameter or value that the pipeline does not allow.',
  E_OUT_EXISTS: 'The output folder already holds results that a new run would overwrite.',
  E_MERGE: 'The shard records do not belong together or do not cover the whole run.',
  // import / export (interop/)
  E_IMPORT: "A setting of another tool (ComfyUI, A1111, diffusers) that dpipe does not reproduce, or a file it cannot read.",
  W_IMPORT: 'An imported setting that runs, but not bit for bit as in the other tool, or needs your attention (warning).',
  E_EXPORT: 'A block with no equivalent in the export target.',
  E_INTERNAL: 'An internal error.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Where in a file a problem is. Lines and columns are 1-based. */
export interface Location {
  readonly file?: string;
  /** RFC 6901 JSON pointer into the document, e.g. `/nodes/2/params/steps`. */
  readonly pointer?: string;
  readonly line?: number;
  readonly column?: number;
  /** Character offsets into the text, for editors (Problems panel ranges). */
  readonly offset?: number;
  readonly length?: number;
}

export interface Problem extends Location {
  readonly code: ErrorCode;
  readonly message: string;
  readonly severity: 'error' | 'warning';
  /** Node the problem concerns, for marking it in the graph. */
  readonly nodeId?: string;
}

/** An error a user caused and can fix; the CLI prints `message` with no stack trace. */
export class DpipeError extends Error {
  readonly code: ErrorCode;
  readonly problems: readonly Problem[];
  constructor(code: ErrorCode, message: string, problems: readonly Problem[] = []) {
    super(message);
    this.name = 'DpipeError';
    this.code = code;
    this.problems = problems;
  }
}

export function isAbort(e: unknown): boolean {
  return e instanceof DpipeError ? e.code === 'E_ABORTED' : (e as { name?: string })?.name === 'AbortError';
}

/** Formats a problem as `file:line:col: [CODE] message (at /pointer)`, the CLI's and tests' form. */
export function formatProblem(p: Problem): string {
  const where = p.file ? `${p.file}${p.line ? `:${p.line}:${p.column ?? 1}` : ''}: ` : '';
  const ptr = p.pointer !== undefined ? ` (at ${p.pointer || '/'})` : '';
  return `${where}${p.severity}[${p.code}]: ${p.message}${ptr}`;
}
