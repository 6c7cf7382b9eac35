/**
 * "dpipe: Run Grid…": axes picked from the blocks and parameters of the open pipeline (quick picks), the seeds,
 * then `dpipe grid` in a child process (the bundled CLI, with progress and Stop), and the grid view on its result.
 *
 * Each axis is picked from a list — a block to swap (then which block types, among those of its family) or a
 * parameter (then its values, checked as they are typed) — or typed whole as `NODE=TYPE,TYPE` / `NODE.PARAM=V,V`.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseAxisArg, parseSeeds, resolveAxes } from '../src/engine/grid/plan';
import { loadPipeline } from '../src/engine/format/index';
import type { PipelineDoc } from '../src/engine/format/types';
import { nodeTypes } from '../src/engine/registry/index';
import type { NodeTypeInfo } from '../src/engine/registry/types';
import { paramChoices, valueText } from './compare';
import type { InspectorPanels } from './inspector/panel';
import { resolveOutputFolder, type DpipeSettings } from './settings';

export const RUN_GRID_COMMAND = 'dpipe.runGrid';

interface AxisPick extends vscode.QuickPickItem {
  readonly action: 'run' | 'type' | 'param' | 'typed';
  readonly node?: string;
  readonly param?: string;
}

/** Why an axis does not fit the pipeline, or undefined when it does (with the axes picked before it). */
export function checkAxis(doc: PipelineDoc, types: ReadonlyMap<string, NodeTypeInfo>, picked: readonly string[], axis: string): string | undefined {
  try {
    resolveAxes(doc, types, [...picked, axis].map(parseAxisArg));
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Block types a node can be swapped for: the other blocks of its family. */
export function swapChoices(doc: PipelineDoc, types: ReadonlyMap<string, NodeTypeInfo>): { node: string; type: string; alternatives: string[] }[] {
  return doc.nodes.flatMap((n) => {
    const info = types.get(n.type);
    if (!info || !['Solver', 'Schedule', 'Guider', 'Noise', 'Corrector'].includes(info.category)) return [];
    const alternatives = [...types.values()].filter((t) => t.category === info.category).map((t) => t.type);
    return alternatives.length > 1 ? [{ node: n.id, type: n.type, alternatives }] : [];
  });
}

export function registerGridCommand(context: vscode.ExtensionContext, panels: InspectorPanels, deps: { settings(): DpipeSettings; activePipeline(): vscode.Uri | undefined }): void {
  context.subscriptions.push(vscode.commands.registerCommand(RUN_GRID_COMMAND, (arg: unknown) => runGrid(panels, deps, arg)));
}

async function runGrid(panels: InspectorPanels, deps: { settings(): DpipeSettings; activePipeline(): vscode.Uri | undefined }, arg: unknown): Promise<void> {
  const title = 'dpipe: Run Grid';
  const uri = arg instanceof vscode.Uri ? arg : deps.activePipeline() ?? (vscode.window.activeTextEditor?.document.uri.path.endsWith('.dpipe') ? vscode.window.activeTextEditor.document.uri : undefined);
  if (!uri) {
    void vscode.window.showInformationMessage('dpipe: open a .dpipe pipeline first.');
    return;
  }
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage('dpipe: a grid runs the pipeline; this workspace is not trusted.');
    return;
  }
  const document = await vscode.workspace.openTextDocument(uri);
  if (document.isDirty) {
    const save = await vscode.window.showWarningMessage(`dpipe: ${path.basename(uri.fsPath)} has unsaved changes; a grid runs the file on disk.`, 'Save and Run Grid');
    if (save !== 'Save and Run Grid' || !(await document.save())) return;
  }
  const loaded = loadPipeline(document.getText(), { file: uri.fsPath, baseDir: path.dirname(uri.fsPath) });
  if (!loaded.doc || loaded.problems.some((p) => p.severity === 'error')) {
    void vscode.window.showErrorMessage(`dpipe: ${path.basename(uri.fsPath)} has errors; fix them first (dpipe: Validate Pipeline).`);
    return;
  }
  const doc = loaded.doc;
  const types = nodeTypes();
  const axes: string[] = [];
  for (;;) {
    const used = new Set(axes.map((a) => parseAxisArg(a).target));
    const items: AxisPick[] = [
      ...(axes.length ? [{ label: '$(play) Run the grid', description: axes.join('  ×  '), action: 'run' as const }] : []),
      { label: 'Swap a block', kind: vscode.QuickPickItemKind.Separator, action: 'type' },
      ...swapChoices(doc, types).filter((s) => !used.has(s.node)).map((s): AxisPick => ({ label: s.node, description: `swap ${s.type} for other ${types.get(s.type)!.category.toLowerCase()} blocks`, action: 'type', node: s.node })),
      { label: 'Set a parameter', kind: vscode.QuickPickItemKind.Separator, action: 'param' },
      ...paramChoices(doc, types).filter((c) => !used.has(c.label)).map((c): AxisPick => ({ label: c.label, description: `= ${valueText(c.current)}`, detail: c.spec.label, action: 'param', node: c.node, param: c.param })),
    ];
    const qp = vscode.window.createQuickPick<AxisPick>();
    qp.title = `${title} — axis ${axes.length + 1}${axes.length ? ` (so far: ${axes.join(' × ')})` : ''}`;
    qp.placeholder = axes.length ? 'Add another axis, or Run the grid' : 'Pick a block to swap or a parameter to vary (or type NODE=TYPE,TYPE or NODE.PARAM=V,V)';
    qp.matchOnDescription = true;
    qp.items = items;
    qp.onDidChangeValue((v) => {
      qp.items = /^[A-Za-z_][\w-]*(\.[A-Za-z_]\w*)?=\S/.test(v.trim()) ? [{ label: v.trim(), description: 'add this axis', action: 'typed', alwaysShow: true }, ...items] : items;
    });
    const pick = await new Promise<AxisPick | undefined>((resolve) => {
      qp.onDidAccept(() => resolve(qp.selectedItems[0]));
      qp.onDidHide(() => resolve(undefined));
      qp.show();
    });
    qp.dispose();
    if (!pick) return;
    if (pick.action === 'run') break;
    let axis: string | undefined;
    if (pick.action === 'typed') axis = pick.label;
    else if (pick.action === 'type') {
      const s = swapChoices(doc, types).find((x) => x.node === pick.node)!;
      const chosen = await vscode.window.showQuickPick(
        s.alternatives.map((t) => ({ label: t, description: types.get(t)!.title, picked: t === s.type })),
        { title: `${title} — ${s.node}: block types to compare`, canPickMany: true, placeHolder: 'Pick two or more' },
      );
      if (!chosen?.length) continue;
      axis = `${s.node}=${chosen.map((c) => c.label).join(',')}`;
    } else {
      const current = paramChoices(doc, types).find((c) => c.node === pick.node && c.param === pick.param)!;
      const values = await vscode.window.showInputBox({
        title: `${title} — ${current.label}`,
        prompt: `Values of ${current.label}, comma-separated (lists in brackets: [1,2],[3])`,
        value: valueText(current.current),
        validateInput: (v) => checkAxis(doc, types, axes, `${current.label}=${v}`),
      });
      if (values === undefined) continue;
      axis = `${current.label}=${values}`;
    }
    const why = checkAxis(doc, types, axes, axis);
    if (why) {
      void vscode.window.showErrorMessage(`dpipe: ${why}`);
      continue;
    }
    axes.push(axis);
  }
  const seeds = await vscode.window.showInputBox({
    title: `${title} — seeds`,
    prompt: 'Seeds of every cell, A-B: one batch, item b with seed A + b',
    value: '0-3',
    validateInput: (v) => {
      try {
        parseSeeds(v);
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
    },
  });
  if (seeds === undefined) return;
  const d = new Date();
  const p2 = (n: number) => String(n).padStart(2, '0');
  const stamp = `${d.getFullYear()}${p2(d.getMonth() + 1)}${p2(d.getDate())}-${p2(d.getHours())}${p2(d.getMinutes())}${p2(d.getSeconds())}`;
  const root = resolveOutputFolder(deps.settings().outputFolder, uri.fsPath, vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath);
  const out = path.join(root, `${path.basename(uri.fsPath, '.dpipe')}-grid-${stamp}`);
  await panels.runCli(`Grid ${axes.join(' × ')}`, ['grid', uri.fsPath, ...axes.flatMap((a) => ['--axis', a]), '--seeds', seeds.trim(), '--out', out]);
  // A grid with failed cells still has its grid.json: show it (failed cells say why).
  if (existsSync(path.join(out, 'grid.json'))) panels.openGrid(out);
}
