/**
 * The CLI's command contract. Each command is one module in `commands/` exporting a {@link Command}, listed in
 * `commands/index.ts`. A command reads its arguments with {@link commandArgs} (which answers `--help`), writes through {@link CliIO}
 * (never `console` or `process` directly, so tests can run it in-process), returns its exit code, and throws a
 * `DpipeError` for anything the user can fix (main prints it as one line, no stack).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DpipeError } from '../engine/core/errors';

export interface CliIO {
  /** Results (paths, tables, JSON). */
  readonly out: (text: string) => void;
  /** Progress and diagnostics. */
  readonly err: (text: string) => void;
  /** Whether stderr is a terminal (progress bar) and its width. */
  readonly isTTY: boolean;
  readonly columns: number;
  readonly cwd: string;
  /** Aborted on Ctrl-C. */
  readonly signal: AbortSignal;
}

export interface Command {
  readonly name: string;
  /** One line for `dpipe --help`. */
  readonly summary: string;
  /** Full usage text for `dpipe NAME --help` and usage errors. */
  readonly usage: string;
  /**
   * Whether the command stops cleanly on `io.signal` (Ctrl-C then aborts the signal and waits for the command to
   * save and return; a second Ctrl-C quits). Otherwise the first Ctrl-C quits at once.
   */
  readonly cancellable?: boolean;
  /** Runs the command; resolves to the process exit code. */
  run(args: readonly string[], io: CliIO): Promise<number>;
}

/** Exit codes of the `dpipe` command. */
export const EXIT = {
  OK: 0,
  /** A user error: bad pipeline, missing file, model that cannot run, failed validation. */
  ERROR: 1,
  /** A command-line usage error. */
  USAGE: 2,
  /** An internal error (a bug: the stack trace is printed). */
  INTERNAL: 70,
  /** Stopped with Ctrl-C (128 + SIGINT). */
  INTERRUPTED: 130,
} as const;

type Options = NonNullable<ParseArgsConfig['options']>;

/** `util.parseArgs` in strict mode; its errors become E_USAGE with the command's usage. */
export function parseCommandArgs<O extends Options>(cmd: Pick<Command, 'name' | 'usage'>, args: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new DpipeError('E_USAGE', `dpipe ${cmd.name}: ${(e as Error).message.replace(/\. To specify a positional.*$/s, '')}\n\n${cmd.usage}`);
  }
}

const HELP = { help: { type: 'boolean', short: 'h' } } as const;

/**
 * A command's arguments, as {@link parseCommandArgs} reads them, with `-h, --help` added to its options. When
 * help is asked for it prints the command's usage to `io.out` and returns undefined (the command then returns
 * `EXIT.OK`).
 */
export function commandArgs<O extends Options>(cmd: Pick<Command, 'name' | 'usage'>, args: readonly string[], io: Pick<CliIO, 'out'>, options: O) {
  const parsed = parseCommandArgs(cmd, args, { ...options, ...HELP });
  if ((parsed.values as { help?: boolean }).help) {
    io.out(cmd.usage + '\n');
    return undefined;
  }
  return parsed;
}

/** Short forms that mean the same wherever the long option is declared. */
const SHORT: Readonly<Record<string, string>> = { out: 'o', quiet: 'q' };

type ValueOptions<S extends string> = { [K in S]: { type: 'string'; short?: string } };
type FlagOptions<F extends string> = { [K in F]: { type: 'boolean'; short?: string } };

/**
 * A command's option declarations in short: the names in `values` take a value (`--steps 8`), the names in `flags`
 * are booleans (`--json`); `--out` and `--quiet` get their short forms `-o` and `-q`. Options that repeat are
 * declared in full beside it (`{ ...options([...]), set: { type: 'string', multiple: true } }`).
 */
export function options<const S extends string, const F extends string = never>(values: readonly S[], flags: readonly F[] = []): ValueOptions<S> & FlagOptions<F> {
  const declare = (name: string, type: 'string' | 'boolean') => [name, SHORT[name] ? { type, short: SHORT[name] } : { type }] as const;
  return Object.fromEntries([...values.map((n) => declare(n, 'string')), ...flags.map((n) => declare(n, 'boolean'))]) as ValueOptions<S> & FlagOptions<F>;
}

/** What a command defined with {@link defineCommand} receives: its parsed options and positionals. */
export type CommandArgs<O extends Options> = ReturnType<typeof parseCommandArgs<O & typeof HELP>>;

/**
 * A command from its declaration: `run` receives the parsed arguments (`--help` is answered before it is called,
 * usage errors are thrown with the command's usage) and `this` is the command, for {@link usageError}.
 */
export function defineCommand<O extends Options>(spec: {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly cancellable?: boolean;
  readonly options: O;
  run(this: Command, parsed: CommandArgs<O>, io: CliIO): Promise<number>;
}): Command {
  const command: Command = {
    name: spec.name,
    summary: spec.summary,
    usage: spec.usage,
    cancellable: spec.cancellable,
    async run(args, io) {
      const parsed = commandArgs(command, args, io, spec.options);
      return parsed ? spec.run.call(command, parsed, io) : EXIT.OK;
    },
  };
  return command;
}

/** An integer option, or undefined when absent. */
export function intOption(cmd: Pick<Command, 'name'>, flag: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\s*-?\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min) {
    throw new DpipeError('E_USAGE', `dpipe ${cmd.name}: ${flag} must be an integer ≥ ${min}; got "${v}"`);
  }
  return n;
}

export function usageError(cmd: Pick<Command, 'name' | 'usage'>, message: string): DpipeError {
  return new DpipeError('E_USAGE', `dpipe ${cmd.name}: ${message}\n\n${cmd.usage}`);
}
