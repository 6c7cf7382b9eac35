/**
 * Loads every open `.dpipe` document with the engine's loader (cached per document version), publishes its
 * problems to the Problems panel with ranges, and tells listeners (the graph editors) when the text or the
 * problems change. Text edits are coalesced for a few milliseconds so typing in a text editor does not re-load
 * on every keystroke.
 */
import * as vscode from 'vscode';
import type { Problem } from '../src/engine/core/errors';
import { analyzeText, type TextAnalysis } from './pipelineText';
import type { Logger } from './log';

export interface Analysis extends TextAnalysis {
  readonly version: number;
  readonly text: string;
}

export interface AnalyzeEvent {
  readonly document: vscode.TextDocument;
  readonly analysis: Analysis;
  /** False when only the problems were re-checked (same text). */
  readonly textChanged: boolean;
}

const DEBOUNCE_MS = 15;

export function isPipelineDocument(d: vscode.TextDocument): boolean {
  return d.uri.path.toLowerCase().endsWith('.dpipe');
}

export class PipelineDocuments implements vscode.Disposable {
  private readonly cache = new Map<string, Analysis>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly emitter = new vscode.EventEmitter<AnalyzeEvent>();
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('dpipe');
  private readonly disposables: vscode.Disposable[] = [];
  readonly onDidAnalyze = this.emitter.event;

  constructor(
    private readonly log: Logger,
    /** Whether a file a pipeline names may be looked at (restricted mode: only inside the workspace). */
    private readonly mayTouch: (abs: string) => boolean = () => true,
  ) {
    this.disposables.push(
      this.emitter,
      this.diagnostics,
      vscode.workspace.onDidOpenTextDocument((d) => isPipelineDocument(d) && this.analyze(d)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (!isPipelineDocument(e.document) || e.contentChanges.length === 0) return;
        this.schedule(e.document);
      }),
      vscode.workspace.onDidCloseTextDocument((d) => {
        const key = d.uri.toString();
        this.cache.delete(key);
        const t = this.timers.get(key);
        if (t) clearTimeout(t);
        this.timers.delete(key);
        this.diagnostics.delete(d.uri);
      }),
      // A model file appearing or disappearing changes E_FILE_MISSING problems.
      vscode.workspace.onDidCreateFiles(() => this.recheckAll()),
      vscode.workspace.onDidDeleteFiles(() => this.recheckAll()),
      vscode.workspace.onDidRenameFiles(() => this.recheckAll()),
    );
    for (const d of vscode.workspace.textDocuments) if (isPipelineDocument(d)) this.analyze(d);
  }

  /**
   * The analysis of the document's current text (cached per version). `force` re-checks even when the version is
   * unchanged (files on disk may have changed); listeners hear about it either way when something changed.
   */
  analyze(document: vscode.TextDocument, opts: { force?: boolean } = {}): Analysis {
    const key = document.uri.toString();
    const t = this.timers.get(key);
    if (t) {
      clearTimeout(t);
      this.timers.delete(key);
    }
    const prev = this.cache.get(key);
    if (prev && prev.version === document.version && !opts.force) return prev;
    const text = document.getText();
    const file = document.uri.scheme === 'file' || document.uri.scheme === 'untitled' ? document.uri.fsPath : document.uri.path;
    let result: TextAnalysis;
    try {
      result = analyzeText(text, file, this.mayTouch);
    } catch (e) {
      this.log.error(`loader failed on ${file}: ${(e as Error).stack ?? e}`);
      result = { doc: undefined, problems: [{ code: 'E_INTERNAL', severity: 'error', message: `The loader failed: ${(e as Error).message}` }] };
    }
    const analysis: Analysis = { ...result, version: document.version, text };
    this.cache.set(key, analysis);
    this.publish(document, analysis.problems);
    const textChanged = !prev || prev.text !== text;
    if (textChanged || !sameProblems(prev.problems, analysis.problems)) this.emitter.fire({ document, analysis, textChanged });
    return analysis;
  }

  private schedule(document: vscode.TextDocument): void {
    const key = document.uri.toString();
    const t = this.timers.get(key);
    if (t) clearTimeout(t);
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.analyze(document);
      }, DEBOUNCE_MS),
    );
  }

  /** Re-checks every open pipeline (files appeared, or trust was granted). */
  recheckAll(): void {
    for (const d of vscode.workspace.textDocuments) if (isPipelineDocument(d) && this.cache.has(d.uri.toString())) this.analyze(d, { force: true });
  }

  private publish(document: vscode.TextDocument, problems: readonly Problem[]): void {
    this.diagnostics.set(document.uri, problems.map((p) => toDiagnostic(document, p)));
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const d of this.disposables) d.dispose();
  }
}

/** A loader problem as a diagnostic: the exact range when the loader gave an offset, else the line. */
export function toDiagnostic(document: vscode.TextDocument, p: Problem): vscode.Diagnostic {
  let range: vscode.Range;
  if (p.offset !== undefined) {
    const start = document.positionAt(p.offset);
    range = new vscode.Range(start, document.positionAt(p.offset + Math.max(1, p.length ?? 1)));
  } else if (p.line !== undefined) {
    const line = Math.min(Math.max(0, p.line - 1), Math.max(0, document.lineCount - 1));
    const col = Math.max(0, (p.column ?? 1) - 1);
    range = new vscode.Range(line, col, line, document.lineAt(line).range.end.character);
  } else {
    range = new vscode.Range(0, 0, 0, document.lineCount ? document.lineAt(0).range.end.character : 0);
  }
  const d = new vscode.Diagnostic(range, p.message, p.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Error);
  d.code = p.code;
  d.source = 'dpipe';
  return d;
}

function sameProblems(a: readonly Problem[], b: readonly Problem[]): boolean {
  return a.length === b.length && a.every((p, i) => p.code === b[i].code && p.message === b[i].message && p.offset === b[i].offset && p.pointer === b[i].pointer);
}
