// Types of scripts/block-table.mjs, for the test that imports it (test/format/rules-blocktable.test.ts).
import type { NodeTypeInfo } from '../src/engine/registry/types';

export interface FixtureRuns {
  readonly deterministic: string[];
  readonly stochastic: string[];
}
export const ROOT: string;
export const OUT: string;
export const NAN_RUNS: Readonly<Record<string, string>>;
export function fixtureRuns(root?: string): FixtureRuns;
export function blocksOfRun(run: string, opts?: { deterministic?: boolean }): { solvers: string[]; schedules: string[] };
export function shortPaper(paper: string | undefined): string;
export function runsByBlock(runs: FixtureRuns): Map<string, Set<string>>;
export function blockTable(infos?: readonly NodeTypeInfo[], runs?: FixtureRuns): string;
