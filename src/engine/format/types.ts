/**
 * The `.dpipe` document as the engine sees it after loading: plain JSON, exactly what the file says (params that
 * the file omits are NOT filled in here — `paramsWithDefaults` does that — so load → save → load is the identity).
 * See `README.md` in this folder for the format itself.
 */
import type { Problem } from '../core/errors';
import type { NodeTypeInfo, ParamValue } from '../registry/types';

/** The format version this build writes; files with a smaller `dpipe` are migrated on load. */
export const FORMAT_VERSION = 1;

/** Node ids: letters, digits, `_` and `-`, not starting with a digit or `-`, so `node.port` is unambiguous. */
export const NODE_ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]*$/;
/** Longest node id (ids name output files, e.g. `final-ID.npy`, so they stay well within file-name limits). */
export const MAX_NODE_ID_LENGTH = 64;
/** Port names (declared by the registry): identifiers. */
export const PORT_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** An edge endpoint, `nodeId.portName`. */
export const ENDPOINT_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]*\.[A-Za-z_][A-Za-z0-9_]*$/;

export interface NodePosition {
  readonly x: number;
  readonly y: number;
}

export interface PipelineNode {
  readonly id: string;
  /** Registry id of the block, e.g. `schedule.karras`. */
  readonly type: string;
  /** Params as written in the file; missing ones take the registry default. */
  readonly params: Readonly<Record<string, ParamValue>>;
  /** Canvas position; absent means "lay me out". */
  readonly position?: NodePosition;
}

export interface PipelineEdge {
  /** Output endpoint `nodeId.port`. */
  readonly from: string;
  /** Input endpoint `nodeId.port`. */
  readonly to: string;
}

export interface PipelineMetadata {
  readonly title?: string;
  readonly description?: string;
  /** Any further keys are kept as written (strings, numbers, booleans, or JSON). */
  readonly [key: string]: unknown;
}

export interface PipelineDoc {
  /** Format version; always `FORMAT_VERSION` after loading (older files are migrated). */
  readonly dpipe: number;
  /** Optional `$schema` key, kept so VS Code users may point at the schema explicitly. */
  readonly $schema?: string;
  readonly metadata: PipelineMetadata;
  readonly nodes: readonly PipelineNode[];
  readonly edges: readonly PipelineEdge[];
}

/** A parsed edge endpoint. */
export interface Endpoint {
  readonly node: string;
  readonly port: string;
}

/**
 * The block registry as the format needs it: metadata only (no `evaluate`), so the webview can pass the JSON it
 * received from the host. Either the engine's map (`nodeTypes()`) or a plain list (`registryInfo()`).
 */
export type RegistryLike = ReadonlyMap<string, NodeTypeInfo> | readonly NodeTypeInfo[];

export interface LoadResult {
  /**
   * The document, present when the text is JSON of the right shape and version — even if it has semantic
   * problems (unknown types, cycles, …), so an editor can still draw it. Run it only when `hasErrors(problems)`
   * is false.
   */
  readonly doc?: PipelineDoc;
  /** Every problem found, errors and warnings, in document order. */
  readonly problems: Problem[];
  /** The version the file was written in, when it was older than `FORMAT_VERSION` and got migrated. */
  readonly migratedFrom?: number;
}
