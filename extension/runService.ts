/**
 * Runs pipelines from the editor: checks trust and problems, picks the output folder, hands the run to the runner
 * process, shows progress in a cancellable notification and on the graph, forwards previews (newest only) to the
 * editors of the document, and reports the result. One run at a time.
 */
import * as path from 'node:path';
import { readFileSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { RunFinished } from '../src/protocol';
import type { RunFinishedMessage, RunOutput, RunStateMessage } from '../src/protocol';
import type { PipelineDocuments } from './documents';
import type { PipelineEditorProvider } from './editorProvider';
import type { Logger } from './log';
import type { RunnerHost } from './runnerHost';
import { runnable } from './pipelineText';
import { previewIntervalMs, resolveOutputFolder, runFolderName, type DpipeSettings } from './settings';

/** Images up to this size go to the webview inline (data URI); the webview may load nothing from disk. */
const MAX_INLINE_IMAGE = 4 * 1024 * 1024;
/** Least time between progress updates of the graph, ms. */
const RUN_STATE_INTERVAL_MS = 100;

export interface RunServiceDeps {
  readonly log: Logger;
  readonly runner: RunnerHost;
  readonly documents: PipelineDocuments;
  readonly editors: () => PipelineEditorProvider;
  settings(): DpipeSettings;
  untrustedReason(): string | undefined;
}

export interface RunOptions {
  readonly seed?: number;
  /** Parameter overrides `NODE.PARAM=VALUE` for this run only. */
  readonly set?: readonly string[];
  /** Show the finished/stopped/failed notification (default true; "Run and compare" opens the comparison instead). */
  readonly announce?: boolean;
}

interface CurrentRun {
  readonly runId: string;
  readonly uri: vscode.Uri;
  readonly stop: () => void;
}

export class RunService implements vscode.Disposable {
  private current: CurrentRun | undefined;
  /** Last output folder per document (Reveal Outputs). */
  private readonly lastOutDir = new Map<string, string>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly deps: RunServiceDeps) {
    this.disposables.push(
      deps.runner.onDidExit((e) => {
        // During a run the run's own failure message says it; an idle crash gets its own warning.
        if (!e.expected && !this.current) void vscode.window.showWarningMessage(`dpipe: ${e.reason} The next run starts a new one.`);
      }),
    );
  }

  get running(): boolean {
    return this.current !== undefined;
  }

  outDirOf(uri: vscode.Uri): string | undefined {
    return this.lastOutDir.get(uri.toString());
  }

  /** Runs the document; resolves when the run has ended (whatever the outcome). */
  async run(document: vscode.TextDocument, opts: RunOptions = {}): Promise<RunFinished | undefined> {
    const name = path.basename(document.uri.path);
    const untrusted = this.deps.untrustedReason();
    if (untrusted) {
      const pick = await vscode.window.showWarningMessage(`dpipe: ${name} was not run. ${untrusted}`, 'Manage Workspace Trust');
      if (pick) void vscode.commands.executeCommand('workbench.trust.manage');
      return undefined;
    }
    if (this.current) {
      const pick = await vscode.window.showWarningMessage(
        `dpipe: a run of ${path.basename(this.current.uri.path)} is in progress; one run at a time.`,
        'Stop It',
      );
      if (pick) this.current.stop();
      return undefined;
    }
    if (document.uri.scheme !== 'file') {
      void vscode.window.showWarningMessage(`dpipe: save ${name} to a file first (paths in a pipeline are relative to its folder).`);
      return undefined;
    }
    const analysis = this.deps.documents.analyze(document, { force: true });
    if (!runnable(analysis)) {
      const errors = analysis.problems.filter((p) => p.severity === 'error');
      const first = errors[0];
      const pick = await vscode.window.showErrorMessage(
        `dpipe: ${name} has ${errors.length} problem${errors.length === 1 ? '' : 's'}; fix ${errors.length === 1 ? 'it' : 'them'} to run. ${first ? `First: ${first.message}` : ''}`,
        'Show Problems',
      );
      if (pick) void vscode.commands.executeCommand('workbench.actions.view.problems');
      return undefined;
    }

    const settings = this.deps.settings();
    const file = document.uri.fsPath;
    const wsFolder = vscode.workspace.getWorkspaceFolder(document.uri)?.uri.fsPath;
    const outDir = path.join(resolveOutputFolder(settings.outputFolder, file, wsFolder), runFolderName(new Date()));
    const runId = `run-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const sessions = () => this.deps.editors().sessionsFor(document.uri);
    const broadcastState = (m: Omit<RunStateMessage, 'type' | 'runId'>) => {
      const msg: RunStateMessage = { type: 'runState', runId, ...m };
      for (const s of sessions()) s.runState(msg);
    };
    this.deps.log.info(`run ${runId}: ${file} → ${outDir}${opts.seed !== undefined ? ` (seed ${opts.seed})` : ''}${opts.set?.length ? ` (set ${opts.set.join(' ')})` : ''}`);
    broadcastState({ phase: 'starting', message: 'Starting…' });

    const handle = this.deps.runner.run(
      {
        runId,
        text: document.getText(),
        file,
        outDir,
        seed: opts.seed,
        set: opts.set?.length ? [...opts.set] : undefined,
        threads: settings.threads,
        provider: settings.executionProvider,
        fallbackToCpu: settings.executionProviderFallback,
        releaseAfterSeconds: settings.releaseModelsAfterSeconds,
        previewIntervalMs: previewIntervalMs(settings.previewRate),
        trajectoryMemoryMB: settings.trajectoryMemoryMB,
      },
      {
        onStarted: (m) => {
          nfeTotal = m.nfeTotal;
          broadcastState({ phase: 'running', nfeDone: 0, nfeTotal: m.nfeTotal, message: 'Running' });
        },
        onProgress: (m) => {
          lastProgress = m;
          const now = Date.now();
          if (now - lastStateAt >= RUN_STATE_INTERVAL_MS || m.nfeDone === m.nfeTotal) {
            lastStateAt = now;
            broadcastState({ phase: stopping ? 'stopping' : 'running', nodeId: m.nodeId, nfeDone: m.nfeDone, nfeTotal: m.nfeTotal, step: m.step, sigma: m.sigma });
          }
          reportProgress?.();
        },
        onPreview: (m) => {
          for (const s of sessions()) s.preview({ ...m, type: 'preview' });
        },
      },
    );
    let nfeTotal = 0;
    let lastStateAt = 0;
    let stopping = false;
    let lastProgress: { nfeDone: number; nfeTotal: number; step: number; sigma: number } | undefined;
    let reportProgress: (() => void) | undefined;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      broadcastState({ phase: 'stopping', message: 'Stopping…' });
      handle.stop();
    };
    this.current = { runId, uri: document.uri, stop };
    void vscode.commands.executeCommand('setContext', 'dpipe.running', true);

    let result: RunFinished;
    try {
      result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `dpipe: running ${name}`, cancellable: true },
        async (progress, token) => {
          token.onCancellationRequested(stop);
          let reported = 0;
          reportProgress = () => {
            if (!lastProgress) return;
            const total = lastProgress.nfeTotal || nfeTotal;
            const pct = total > 0 ? (100 * lastProgress.nfeDone) / total : 0;
            progress.report({
              increment: Math.max(0, pct - reported),
              message: `${lastProgress.nfeDone}/${total || '?'} model evaluations · σ ${formatSigma(lastProgress.sigma)}`,
            });
            reported = Math.max(reported, pct);
          };
          return handle.done;
        },
      );
    } finally {
      this.current = undefined;
      void vscode.commands.executeCommand('setContext', 'dpipe.running', false);
    }

    if (result.outputs.length > 0 || result.ok) this.lastOutDir.set(document.uri.toString(), result.outDir);
    const finished: RunFinishedMessage = {
      type: 'runFinished',
      runId,
      ok: result.ok,
      stopped: result.stopped,
      outputs: result.outputs.map((o) => toRunOutput(o.nodeId, o.kind, o.path)),
      nfe: result.nfe,
      ms: result.ms,
      outDir: result.outDir,
      error: result.error,
    };
    broadcastState({
      phase: result.ok ? 'done' : result.stopped ? 'stopped' : 'failed',
      nfeDone: result.nfe,
      nfeTotal,
      message: result.ok ? `Done: ${result.nfe} model evaluations in ${formatMs(result.ms)}` : result.stopped ? 'Stopped' : result.error?.message,
    });
    for (const s of sessions()) s.runFinished(finished);
    this.deps.log.info(`run ${runId}: ${result.ok ? 'done' : result.stopped ? 'stopped' : `failed [${result.error?.code}] ${result.error?.message}`} (${result.nfe} NFE, ${formatMs(result.ms)})`);
    if (opts.announce !== false || (!result.ok && !result.stopped)) void this.announce(name, result);
    return result;
  }

  /** Stops the run (of `uri`, or whichever runs). Returns whether a run was stopped. */
  stop(uri?: vscode.Uri): boolean {
    if (!this.current || (uri && this.current.uri.toString() !== uri.toString())) return false;
    this.current.stop();
    return true;
  }

  private async announce(name: string, r: RunFinished): Promise<void> {
    if (r.ok) {
      const images = r.outputs.filter((o) => o.kind === 'png');
      const pick = await vscode.window.showInformationMessage(
        `dpipe: ${name} finished — ${r.nfe} model evaluations in ${formatMs(r.ms)}; ${r.outputs.length} file${r.outputs.length === 1 ? '' : 's'} in ${r.outDir}`,
        'Reveal Outputs',
        ...(images.length ? ['Open Image'] : []),
      );
      if (pick === 'Reveal Outputs') await revealFolder(r.outDir);
      if (pick === 'Open Image' && images[0]) await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(images[0].path));
    } else if (r.stopped) {
      void vscode.window.showInformationMessage(`dpipe: ${name} stopped after ${r.nfe} model evaluations.`);
    } else {
      const pick = await vscode.window.showErrorMessage(`dpipe: ${name} failed: ${r.error?.message ?? 'unknown error'}${r.error ? ` [${r.error.code}]` : ''}`, 'Show Log');
      if (pick) void vscode.commands.executeCommand('dpipe.showLog');
    }
  }

  dispose(): void {
    this.current?.stop();
    for (const d of this.disposables) d.dispose();
  }
}

/** An output as the webview sees it: images inline as data URIs (the webview loads nothing from disk). */
export function toRunOutput(nodeId: string, kind: RunOutput['kind'], file: string): RunOutput {
  let uri = vscode.Uri.file(file).toString();
  if (kind === 'png') {
    try {
      if (statSync(file).size <= MAX_INLINE_IMAGE) uri = `data:image/png;base64,${readFileSync(file).toString('base64')}`;
    } catch {
      // the file vanished; the webview shows the path
    }
  }
  return { nodeId, kind, path: file, uri };
}

/** Shows a folder: in the Explorer when it is inside the workspace, else in the OS file manager. */
export async function revealFolder(dir: string): Promise<void> {
  const uri = vscode.Uri.file(dir);
  if (vscode.workspace.getWorkspaceFolder(uri)) {
    await vscode.commands.executeCommand('revealInExplorer', uri);
  } else {
    await vscode.commands.executeCommand('revealFileInOS', uri);
  }
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

function formatSigma(s: number): string {
  return s === 0 ? '0' : s >= 100 || s < 0.01 ? s.toExponential(2) : s.toPrecision(3);
}
