/**
 * The command table of `dpipe`. A new command is one module exporting a `Command` (see `../command.ts`) and one
 * entry here; `dpipe --help` lists them in this order.
 */
import type { Command } from '../command';
import { blocksCommand } from './blocks';
import { demoCommand } from './demo';
import { evalCommand } from './eval';
import { exportCommand } from './export';
import { fitCommand } from './fit';
import { gridCommand } from './grid';
import { importCommand } from './import';
import { inspectCommand } from './inspect';
import { newCommand } from './new';
import { mergeCommand } from './merge';
import { referenceCommand } from './reference';
import { runCommand } from './run';
import { sweepCommand } from './sweep';
import { validateCommand } from './validate';

export const COMMANDS: readonly Command[] = [
  runCommand,
  newCommand,
  importCommand,
  exportCommand,
  validateCommand,
  inspectCommand,
  blocksCommand,
  demoCommand,
  evalCommand,
  fitCommand,
  referenceCommand,
  sweepCommand,
  gridCommand,
  mergeCommand,
];
