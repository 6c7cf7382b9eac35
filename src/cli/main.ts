/**
 * `dpipe`, the command line (bundled to dist/cli.js, the package's `bin`). Dispatches to the command table;
 * turns Ctrl-C into an AbortSignal (the run stops between model evaluations and saves; a second Ctrl-C quits
 * at once); prints user errors (DpipeError) as one message without a stack, internal errors with one.
 */
import { version } from '../../package.json';
import { DpipeError, formatProblem } from '../engine/core/errors';
import { closestNames } from '../engine/format/registry';
import { ioReason, isIoError } from '../engine/run/files';
import { EXIT, type CliIO, type Command } from './command';
import { COMMANDS } from './commands/index';

function helpText(commands: readonly Command[]): string {
  const w = Math.max(...commands.map((c) => c.name.length));
  return [
    `dpipe ${version} — diffusion sampler pipelines, headless`,
    '',
    'Usage: dpipe COMMAND [options]   (dpipe COMMAND --help for its options)',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    '',
    'Exit status: 0 ok, 1 error in the input (pipeline, model, files), 2 bad command line, 130 stopped by Ctrl-C,',
    '70 internal error.',
  ].join('\n');
}

/** Prints an error the way users see it; returns the exit code. */
export function reportError(e: unknown, io: Pick<CliIO, 'err'>): number {
  if (e instanceof DpipeError) {
    for (const p of e.problems) io.err(formatProblem(p) + '\n');
    if (e.code === 'E_USAGE') {
      io.err(`${e.message}\n`);
      return EXIT.USAGE;
    }
    if (e.code === 'E_ABORTED') {
      io.err(`dpipe: ${e.message}\n`);
      return EXIT.INTERRUPTED;
    }
    // A problem already printed with its place is not repeated.
    if (!e.problems.some((p) => p.message === e.message)) io.err(`dpipe: error[${e.code}]: ${e.message}\n`);
    return EXIT.ERROR;
  }
  if (isIoError(e)) {
    // A file the system would not read or write (full disk, permissions): the environment, not a bug.
    const code = /write|rename|mkdir|open|unlink|copy|sync/.test(e.syscall ?? '') ? 'E_WRITE' : 'E_FILE_MISSING';
    io.err(`dpipe: error[${code}]: ${e.path ?? 'a file'}: ${ioReason(e)} (${e.syscall})\n`);
    return EXIT.ERROR;
  }
  const err = e as Error;
  io.err(`dpipe: internal error (please report it): ${err?.stack ?? String(e)}\n`);
  return EXIT.INTERNAL;
}

/** Runs `dpipe ARGS…` and resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIO, commands: readonly Command[] = COMMANDS): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const target = name === 'help' ? commands.find((c) => c.name === rest[0]) : undefined;
    (name === undefined ? io.err : io.out)((target ? target.usage : helpText(commands)) + '\n');
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (name === '--version' || name === '-v') {
    io.out(`${version}\n`);
    return EXIT.OK;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    const near = closestNames(name, commands.map((c) => c.name));
    io.err(`dpipe: unknown command "${name}"${near.length ? `; did you mean ${near.join(', ')}?` : ''}\n\n${helpText(commands)}\n`);
    return EXIT.USAGE;
  }
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    return reportError(e, io);
  }
}

if (require.main === module) {
  const ctl = new AbortController();
  let interrupts = 0;
  const cancellable = COMMANDS.find((c) => c.name === process.argv[2])?.cancellable === true;
  process.on('SIGINT', () => {
    interrupts++;
    if (interrupts === 1 && cancellable) {
      process.stderr.write('\ndpipe: stopping after the current model evaluation and saving (Ctrl-C again to quit now)\n');
      ctl.abort();
    } else process.exit(EXIT.INTERRUPTED);
  });
  const io: CliIO = {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    isTTY: process.stderr.isTTY === true,
    columns: process.stderr.columns ?? 80,
    cwd: process.cwd(),
    signal: ctl.signal,
  };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.exitCode = reportError(e, io);
    },
  );
}
