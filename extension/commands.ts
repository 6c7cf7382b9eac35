/**
 * The command-palette commands. Each resolves its target .dpipe the same way: the URI VS Code passes (editor
 * title buttons, explorer menus), else the graph editor in front, else the active text editor if it shows a
 * .dpipe.
 */
import * as path from 'node:path';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import * as vscode from 'vscode';
import { folderProblem, pipelineForFolder, suggestedName } from './newFromFolder';
import { nodeTypes } from '../src/engine/registry';
import { checkOverride, looksLikeOverride, paramChoices, runBothAndCompare, sharedSeed, valueText, type CompareSide } from './compare';
import { instantiateTemplate, listTemplates } from './templates';
import { pipelineFromImage } from './fromImage';
import { importableImage, importForHost, logLines, suggestedTarget, summary } from './import';
import { writeNewFile as writeNew } from '../src/engine/run/files';
import type { Logger } from './log';
import { VIEW_TYPE, type PipelineEditorProvider } from './editorProvider';
import type { PipelineDocuments } from './documents';
import type { RunService } from './runService';
import { revealFolder } from './runService';
import { resolveOutputFolder, type DpipeSettings } from './settings';
import type { WorkspaceTrust } from './trust';

export const COMMANDS = {
  newPipeline: 'dpipe.newPipeline',
  newFromModelFolder: 'dpipe.newFromModelFolder',
  run: 'dpipe.run',
  runWithSeed: 'dpipe.runWithSeed',
  runAndCompare: 'dpipe.runAndCompare',
  stop: 'dpipe.stop',
  validate: 'dpipe.validate',
  revealOutputs: 'dpipe.revealOutputs',
  openFromImage: 'dpipe.openFromImage',
  importPipeline: 'dpipe.importPipeline',
  openInspector: 'dpipe.openInspector',
  openAsText: 'dpipe.openAsText',
  openGraph: 'dpipe.openGraph',
  showLog: 'dpipe.showLog',
} as const;

export interface CommandDeps {
  readonly extensionUri: vscode.Uri;
  readonly editors: PipelineEditorProvider;
  readonly documents: PipelineDocuments;
  readonly runs: RunService;
  readonly showLog: () => void;
  readonly log?: Logger;
  settings(): DpipeSettings;
  readonly trust: WorkspaceTrust;
}

/**
 * Refuses a command that would load a model or write files in an untrusted workspace (the handler's own check: a
 * command's `enablement` does not stop `executeCommand`). True when refused.
 */
export function refuseUntrusted(trust: WorkspaceTrust, what: string): boolean {
  const reason = trust.untrustedReason();
  if (!reason) return false;
  void vscode.window.showWarningMessage(`dpipe: ${what} was not run. ${reason}`, 'Manage Workspace Trust').then((pick) => {
    if (pick) void vscode.commands.executeCommand('workbench.trust.manage');
  });
  return true;
}

/** The largest seed the engine accepts for a batch of one. */
const MAX_SEED = Number.MAX_SAFE_INTEGER;

export function registerCommands(context: vscode.ExtensionContext, deps: CommandDeps): void {
  const reg = (id: string, fn: (...args: unknown[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, fn));

  reg(COMMANDS.run, async (arg) => {
    const doc = await targetDocument(deps, arg);
    if (doc) await deps.runs.run(doc, { seed: seedArg(arg) });
  });
  reg(COMMANDS.runWithSeed, async (arg) => {
    if (refuseUntrusted(deps.trust, 'Run with Seed')) return;
    const doc = await targetDocument(deps, arg);
    if (!doc) return;
    const seed = await pickSeed();
    if (seed !== undefined) await deps.runs.run(doc, { seed });
  });
  reg(COMMANDS.runAndCompare, async (arg) => {
    if (refuseUntrusted(deps.trust, 'Run and Compare')) return;
    const doc = await targetDocument(deps, arg);
    if (doc) await runAndCompare(deps, doc);
  });
  reg(COMMANDS.stop, (arg) => {
    const uri = arg instanceof vscode.Uri ? arg : undefined;
    if (!deps.runs.stop(uri)) void vscode.window.showInformationMessage('dpipe: no run to stop.');
  });
  reg(COMMANDS.validate, async (arg) => {
    const doc = await targetDocument(deps, arg);
    if (!doc) return;
    const a = deps.documents.analyze(doc, { force: true });
    const errors = a.problems.filter((p) => p.severity === 'error').length;
    const warnings = a.problems.length - errors;
    const name = path.basename(doc.uri.path);
    if (a.problems.length === 0) {
      void vscode.window.showInformationMessage(`dpipe: ${name} is valid.`);
    } else {
      const pick = await vscode.window.showWarningMessage(`dpipe: ${name} has ${errors} error${errors === 1 ? '' : 's'} and ${warnings} warning${warnings === 1 ? '' : 's'}.`, 'Show Problems');
      if (pick) void vscode.commands.executeCommand('workbench.actions.view.problems');
    }
  });
  reg(COMMANDS.revealOutputs, async (arg) => {
    const doc = await targetDocument(deps, arg);
    if (!doc) return;
    const dir =
      deps.runs.outDirOf(doc.uri) ??
      resolveOutputFolder(deps.settings().outputFolder, doc.uri.fsPath, vscode.workspace.getWorkspaceFolder(doc.uri)?.uri.fsPath);
    if (!existsSync(dir)) {
      void vscode.window.showInformationMessage(`dpipe: no outputs yet (${dir} does not exist). Run the pipeline first.`);
      return;
    }
    await revealFolder(dir);
  });
  reg(COMMANDS.openAsText, async (arg) => {
    const doc = await targetDocument(deps, arg, { quiet: true });
    const uri = doc?.uri ?? (arg instanceof vscode.Uri ? arg : undefined);
    if (uri) await vscode.commands.executeCommand('vscode.openWith', uri, 'default');
  });
  reg(COMMANDS.openGraph, async (arg) => {
    const doc = await targetDocument(deps, arg);
    if (doc) await vscode.commands.executeCommand('vscode.openWith', doc.uri, VIEW_TYPE);
  });
  reg(COMMANDS.newPipeline, () => newPipeline(deps));
  reg(COMMANDS.newFromModelFolder, (arg) => newFromModelFolder(arg instanceof vscode.Uri ? arg : undefined));
  reg(COMMANDS.openFromImage, (arg) => openFromImage(deps, arg instanceof vscode.Uri ? arg : undefined));
  reg(COMMANDS.importPipeline, (arg) => importPipeline(deps, arg instanceof vscode.Uri ? arg : undefined));
  // COMMANDS.openInspector is registered by InspectorPanels.register (extension/inspector/panel.ts).
  reg(COMMANDS.showLog, () => deps.showLog());
}

/** Asks for a seed, offering a random one. */
export async function pickSeed(current?: number): Promise<number | undefined> {
  const value = await vscode.window.showInputBox({
    title: 'dpipe: Run with Seed',
    prompt: `Seed for every seeded noise block in this run (an integer from 0 to ${MAX_SEED})`,
    value: String(current ?? randomInt(0, 2 ** 31)),
    validateInput: (v) => (parseSeed(v) === undefined ? `Enter an integer from 0 to ${MAX_SEED}.` : undefined),
  });
  return value === undefined ? undefined : parseSeed(value);
}

export function parseSeed(v: string): number | undefined {
  if (!/^\s*\d+\s*$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= 0 && n <= MAX_SEED ? n : undefined;
}

function seedArg(arg: unknown): number | undefined {
  const s = (arg as { seed?: unknown } | undefined)?.seed;
  return typeof s === 'number' && Number.isSafeInteger(s) && s >= 0 ? s : undefined;
}

async function targetDocument(deps: CommandDeps, arg: unknown, opts: { quiet?: boolean } = {}): Promise<vscode.TextDocument | undefined> {
  const uri =
    arg instanceof vscode.Uri
      ? arg
      : (arg as { uri?: unknown } | undefined)?.uri instanceof vscode.Uri
        ? ((arg as { uri: vscode.Uri }).uri)
        : deps.editors.activeSession?.document.uri ??
          (vscode.window.activeTextEditor?.document.uri.path.endsWith('.dpipe') ? vscode.window.activeTextEditor.document.uri : undefined) ??
          activeTabDpipe();
  if (!uri) {
    if (!opts.quiet) void vscode.window.showInformationMessage('dpipe: open a .dpipe pipeline first.');
    return undefined;
  }
  return vscode.workspace.openTextDocument(uri);
}

/** The .dpipe of the active tab when it is a (custom or text) editor; covers focus in panels. */
function activeTabDpipe(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  const uri = input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText ? input.uri : undefined;
  return uri?.path.endsWith('.dpipe') ? uri : undefined;
}

// ---------------------------------------------------------------------------------------------

interface ComparePick extends vscode.QuickPickItem {
  readonly action: 'other' | 'param' | 'typed';
  readonly node?: string;
  readonly param?: string;
}

/**
 * Run and compare with…: B is another .dpipe, or this pipeline with one parameter changed (picked from the list,
 * or typed as NODE.PARAM=VALUE). Both run with the same seed, one after the other; then the inspector compares them.
 */
async function runAndCompare(deps: CommandDeps, doc: vscode.TextDocument): Promise<void> {
  const title = 'dpipe: Run and Compare with…';
  const name = path.basename(doc.uri.path);
  const a = deps.documents.analyze(doc, { force: true });
  if (!a.doc) {
    void vscode.window.showErrorMessage(`dpipe: ${name} does not parse; fix it first.`);
    return;
  }
  const pipeline = a.doc;
  const types = nodeTypes();
  const baseDir = path.dirname(doc.uri.fsPath);
  const base: ComparePick[] = [
    { label: '$(file) Another pipeline…', description: 'a .dpipe file, run with the same seed', action: 'other' },
    { label: 'This pipeline with one parameter changed', kind: vscode.QuickPickItemKind.Separator, action: 'param' },
    ...paramChoices(pipeline, types).map((c): ComparePick => ({ label: c.label, description: `= ${valueText(c.current)}`, detail: c.spec.label, action: 'param', node: c.node, param: c.param })),
  ];
  const qp = vscode.window.createQuickPick<ComparePick>();
  qp.title = title;
  qp.placeholder = 'Compare with another pipeline, or pick a parameter to change (or type NODE.PARAM=VALUE)';
  qp.matchOnDescription = true;
  qp.items = base;
  qp.onDidChangeValue((v) => {
    qp.items = looksLikeOverride(v) ? [{ label: v.trim(), description: 'run this pipeline with this override', action: 'typed', alwaysShow: true }, ...base] : base;
  });
  const picked = await new Promise<ComparePick | undefined>((resolve) => {
    qp.onDidAccept(() => resolve(qp.selectedItems[0]));
    qp.onDidHide(() => resolve(undefined));
    qp.show();
  });
  qp.dispose();
  if (!picked) return;

  let seed = sharedSeed(pipeline, types);
  seed ??= randomInt(0, 2 ** 31);
  const sideA: CompareSide = { label: name, run: (s) => deps.runs.run(doc, { seed: s, announce: false }) };
  let sideB: CompareSide;
  if (picked.action === 'other') {
    const uri = (await vscode.window.showOpenDialog({ title: `${title} pipeline B`, canSelectMany: false, defaultUri: vscode.Uri.file(baseDir), filters: { 'dpipe pipeline': ['dpipe'] } }))?.[0];
    if (!uri) return;
    const other = await vscode.workspace.openTextDocument(uri);
    sideB = { label: path.basename(uri.path), run: (s) => deps.runs.run(other, { seed: s, announce: false }) };
  } else {
    let set = picked.label;
    if (picked.action === 'param') {
      const choice = paramChoices(pipeline, types).find((c) => c.node === picked.node && c.param === picked.param)!;
      const value = await vscode.window.showInputBox({
        title: `${title} ${choice.label}`,
        prompt: `Value of ${choice.label} for run B (A keeps ${valueText(choice.current)})`,
        value: valueText(choice.current),
        validateInput: (v) => {
          const c = checkOverride(pipeline, types, `${choice.label}=${v}`, baseDir);
          return c.ok ? undefined : c.error;
        },
      });
      if (value === undefined) return;
      set = `${choice.label}=${value}`;
    }
    const check = checkOverride(pipeline, types, set, baseDir);
    if (!check.ok) {
      void vscode.window.showErrorMessage(`dpipe: ${check.error}`);
      return;
    }
    sideB = { label: `${name} with ${check.applied}`, run: (s) => deps.runs.run(doc, { seed: s, set: [check.set], announce: false }) };
  }
  const outcome = await runBothAndCompare(sideA, sideB, seed, (ra, rb) =>
    vscode.commands.executeCommand('dpipe.compareRuns', [vscode.Uri.file(ra), vscode.Uri.file(rb), `Compare ${sideA.label} · ${sideB.label} (seed ${seed})`]),
  );
  if (outcome.kind === 'stopped') void vscode.window.showWarningMessage(`dpipe: Run and compare: ${outcome.reason}.`);
}

async function newPipeline(deps: CommandDeps): Promise<void> {
  const pick = await vscode.window.showQuickPick(listTemplates(path.join(deps.extensionUri.fsPath, 'examples')), {
    title: 'dpipe: New Pipeline',
    placeHolder: 'Start from a template',
    matchOnDetail: true,
  });
  if (!pick) return;
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const suggested = (pick.description ?? 'pipeline.dpipe').replace(/\.dpipe$/, '') + '.dpipe';
  const target = await vscode.window.showSaveDialog({
    title: 'dpipe: New Pipeline',
    defaultUri: folder ? vscode.Uri.joinPath(folder, suggested) : undefined,
    filters: { 'dpipe pipeline': ['dpipe'] },
  });
  if (!target) return;
  const inst = instantiateTemplate(pick.file, target.fsPath, deps.extensionUri.fsPath);
  for (const c of inst.copies) {
    mkdirSync(path.dirname(c.to), { recursive: true });
    copyFileSync(c.from, c.to);
  }
  await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(inst.text));
  await vscode.commands.executeCommand('vscode.openWith', target, VIEW_TYPE);
}

/** A runnable pipeline for a model folder (Stable Diffusion / SDXL / SD3 in ONNX): folder, prompt, file name. */
async function newFromModelFolder(arg: vscode.Uri | undefined): Promise<void> {
  const title = 'dpipe: New Pipeline from Model Folder';
  const folderUri = arg ?? (await vscode.window.showOpenDialog({ title, canSelectFiles: false, canSelectFolders: true, canSelectMany: false, openLabel: 'Use this model folder' }))?.[0];
  if (!folderUri) return;
  const folder = folderUri.fsPath;
  const problem = await folderProblem(folder);
  if (problem) {
    void vscode.window.showErrorMessage(`dpipe: ${problem}`);
    return;
  }
  const prompt = await vscode.window.showInputBox({ title, prompt: 'The prompt (you can change it in the graph later)', value: 'a photo of an astronaut riding a horse on mars' });
  if (prompt === undefined) return;
  const ws = vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = await vscode.window.showSaveDialog({
    title,
    defaultUri: vscode.Uri.joinPath(ws ?? vscode.Uri.file(path.dirname(folder)), suggestedName(folder)),
    filters: { 'dpipe pipeline': ['dpipe'] },
  });
  if (!target) return;
  let text: string;
  try {
    text = await pipelineForFolder(folder, target.fsPath, prompt);
  } catch (e) {
    void vscode.window.showErrorMessage(`dpipe: ${(e as Error).message}`);
    return;
  }
  await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(text));
  await vscode.commands.executeCommand('vscode.openWith', target, VIEW_TYPE);
}

/**
 * Opens the pipeline a dpipe PNG carries as a new, unsaved .dpipe beside the pipeline it came from. A ComfyUI or
 * A1111 PNG (no dpipe pipeline, but the other tool's settings) is offered to "Import Pipeline…".
 */
async function openFromImage(deps: CommandDeps, arg: vscode.Uri | undefined): Promise<void> {
  const uri =
    arg ??
    (await vscode.window.showOpenDialog({ title: 'dpipe: Open Pipeline from Image', canSelectMany: false, filters: { 'PNG images': ['png'] } }))?.[0];
  if (!uri) return;
  const bytes = await vscode.workspace.fs.readFile(uri);
  const found = pipelineFromImage(bytes, uri.fsPath, (f) => vscode.workspace.textDocuments.some((d) => d.uri.fsPath === f), deps.trust.mayTouch);
  if (!found) {
    const other = importableImage(bytes);
    if (other) {
      const pick = await vscode.window.showInformationMessage(`dpipe: ${path.basename(uri.fsPath)} was made by ${other}, not dpipe. Import its settings as a pipeline?`, 'Import…');
      if (pick) await importPipeline(deps, uri);
      return;
    }
    void vscode.window.showErrorMessage(`dpipe: ${path.basename(uri.fsPath)} carries no pipeline (only PNGs written by dpipe do, or ComfyUI / A1111 PNGs, which "Import Pipeline…" reads).`);
    return;
  }
  const target = found.file;
  const content = found.text;
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(target).with({ scheme: 'untitled' }));
  const edit = new vscode.WorkspaceEdit();
  edit.insert(doc.uri, new vscode.Position(0, 0), content);
  await vscode.workspace.applyEdit(edit);
  await vscode.commands.executeCommand('vscode.openWith', doc.uri, VIEW_TYPE);
}

/**
 * "dpipe: Import Pipeline…": a ComfyUI workflow / API prompt / PNG, an A1111 PNG or infotext, or a diffusers
 * scheduler_config.json as a .dpipe. Asks for the model folder standing for the file's checkpoint (and the input
 * image of an img2img infotext), then where to save; refusals are listed in the log and nothing is written.
 */
async function importPipeline(deps: CommandDeps, arg: vscode.Uri | undefined): Promise<void> {
  const title = 'dpipe: Import Pipeline';
  const uri =
    arg ??
    (await vscode.window.showOpenDialog({
      title,
      canSelectMany: false,
      openLabel: 'Import',
      filters: { 'ComfyUI, A1111 or diffusers files': ['json', 'png', 'txt'], 'All files': ['*'] },
    }))?.[0];
  if (!uri) return;
  const bytes = await vscode.workspace.fs.readFile(uri);
  const probe = await importForHost({ bytes, source: uri.fsPath, target: uri.fsPath });
  const report = (outcome: Awaited<ReturnType<typeof importForHost>>) => {
    deps.log?.info(`import ${uri.fsPath}: ${outcome.errors.length} error(s), ${outcome.warnings.length} warning(s)`);
    for (const line of logLines(outcome)) deps.log?.info(`  ${line}`);
  };
  if (probe.errors.length && !probe.needsModel && !probe.needsImage) {
    report(probe);
    const pick = await vscode.window.showErrorMessage(`dpipe: ${summary(probe, uri.fsPath)}`, 'Show Log');
    if (pick) deps.showLog();
    return;
  }
  let modelFolder: string | undefined;
  if (probe.modelNames.length || probe.needsModel) {
    const names = probe.modelNames.map((m) => `"${m}"`).join(', ');
    const picked = await vscode.window.showOpenDialog({
      title: `${title}: the model folder (ONNX export) for ${names || 'this scheduler config'}`,
      canSelectFiles: false,
      canSelectFolders: true,
      canSelectMany: false,
      openLabel: 'Use this model folder',
    });
    modelFolder = picked?.[0]?.fsPath;
    if (!modelFolder && probe.needsModel) return;
  }
  let image: string | undefined;
  if (probe.needsImage) {
    image = (await vscode.window.showOpenDialog({ title: `${title}: the input image (img2img)`, canSelectMany: false, filters: { 'PNG images': ['png'] } }))?.[0]?.fsPath;
    if (!image) return;
  }
  const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const base = ws && !uri.fsPath.startsWith(ws) ? path.join(ws, path.basename(uri.fsPath)) : uri.fsPath;
  const target = await vscode.window.showSaveDialog({
    title,
    defaultUri: vscode.Uri.file(suggestedTarget(base, (f) => existsSync(f))),
    filters: { 'dpipe pipeline': ['dpipe'] },
  });
  if (!target) return;
  const outcome = await importForHost({ bytes, source: uri.fsPath, target: target.fsPath, modelFolder, image });
  report(outcome);
  if (!outcome.text) {
    const pick = await vscode.window.showErrorMessage(`dpipe: ${summary(outcome, uri.fsPath)}`, 'Show Log');
    if (pick) deps.showLog();
    return;
  }
  try {
    // The save dialog asked before replacing a file; the write goes through a temporary file and a rename.
    writeNew(target.fsPath, outcome.text, true);
  } catch (e) {
    void vscode.window.showErrorMessage(`dpipe: ${(e as Error).message}`);
    return;
  }
  await vscode.commands.executeCommand('vscode.openWith', target, VIEW_TYPE);
  if (outcome.warnings.length) {
    const pick = await vscode.window.showWarningMessage(`dpipe: imported ${path.basename(uri.fsPath)} with ${outcome.warnings.length} note${outcome.warnings.length === 1 ? '' : 's'} — ${outcome.warnings[0].message}`, 'Show Log');
    if (pick) deps.showLog();
  }
}
