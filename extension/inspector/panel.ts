/**
 * The Latent Inspector in VS Code: one editor-area WebviewPanel per run (or per compared pair, or per sweep),
 * each backed by an {@link InspectorSession}, and the commands that open them:
 *
 * - `dpipe.openInspector` — a run folder or run.json (explorer menu, or picked), else the latest run of the
 *   active pipeline (this session's, else the newest `<timestamp>/run.json` in its output folder);
 * - `dpipe.compareRuns` — two runs side by side, aligned by σ;
 * - `dpipe.computeReference` — `dpipe reference RUN` in a child process (the model must not run on the extension
 *   host's thread), then the open panels of that run show the error plot;
 * - `dpipe.sweep` — `dpipe sweep` over chosen pipelines and step counts in a child process, drawn in a panel;
 * - a grid (`dpipe grid`; `dpipe.runGrid` in `grid/command.ts` makes one) — its image and sortable metrics in a
 *   panel, from which any cell opens in its own inspector panel and two cells open side by side.
 */
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { GRID_FILE, readGridFile } from '../../src/engine/grid/result';
import { TrajectoryReader } from '../../src/engine/inspect/reader';
import type { SweepResult } from '../../src/engine/inspect/sweep';
import { refuseUntrusted } from '../commands';
import type { Logger } from '../log';
import type { WorkspaceTrust } from '../trust';
import { resolveOutputFolder, type DpipeSettings } from '../settings';
import { cellFolders, gridFolderOf, gridViewOf } from './grid';
import { inspectorShellHtml } from './html';
import { InspectorSession } from './session';

export const INSPECTOR_COMMANDS = {
  openInspector: 'dpipe.openInspector',
  compareRuns: 'dpipe.compareRuns',
  computeReference: 'dpipe.computeReference',
  sweep: 'dpipe.sweep',
} as const;

const VIEW_TYPE = 'dpipe.inspector';

export interface InspectorDeps {
  readonly log: Logger;
  settings(): DpipeSettings;
  /** The last output folder of a pipeline run in this session (RunService.outDirOf). */
  lastRunOf?(uri: vscode.Uri): string | undefined;
  /** The .dpipe in front (graph editor or text editor), if any. */
  activePipeline?(): vscode.Uri | undefined;
  /** Compute Reference and Sweep run models: refused in an untrusted workspace, whoever calls them. */
  readonly trust: WorkspaceTrust;
}

interface OpenPanel {
  readonly panel: vscode.WebviewPanel;
  readonly session: InspectorSession;
  readonly key: string;
}

export class InspectorPanels implements vscode.Disposable {
  private readonly panels = new Map<string, OpenPanel>();

  private constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly deps: InspectorDeps,
  ) {}

  /** Registers the inspector's commands; the one call `extension.ts` makes. */
  static register(context: vscode.ExtensionContext, deps: InspectorDeps): InspectorPanels {
    const p = new InspectorPanels(context, deps);
    const reg = (id: string, fn: (...a: unknown[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, fn));
    reg(INSPECTOR_COMMANDS.openInspector, (arg) => p.openCommand(arg));
    reg(INSPECTOR_COMMANDS.compareRuns, (arg) => p.compareCommand(arg));
    reg(INSPECTOR_COMMANDS.computeReference, (arg) => p.referenceCommand(arg));
    reg(INSPECTOR_COMMANDS.sweep, (arg) => p.sweepCommand(arg));
    context.subscriptions.push(p);
    return p;
  }

  dispose(): void {
    for (const p of this.panels.values()) p.panel.dispose();
    this.panels.clear();
  }

  // -------------------------------------------------------------------------------------------
  // Commands

  private async openCommand(arg: unknown): Promise<void> {
    const run = await this.resolveRun(arg, 'dpipe: Open Latent Inspector');
    if (!run) return;
    const grid = gridFolderOf(run);
    if (grid) this.openGrid(grid);
    else this.open([run]);
  }

  /** `arg`: a run, or `[runA, runB, title?]` (Run and compare with… names the panel after what it compared). */
  private async compareCommand(arg: unknown): Promise<void> {
    const args = Array.isArray(arg) ? arg : [arg];
    const first = await this.resolveRun(args[0], 'dpipe: Compare Runs — first run (A)');
    if (!first) return;
    const second = await this.resolveRun(args[1], 'dpipe: Compare Runs — second run (B)', true);
    if (second) this.open([first, second], undefined, typeof args[2] === 'string' ? args[2] : undefined);
  }

  /** `arg`: a run, or the runs of a compare panel (one tolerance asked, each run solved against its own reference). */
  private async referenceCommand(arg: unknown): Promise<void> {
    if (refuseUntrusted(this.deps.trust, 'Compute Reference')) return;
    const runs: string[] = [];
    for (const a of Array.isArray(arg) ? arg : [arg]) {
      const run = await this.resolveRun(a, 'dpipe: Compute Reference');
      if (!run) return;
      runs.push(run);
    }
    const tol = await vscode.window.showInputBox({
      title: 'dpipe: Compute Reference',
      prompt: 'Tolerance of the adaptive Dormand–Prince 5(4) reference solve (rtol = atol)',
      value: '1e-5',
      validateInput: (v) => (Number(v) > 0 ? undefined : 'Enter a number > 0, e.g. 1e-5.'),
    });
    if (!tol) return;
    for (const run of runs) {
      const ok = await this.runCli(`Reference for ${path.basename(run)}`, ['reference', run, '--rtol', tol, '--atol', tol]);
      if (!ok) return;
      for (const p of this.panels.values()) if (p.session.readers.some((r) => r.location.runDir === run)) p.session.sendReferences();
    }
    if (![...this.panels.values()].some((p) => runs.every((run) => p.session.readers.some((r) => r.location.runDir === run)))) this.open(runs);
  }

  private async sweepCommand(arg: unknown): Promise<void> {
    if (refuseUntrusted(this.deps.trust, 'Sweep')) return;
    const active = arg instanceof vscode.Uri ? arg : this.deps.activePipeline?.();
    const picked = await vscode.window.showOpenDialog({
      title: 'dpipe: Sweep — pipelines to compare (one or more)',
      canSelectMany: true,
      defaultUri: active,
      filters: { 'dpipe pipeline': ['dpipe'] },
    });
    if (!picked?.length) return;
    const steps = await vscode.window.showInputBox({
      title: 'dpipe: Sweep',
      prompt: 'Step counts, comma-separated',
      value: '4,8,16,32,64',
      validateInput: (v) => (/^\s*\d+(\s*,\s*\d+)*\s*$/.test(v) ? undefined : 'Enter integers separated by commas, e.g. 4,8,16.'),
    });
    if (!steps) return;
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'dpipe-sweep-')), 'sweep.json');
    const ok = await this.runCli('Sweep', ['sweep', ...picked.map((u) => u.fsPath), '--steps', steps.replace(/\s+/g, ''), '--out', out]);
    if (!ok) return;
    const result = JSON.parse(readFileSync(out, 'utf8')) as SweepResult;
    const open = this.open([], `sweep:${out}`, 'Sweep: error vs NFE');
    open?.session.postSweep(result);
  }

  // -------------------------------------------------------------------------------------------

  /** Opens (or reveals) the grid view of a grid folder (`dpipe grid`'s --out). */
  openGrid(dir: string): OpenPanel | undefined {
    let view;
    let grid;
    try {
      grid = readGridFile(path.join(dir, GRID_FILE));
      view = gridViewOf(dir, grid);
    } catch (e) {
      void vscode.window.showErrorMessage(`dpipe: ${(e as Error).message}`);
      return undefined;
    }
    const g = grid;
    const entry = this.open([], `grid:${dir}`, view.title, (action, cells) => {
      try {
        const dirs = cellFolders(dir, g, cells);
        const names = cells.map((c) => `#${c} ${g.cells[c].label}`);
        if (action === 'open') this.open(dirs, dirs.join('|'), `Inspector: ${names[0]}`);
        else this.open(dirs, dirs.join('|'), `Compare ${names.join(' · ')}`);
      } catch (e) {
        void vscode.window.showErrorMessage(`dpipe: ${(e as Error).message}`);
      }
    });
    entry?.session.postGrid(view);
    return entry;
  }

  /** Opens (or reveals) the panel of these runs. */
  open(runs: readonly string[], key = runs.join('|'), title?: string, gridCells?: (action: 'open' | 'compare', cells: readonly number[]) => void): OpenPanel | undefined {
    const existing = this.panels.get(key);
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    let readers: TrajectoryReader[];
    try {
      readers = runs.map((r) => TrajectoryReader.open(r, { mayTouch: this.deps.trust.mayTouch }));
    } catch (e) {
      void vscode.window.showErrorMessage(`dpipe: ${(e as Error).message}`);
      return undefined;
    }
    const dist = vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview');
    const panel = vscode.window.createWebviewPanel(
      VIEW_TYPE,
      title ?? (readers.length === 2 ? `Compare ${readers[0].name} · ${readers[1].name}` : `Inspector: ${readers[0]?.name ?? ''}`),
      vscode.ViewColumn.Active,
      { enableScripts: true, localResourceRoots: [dist], retainContextWhenHidden: false },
    );
    const w = panel.webview;
    w.html = inspectorShellHtml({
      cspSource: w.cspSource,
      scriptUri: w.asWebviewUri(vscode.Uri.joinPath(dist, 'inspector.js')).toString(),
      styleUris: [w.asWebviewUri(vscode.Uri.joinPath(dist, 'inspector.css')).toString()],
      title: panel.title,
    });
    const log = this.deps.log;
    const session = new InspectorSession(readers, {
      post: (m) => void w.postMessage(m),
      log: (level, message) => log[level](message),
      save: async (name, bytes) => {
        const base = readers[0]?.location.runDir ?? readers[0]?.location.trajectoryDir;
        const target = await vscode.window.showSaveDialog({ title: 'dpipe: Export', defaultUri: base ? vscode.Uri.file(path.join(base, name)) : undefined });
        if (!target) return null;
        await vscode.workspace.fs.writeFile(target, bytes);
        return target.fsPath;
      },
      command: (command, rs, file) => {
        const run = rs[0]?.location.runDir ?? undefined;
        if (command === 'openFile' && file) void vscode.commands.executeCommand('vscode.open', vscode.Uri.file(file));
        else if (command === 'computeReference' && run) {
          const dirs = rs.flatMap((r) => (r.location.runDir ? [vscode.Uri.file(r.location.runDir)] : []));
          void vscode.commands.executeCommand(INSPECTOR_COMMANDS.computeReference, dirs.length > 1 ? dirs : dirs[0]);
        }
        else if (command === 'compareWith' && run) void vscode.commands.executeCommand(INSPECTOR_COMMANDS.compareRuns, [vscode.Uri.file(run)]);
        else if (command === 'sweep') void vscode.commands.executeCommand(INSPECTOR_COMMANDS.sweep);
      },
      gridCells,
    });
    const sub = w.onDidReceiveMessage((m) => void session.receive(m));
    const entry: OpenPanel = { panel, session, key };
    this.panels.set(key, entry);
    panel.onDidDispose(() => {
      sub.dispose();
      session.dispose();
      this.panels.delete(key);
    });
    log.info(`inspector: opened ${runs.join(', ') || title}`);
    return entry;
  }

  /** A run folder from the argument (Uri of a folder or run.json), else the active pipeline's latest run, else a dialog. */
  private async resolveRun(arg: unknown, title: string, alwaysAsk = false): Promise<string | undefined> {
    const uri = arg instanceof vscode.Uri ? arg : (arg as { uri?: unknown } | undefined)?.uri instanceof vscode.Uri ? (arg as { uri: vscode.Uri }).uri : undefined;
    if (uri && !uri.fsPath.endsWith('.dpipe')) return uri.fsPath;
    const pipeline = uri ?? this.deps.activePipeline?.();
    if (pipeline && !alwaysAsk) {
      const latest = this.deps.lastRunOf?.(pipeline) ?? latestRun(resolveOutputFolder(this.deps.settings().outputFolder, pipeline.fsPath, vscode.workspace.getWorkspaceFolder(pipeline)?.uri.fsPath));
      if (latest) return latest;
    }
    const picked = await vscode.window.showOpenDialog({
      title: `${title}: pick a run folder (with run.json and trajectory/) or its run.json`,
      canSelectFiles: true,
      canSelectFolders: true,
      canSelectMany: false,
      defaultUri: pipeline ? vscode.Uri.file(path.dirname(pipeline.fsPath)) : undefined,
    });
    return picked?.[0]?.fsPath;
  }

  /** Runs `dpipe ARGS` (the bundled CLI) in a child process with a cancellable progress notification. */
  runCli(what: string, args: string[]): Promise<boolean> {
    const cli = vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'cli.js').fsPath;
    const log = this.deps.log;
    log.info(`inspector: dpipe ${args.join(' ')}`);
    return new Promise((resolve) => {
      void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `dpipe: ${what}`, cancellable: true }, (progress, token) =>
        new Promise<void>((done) => {
          const child = fork(cli, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
          let err = '';
          child.stdout?.on('data', (d: Buffer) => log.info(d.toString().trimEnd()));
          child.stderr?.on('data', (d: Buffer) => {
            const t = d.toString();
            err += t;
            const last = t.trim().split('\n').pop();
            if (last) progress.report({ message: last.replace(/\r/g, '') });
          });
          token.onCancellationRequested(() => child.kill('SIGINT'));
          child.on('exit', (code) => {
            done();
            if (code === 0) resolve(true);
            else {
              if (!token.isCancellationRequested) void vscode.window.showErrorMessage(`dpipe: ${what} failed: ${err.trim().split('\n').pop() ?? `exit ${code}`}`);
              log.warn(`inspector: dpipe ${args[0]} exited with ${code}: ${err.trim()}`);
              resolve(false);
            }
          });
        }),
      );
    });
  }
}

/** The newest `<folder>/<run>/run.json` under an output folder. */
export function latestRun(outputFolder: string): string | undefined {
  if (!existsSync(outputFolder)) return undefined;
  let best: { dir: string; t: number } | undefined;
  for (const name of readdirSync(outputFolder)) {
    const rec = path.join(outputFolder, name, 'run.json');
    if (!existsSync(rec)) continue;
    const t = statSync(rec).mtimeMs;
    if (!best || t > best.t) best = { dir: path.join(outputFolder, name), t };
  }
  return best?.dir;
}
