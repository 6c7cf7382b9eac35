/**
 * The `.dpipe` graph editor: a CustomTextEditorProvider. The TextDocument is the single source of truth. The
 * webview draws the pipeline and asks for changes as graph ops; the host turns the ops into text edits (through
 * src/engine/graph) applied as ONE WorkspaceEdit, so undo/redo, dirty state, save, revert, hot exit and "Reopen
 * With… Text Editor" are VS Code's own. Every text change — ours, undo, a text editor on the same file — is pushed
 * to every webview showing the document.
 */
import * as path from 'node:path';
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { check, validateToHost, type ToHost, type ToWebview, type PreviewMessage, type RunFinishedMessage, type RunStateMessage } from '../src/protocol';
import type { Analysis, PipelineDocuments } from './documents';
import { applyGraphOps, registryJson } from './pipelineText';
import { editorShellHtml, fallbackHtml } from './webviewHtml';
import { logMessage, type Logger } from './log';
import { PreviewGate } from './previewGate';
import type { DpipeSettings } from './settings';

export const VIEW_TYPE = 'dpipe.pipelineEditor';

/** How long the app may take to post `ready` before the host shows the no-bundle fallback page. */
const READY_TIMEOUT_MS = 20_000;

export interface EditorHost {
  readonly log: Logger;
  readonly documents: PipelineDocuments;
  settings(): DpipeSettings;
  /** Why runs are disabled, or undefined when the workspace is trusted. */
  untrustedReason(): string | undefined;
  /** Executes an editor command (run, stop, …) for this document. */
  command(command: string, uri: vscode.Uri, args?: { seed?: number }): Thenable<unknown>;
  /** Asks the user for a seed; undefined when cancelled. */
  pickSeed(current?: number): Thenable<number | undefined>;
}

/** One webview showing one document. */
export class EditorSession implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly gate: PreviewGate<PreviewMessage>;
  private readyTimer: ReturnType<typeof setTimeout> | undefined;
  private isReady = false;
  private disposed = false;
  /** Last run messages, replayed when the webview reloads. */
  private lastRunState: RunStateMessage | undefined;
  private lastRunFinished: RunFinishedMessage | undefined;

  constructor(
    readonly document: vscode.TextDocument,
    readonly panel: vscode.WebviewPanel,
    private readonly host: EditorHost,
    private readonly extensionUri: vscode.Uri,
  ) {
    this.gate = new PreviewGate((p) => this.post(p));
    const webview = panel.webview;
    webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'node_modules', '@vscode', 'codicons', 'dist')],
    };
    this.disposables.push(webview.onDidReceiveMessage((raw) => this.receive(raw)));
    this.load();
  }

  get fileName(): string {
    return path.basename(this.document.uri.path);
  }

  /** Sets the page: the app when its bundle exists, else the fallback with "Open as text". */
  private load(): void {
    const webview = this.panel.webview;
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
    const script = vscode.Uri.joinPath(dist, 'editor.js');
    if (!existsSync(script.fsPath)) {
      this.showFallback('The graph editor is not built (dist/webview/editor.js is missing). Run `npm run build`, or open the file as text.');
      return;
    }
    const styles = [vscode.Uri.joinPath(dist, 'editor.css'), vscode.Uri.joinPath(this.extensionUri, 'node_modules', '@vscode', 'codicons', 'dist', 'codicon.css')]
      .filter((u) => existsSync(u.fsPath))
      .map((u) => webview.asWebviewUri(u).toString());
    this.isReady = false;
    webview.html = editorShellHtml({ cspSource: webview.cspSource, scriptUri: webview.asWebviewUri(script).toString(), styleUris: styles, title: this.fileName });
    this.armReadyTimer();
  }

  private armReadyTimer(): void {
    if (this.readyTimer) clearTimeout(this.readyTimer);
    this.readyTimer = setTimeout(() => {
      if (this.isReady || this.disposed) return;
      this.host.log.error(`editor ${this.fileName}: the webview did not report ready within ${READY_TIMEOUT_MS} ms`);
      this.showFallback('The graph editor did not start. The dpipe log (Output → dpipe) may say why; you can still edit the file as text.');
    }, READY_TIMEOUT_MS);
  }

  private showFallback(message: string): void {
    this.panel.webview.html = fallbackHtml({ cspSource: this.panel.webview.cspSource, title: this.fileName, message });
  }

  /** Posts a message to the webview (dropped while it is not ready; `init` resends state). */
  post(msg: ToWebview): void {
    if (this.disposed) return;
    if (!this.isReady && msg.type !== 'init') return;
    logMessage(this.host.log, `→ webview(${this.fileName})`, msg);
    void this.panel.webview.postMessage(msg).then(undefined, (e: Error) => this.host.log.warn(`postMessage failed: ${e.message}`));
  }

  /** The document's text changed or was re-validated. */
  documentChanged(a: Analysis): void {
    this.post({ type: 'documentChanged', text: a.text, version: a.version, doc: a.doc ?? null, problems: a.problems });
  }

  problems(a: Analysis): void {
    this.post({ type: 'problems', version: a.version, problems: a.problems });
  }

  trustChanged(): void {
    const reason = this.host.untrustedReason();
    this.post({ type: 'trust', trusted: reason === undefined, untrustedReason: reason });
  }

  settingsChanged(): void {
    this.post({ type: 'settings', settings: { previewRate: this.host.settings().previewRate } });
  }

  runState(m: RunStateMessage): void {
    if (m.phase === 'starting') {
      this.gate.reset();
      this.lastRunFinished = undefined;
    }
    this.lastRunState = m;
    this.post(m);
  }

  preview(p: PreviewMessage): void {
    if (this.isReady) this.gate.offer(p);
  }

  runFinished(m: RunFinishedMessage): void {
    this.gate.reset();
    this.lastRunFinished = m;
    this.post(m);
  }

  /** Previews dropped so far because this webview was behind (for the log and tests). */
  get droppedPreviews(): number {
    return this.gate.dropped;
  }

  private receive(raw: unknown): void {
    const r = check(validateToHost, raw, 'webview message');
    if (!r.ok) {
      this.host.log.error(`editor ${this.fileName}: dropped an invalid message: ${r.error}`);
      return;
    }
    const msg: ToHost = r.value;
    logMessage(this.host.log, `← webview(${this.fileName})`, msg);
    switch (msg.type) {
      case 'ready':
        return this.onReady();
      case 'applyOps':
        return void this.applyOps(msg.ops, msg.label).then(
          () => msg.id && this.post({ type: 'response', id: msg.id, ok: true }),
          (e: Error) => {
            this.host.log.warn(`editor ${this.fileName}: ops refused: ${e.message}`);
            if (msg.id) this.post({ type: 'response', id: msg.id, ok: false, error: e.message });
            else void vscode.window.showWarningMessage(`dpipe: ${e.message}`);
          },
        );
      case 'request':
        return void this.answer(msg);
      case 'command':
        return void Promise.resolve(this.host.command(msg.command, this.document.uri, { seed: msg.seed })).then(undefined, (e: Error) =>
          this.host.log.error(`command ${msg.command} failed: ${e.message}`),
        );
      case 'openFile':
        return void this.openFile(msg.path);
      case 'previewAck':
        return this.gate.ack(msg.runId, msg.seq);
      case 'log':
        return this.host.log[msg.level](`webview(${this.fileName}): ${msg.message}`);
    }
  }

  private onReady(): void {
    // Analyze first: a fresh analysis notifies sessions, and this one must get `init` before anything else.
    const a = this.host.documents.analyze(this.document);
    this.isReady = true;
    if (this.readyTimer) clearTimeout(this.readyTimer);
    this.gate.reset();
    const reason = this.host.untrustedReason();
    this.post({
      type: 'init',
      fileName: this.fileName,
      text: a.text,
      version: a.version,
      doc: a.doc ?? null,
      problems: a.problems,
      registry: registryJson(),
      trusted: reason === undefined,
      untrustedReason: reason,
      settings: { previewRate: this.host.settings().previewRate },
    });
    if (this.lastRunState) this.post(this.lastRunState);
    if (this.lastRunFinished) this.post(this.lastRunFinished);
  }

  /** Turns ops into text edits on the CURRENT text and applies them as one WorkspaceEdit. */
  private async applyOps(ops: readonly unknown[], label: string | undefined): Promise<void> {
    const text = this.document.getText();
    const edits = applyGraphOps(text, ops);
    if (edits.length === 0) return;
    const we = new vscode.WorkspaceEdit();
    for (const e of edits) {
      const range = new vscode.Range(this.document.positionAt(e.offset), this.document.positionAt(e.offset + e.length));
      we.replace(this.document.uri, range, e.content);
    }
    const ok = await vscode.workspace.applyEdit(we, { isRefactoring: false });
    if (!ok) throw new Error(`the edit${label ? ` "${label}"` : ''} could not be applied (is the file read-only?)`);
  }

  private async answer(msg: Extract<ToHost, { type: 'request' }>): Promise<void> {
    try {
      let result: unknown;
      switch (msg.method) {
        case 'pickFile': {
          const baseDir = path.dirname(this.document.uri.fsPath);
          const picked = await vscode.window.showOpenDialog({
            canSelectMany: false,
            canSelectFiles: msg.params.folder !== true,
            canSelectFolders: msg.params.folder === true,
            defaultUri: this.document.uri.scheme === 'file' ? vscode.Uri.file(baseDir) : undefined,
            title: msg.params.title,
            filters: msg.params.extensions.length && !msg.params.folder ? { [msg.params.extensions.join(', ')]: [...msg.params.extensions] } : undefined,
          });
          const file = picked?.[0];
          result = { path: file ? toPipelinePath(baseDir, file.fsPath) : null };
          break;
        }
        case 'pickSeed':
          result = { seed: (await this.host.pickSeed(msg.params.current)) ?? null };
          break;
        case 'validate': {
          const a = this.host.documents.analyze(this.document, { force: true });
          result = { problems: a.problems };
          break;
        }
      }
      this.post({ type: 'response', id: msg.id, ok: true, result });
    } catch (e) {
      this.post({ type: 'response', id: msg.id, ok: false, error: (e as Error).message });
    }
  }

  private async openFile(p: string): Promise<void> {
    const abs = path.resolve(path.dirname(this.document.uri.fsPath), p);
    const uri = vscode.Uri.file(abs);
    try {
      await vscode.commands.executeCommand('vscode.open', uri, { preview: true, viewColumn: vscode.ViewColumn.Beside });
    } catch (e) {
      void vscode.window.showErrorMessage(`dpipe: cannot open ${abs}: ${(e as Error).message}`);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.readyTimer) clearTimeout(this.readyTimer);
    this.gate.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

/** A path as a .dpipe stores it: relative to the file's folder with `/` separators, or absolute elsewhere. */
export function toPipelinePath(baseDir: string, file: string): string {
  const rel = path.relative(baseDir, file);
  if (rel === '' || path.isAbsolute(rel) || /^[a-zA-Z]:/.test(rel)) return file.split(path.sep).join('/');
  return rel.split(path.sep).join('/');
}

/**
 * Registers the custom editor and keeps track of its sessions: which webviews show which document, and which
 * one is active (the target of command-palette commands).
 */
export class PipelineEditorProvider implements vscode.CustomTextEditorProvider, vscode.Disposable {
  private readonly sessions = new Map<string, Set<EditorSession>>();
  private active: EditorSession | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  static register(context: vscode.ExtensionContext, host: EditorHost): PipelineEditorProvider {
    const provider = new PipelineEditorProvider(context.extensionUri, host);
    context.subscriptions.push(
      provider,
      vscode.window.registerCustomEditorProvider(VIEW_TYPE, provider, {
        // Keeps the graph's viewport, selection and run pictures when the tab is in the background.
        webviewOptions: { retainContextWhenHidden: true },
        supportsMultipleEditorsPerDocument: true,
      }),
    );
    return provider;
  }

  private constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly host: EditorHost,
  ) {
    this.disposables.push(
      host.documents.onDidAnalyze(({ document, analysis, textChanged }) => {
        for (const s of this.sessionsFor(document.uri)) {
          if (textChanged) s.documentChanged(analysis);
          else s.problems(analysis);
        }
      }),
    );
  }

  resolveCustomTextEditor(document: vscode.TextDocument, panel: vscode.WebviewPanel): void {
    const session = new EditorSession(document, panel, this.host, this.extensionUri);
    const key = document.uri.toString();
    let set = this.sessions.get(key);
    if (!set) this.sessions.set(key, (set = new Set()));
    set.add(session);
    if (panel.active) this.active = session;
    this.host.log.info(`editor: opened ${document.uri.fsPath || document.uri.toString()}`);
    const viewState = panel.onDidChangeViewState(() => {
      if (panel.active) this.active = session;
      void vscode.commands.executeCommand('setContext', 'dpipe.editorActive', this.active !== undefined && this.active.panel.active);
    });
    panel.onDidDispose(() => {
      viewState.dispose();
      session.dispose();
      set!.delete(session);
      if (set!.size === 0) this.sessions.delete(key);
      if (this.active === session) this.active = undefined;
    });
  }

  /** Every webview showing `uri`. */
  sessionsFor(uri: vscode.Uri): EditorSession[] {
    return [...(this.sessions.get(uri.toString()) ?? [])];
  }

  get allSessions(): EditorSession[] {
    return [...this.sessions.values()].flatMap((s) => [...s]);
  }

  /** The graph editor the user is looking at, if any. */
  get activeSession(): EditorSession | undefined {
    return this.active?.panel.active ? this.active : undefined;
  }

  dispose(): void {
    for (const s of this.allSessions) s.dispose();
    this.sessions.clear();
    for (const d of this.disposables) d.dispose();
  }
}
