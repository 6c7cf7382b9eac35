/**
 * The host's side of the runner process: forks `dist/runner.js` on demand, keeps it (and its warm model sessions)
 * between runs, runs one pipeline at a time, validates every message it receives, and turns an unexpected exit
 * into a clear failure of the active run ("the runner process was killed by SIGKILL; …"). The next run after a
 * death forks a new runner. No vscode import: the mocha tests drive it directly.
 */
import { fork, type ChildProcess } from 'node:child_process';
import {
  check,
  validateFromRunner,
  type FromRunner,
  type RunFinished,
  type RunPreview,
  type RunProgress,
  type RunRequest,
  type RunStarted,
  type ToRunner,
} from '../src/protocol';
import { logMessage, type Logger } from './log';

export interface RunnerHostOptions {
  /** Absolute path of the bundled runner (`dist/runner.js`). */
  readonly runnerPath: string;
  readonly log: Logger;
  /** Extra environment for the runner. */
  readonly env?: NodeJS.ProcessEnv;
  /** How long to wait for the runner's `ready`, ms. Default 20 000. */
  readonly startTimeoutMs?: number;
  /**
   * After Stop, how long the current model evaluation may take before the runner is killed (and restarted on
   * the next run), ms. Default 30 000.
   */
  readonly stopTimeoutMs?: number;
}

export interface RunEvents {
  onStarted?(m: RunStarted): void;
  onProgress?(m: RunProgress): void;
  /** Called for each preview; the host acknowledges it to the runner after this returns. */
  onPreview?(m: RunPreview): void;
}

export interface RunHandle {
  readonly runId: string;
  /** Settles exactly once, with the runner's `runFinished` or a synthesized failure if the runner died. */
  readonly done: Promise<RunFinished>;
  /** Asks the runner to stop at the next model evaluation. */
  stop(): void;
}

export interface RunnerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Whether the host asked for it (dispose/kill). */
  readonly expected: boolean;
  /** One sentence for the user. */
  readonly reason: string;
}

interface ActiveRun {
  readonly req: RunRequest;
  readonly events: RunEvents;
  readonly resolve: (f: RunFinished) => void;
  readonly t0: number;
  nfeDone: number;
  stopRequested: boolean;
  stopTimer?: ReturnType<typeof setTimeout>;
}

export class RunnerHost {
  private child: ChildProcess | undefined;
  private ready: Promise<void> | undefined;
  private active: ActiveRun | undefined;
  private stderrTail = '';
  private expectExit = false;
  private disposed = false;
  private readonly exitListeners = new Set<(e: RunnerExit) => void>();
  private readonly startTimeoutMs: number;
  private readonly stopTimeoutMs: number;

  constructor(private readonly opts: RunnerHostOptions) {
    this.startTimeoutMs = opts.startTimeoutMs ?? 20_000;
    this.stopTimeoutMs = opts.stopTimeoutMs ?? 30_000;
  }

  get busy(): boolean {
    return this.active !== undefined;
  }

  /** Process id of the current runner, if one is running. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get activeRunId(): string | undefined {
    return this.active?.req.runId;
  }

  onDidExit(listener: (e: RunnerExit) => void): { dispose(): void } {
    this.exitListeners.add(listener);
    return { dispose: () => this.exitListeners.delete(listener) };
  }

  /** Forks the runner if none is alive and waits for its `ready`. */
  start(): Promise<void> {
    if (this.disposed) return Promise.reject(new Error('the runner host is disposed'));
    if (this.child && this.ready) return this.ready;
    this.stderrTail = '';
    this.expectExit = false;
    const child = fork(this.opts.runnerPath, [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Inside VS Code process.execPath is Electron; this makes it run as plain Node.
      env: { ...process.env, ...this.opts.env, ELECTRON_RUN_AS_NODE: '1' },
      serialization: 'json',
      // Not the host's flags (an inspector port, loaders): the runner is a plain Node process.
      execArgv: [],
    });
    this.child = child;
    this.opts.log.info(`runner: forked ${this.opts.runnerPath} (pid ${child.pid})`);
    child.stdout?.on('data', (d: Buffer) => this.opts.log.debug(`runner stdout: ${d.toString().trimEnd()}`));
    child.stderr?.on('data', (d: Buffer) => {
      const s = d.toString();
      this.stderrTail = (this.stderrTail + s).slice(-4000);
      this.opts.log.warn(`runner stderr: ${s.trimEnd()}`);
    });
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`the runner process did not start within ${this.startTimeoutMs} ms`));
        this.kill();
      }, this.startTimeoutMs);
      const onMsg = (raw: unknown) => {
        if ((raw as { type?: unknown })?.type === 'ready') {
          clearTimeout(timer);
          child.off('message', onMsg);
          resolve();
        }
      };
      child.on('message', onMsg);
      child.once('exit', () => {
        clearTimeout(timer);
        reject(new Error(`the runner process exited while starting${this.stderrTail ? `: ${lastLine(this.stderrTail)}` : ''}`));
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    // A rejected start must not become an unhandled rejection when nobody awaits it.
    this.ready.catch(() => {});
    child.on('message', (raw) => this.onMessage(child, raw));
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
    child.on('error', (e) => this.opts.log.error(`runner: ${e.message}`));
    return this.ready;
  }

  /**
   * Starts a run. Throws when a run is already active (one at a time). The returned handle's `done` settles
   * exactly once, also when the runner cannot start or dies.
   */
  run(request: Omit<RunRequest, 'type'>, events: RunEvents = {}): RunHandle {
    if (this.active) throw new Error(`a run (${this.active.req.runId}) is already in progress`);
    const req: RunRequest = { type: 'run', ...request };
    let resolveDone!: (f: RunFinished) => void;
    const done = new Promise<RunFinished>((r) => (resolveDone = r));
    const run: ActiveRun = { req, events, resolve: resolveDone, t0: Date.now(), nfeDone: 0, stopRequested: false };
    this.active = run;
    this.start().then(
      () => {
        if (this.active !== run) return;
        if (run.stopRequested) return this.finish(run, this.synthetic(run, { stopped: true }));
        this.send({ ...req });
      },
      (e: Error) => {
        if (this.active === run) this.finish(run, this.synthetic(run, { code: 'E_RUNNER', message: e.message }));
      },
    );
    return {
      runId: req.runId,
      done,
      stop: () => this.stop(req.runId),
    };
  }

  /** Asks the runner to stop run `runId`; kills the runner if the current evaluation does not return in time. */
  stop(runId: string): void {
    const run = this.active;
    if (!run || run.req.runId !== runId || run.stopRequested) return;
    run.stopRequested = true;
    if (!this.child || !this.ready) return;
    this.send({ type: 'stop', runId });
    run.stopTimer = setTimeout(() => {
      if (this.active !== run) return;
      this.opts.log.warn(`runner: run ${runId} did not stop within ${this.stopTimeoutMs} ms; killing the runner`);
      this.kill();
    }, this.stopTimeoutMs);
  }

  /** Health check: resolves with whether a run is active, or rejects after `timeoutMs`. */
  async ping(timeoutMs = 5000): Promise<{ busy: boolean }> {
    await this.start();
    const child = this.child!;
    const id = `p${Date.now()}${Math.floor(performance.now())}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.off('message', onMsg);
        reject(new Error(`the runner did not answer a ping within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMsg = (raw: unknown) => {
        const m = raw as { type?: unknown; id?: unknown; busy?: unknown };
        if (m?.type === 'pong' && m.id === id) {
          clearTimeout(timer);
          child.off('message', onMsg);
          resolve({ busy: m.busy === true });
        }
      };
      child.on('message', onMsg);
      this.send({ type: 'ping', id });
    });
  }

  /** Kills the runner now (the active run fails with "stopped"/"killed"); the next run forks a new one. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.child) return;
    this.expectExit = true;
    this.child.kill(signal);
  }

  /** Asks the runner to exit, kills it if it has not within 2 s, and fails any active run. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const child = this.child;
    if (!child) return;
    this.expectExit = true;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      this.send({ type: 'shutdown' });
    } catch {
      // channel already closed
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }

  private send(msg: ToRunner): void {
    const child = this.child;
    if (!child || !child.connected) throw new Error('the runner process is not running');
    logMessage(this.opts.log, '→ runner', msg);
    child.send(msg);
  }

  private onMessage(child: ChildProcess, raw: unknown): void {
    if (child !== this.child) return;
    const res = check(validateFromRunner, raw, 'runner message');
    if (!res.ok) {
      this.opts.log.error(`runner: dropped an invalid message: ${res.error}`);
      // A runner that speaks out of protocol is in an unknown state: its run ends now, with the reason, and the
      // next run starts a new runner (never a run left "running").
      const run = this.active;
      if (run) {
        this.finish(run, this.synthetic(run, { code: 'E_RUNNER', message: `The dpipe runner sent an invalid message (${res.error}); the run was ended and the next run starts a new runner.` }));
        this.kill();
      }
      return;
    }
    const msg: FromRunner = res.value;
    logMessage(this.opts.log, '← runner', msg);
    if (msg.type === 'log') {
      this.opts.log[msg.level](`runner: ${msg.message}`);
      return;
    }
    if (msg.type === 'ready' || msg.type === 'pong') return;
    const run = this.active;
    if (!run || msg.runId !== run.req.runId) return; // a late message of a finished run
    switch (msg.type) {
      case 'runStarted':
        run.events.onStarted?.(msg);
        break;
      case 'progress':
        run.nfeDone = msg.nfeDone;
        run.events.onProgress?.(msg);
        break;
      case 'preview':
        try {
          run.events.onPreview?.(msg);
        } finally {
          if (child.connected) this.send({ type: 'previewAck', runId: msg.runId, seq: msg.seq });
        }
        break;
      case 'runFinished':
        this.finish(run, msg);
        break;
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    this.child = undefined;
    this.ready = undefined;
    const expected = this.expectExit;
    const tail = lastLine(this.stderrTail);
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    const reason = `The dpipe runner process ${how}${tail ? ` (${tail})` : ''}.`;
    this.opts.log[expected ? 'info' : 'error'](`runner: ${reason}`);
    const run = this.active;
    if (run) {
      const stopped = run.stopRequested;
      this.finish(
        run,
        this.synthetic(
          run,
          stopped
            ? { stopped: true }
            : { code: 'E_RUNNER', message: `${reason} The run was lost; the next run starts a new runner.` },
        ),
      );
    }
    for (const l of [...this.exitListeners]) l({ code, signal, expected, reason });
  }

  private finish(run: ActiveRun, f: RunFinished): void {
    if (this.active !== run) return;
    if (run.stopTimer) clearTimeout(run.stopTimer);
    this.active = undefined;
    run.resolve(f);
  }

  private synthetic(run: ActiveRun, r: { stopped: true } | { code: string; message: string }): RunFinished {
    return {
      type: 'runFinished',
      runId: run.req.runId,
      ok: false,
      stopped: 'stopped' in r,
      outputs: [],
      nfe: run.nfeDone,
      ms: Date.now() - run.t0,
      outDir: run.req.outDir,
      error: 'stopped' in r ? undefined : { code: r.code, message: r.message },
    };
  }
}

/** The most telling line of a dying process's stderr: its first error line, else its last line. */
function lastLine(s: string): string {
  const lines = s.split('\n').map((l) => l.trim()).filter(Boolean);
  const line = lines.find((l) => /^(\w*Error\b|FATAL|Fatal|terminate called|Segmentation)|\bError: /.test(l) && !l.startsWith('at ')) ?? lines[lines.length - 1] ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
