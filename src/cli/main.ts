/**
 * `dpipe`, the command line (bundled to dist/cli.js, the package's `bin`). Dispatches to the command table;
 * runs the cancellable commands (those that evaluate models) in a worker thread, so that Ctrl-C is heard even
 * while onnxruntime holds a thread: the first Ctrl-C aborts the command's AbortSignal (it stops before its next
 * model evaluation and saves), a second one quits at once; prints user errors (DpipeError) as one message without
 * a stack, internal errors with one.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
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

/** What the main thread hands a command that runs in a worker, and the messages between them. */
interface WorkerJob {
  readonly dpipeCli: 1;
  readonly argv: readonly string[];
  readonly isTTY: boolean;
  readonly columns: number;
  readonly cwd: string;
}
type FromWorker = { readonly type: 'out'; readonly text: string } | { readonly type: 'err'; readonly text: string } | { readonly type: 'exit'; readonly code: number };

/**
 * The command itself, in a worker thread. Model evaluations (onnxruntime) block the thread they run on; off the main
 * thread, Ctrl-C is heard at once: the first asks the command to stop (it does before its next model evaluation and
 * saves), the second ends the process on the spot.
 */
function runInWorker(job: WorkerJob): void {
  const port = parentPort!;
  const ctl = new AbortController();
  port.on('message', (m: unknown) => {
    if ((m as { type?: unknown })?.type === 'stop') ctl.abort();
  });
  const post = (m: FromWorker) => port.postMessage(m);
  const io: CliIO = {
    out: (text) => post({ type: 'out', text }),
    err: (text) => post({ type: 'err', text }),
    isTTY: job.isTTY,
    columns: job.columns,
    cwd: job.cwd,
    signal: ctl.signal,
  };
  main(job.argv, io).then(
    (code) => post({ type: 'exit', code }),
    (e) => post({ type: 'exit', code: reportError(e, io) }),
  );
}

/** Ends the process as Ctrl-C does by default (killed by SIGINT: the shell reports 130), without waiting for anything. */
function quitNow(): void {
  process.removeAllListeners('SIGINT');
  process.kill(process.pid, 'SIGINT');
}

if (!isMainThread && (workerData as WorkerJob | undefined)?.dpipeCli === 1) {
  runInWorker(workerData as WorkerJob);
} else if (require.main === module) {
  const argv = process.argv.slice(2);
  const cancellable = COMMANDS.find((c) => c.name === argv[0])?.cancellable === true && !argv.includes('--help') && !argv.includes('-h');
  const isTTY = process.stderr.isTTY === true;
  const columns = process.stderr.columns ?? 80;
  if (cancellable) {
    // The command runs in a worker; this thread only relays its output and Ctrl-C.
    const job: WorkerJob = { dpipeCli: 1, argv, isTTY, columns, cwd: process.cwd() };
    const worker = new Worker(__filename, { workerData: job });
    let interrupts = 0;
    process.on('SIGINT', () => {
      interrupts++;
      if (interrupts === 1) {
        process.stderr.write('\ndpipe: stopping after the current model evaluation and saving (Ctrl-C again to quit now)\n');
        worker.postMessage({ type: 'stop' });
      } else {
        process.stderr.write('dpipe: quit; files already written are kept\n');
        quitNow();
      }
    });
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'out') process.stdout.write(m.text);
      else if (m.type === 'err') process.stderr.write(m.text);
      else {
        process.exitCode = m.code;
        void worker.terminate();
      }
    });
    worker.on('error', (e) => {
      process.exitCode = reportError(e, { err: (t) => void process.stderr.write(t) });
    });
  } else {
    process.on('SIGINT', () => quitNow());
    const io: CliIO = {
      out: (t) => void process.stdout.write(t),
      err: (t) => void process.stderr.write(t),
      isTTY,
      columns,
      cwd: process.cwd(),
      signal: new AbortController().signal,
    };
    main(argv, io).then(
      (code) => {
        process.exitCode = code;
      },
      (e) => {
        process.exitCode = reportError(e, io);
      },
    );
  }
}
