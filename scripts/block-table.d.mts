// Types of scripts/block-table.mjs, for the test that imports it (test/format/rules-blocktable.test.ts).
import type { NodeTypeInfo } from '../src/engine/registry/types';

export interface GoldenPipeline {
  readonly file: string;
  readonly run: string;
  readonly expectError?: string;
  readonly blocks: readonly { readonly type: string; readonly preset?: string }[];
}
export const ROOT: string;
export const OUT: string;
export const GOLDEN_PIPELINES: string;
export function goldenPipelines(root?: string): GoldenPipeline[];
export function shortPaper(paper: string | undefined): string;
export function runsByBlock(pipelines: readonly GoldenPipeline[]): Map<string, Map<string, { preset?: string; expectError?: string }>>;
export function blockTable(infos?: readonly NodeTypeInfo[], pipelines?: readonly GoldenPipeline[]): string;
