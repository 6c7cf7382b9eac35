/**
 * The composition root: creates each service once, wires them together, and registers them as disposables.
 * Nothing else happens here.
 */
import * as vscode from 'vscode';
import { COMMANDS, pickSeed, registerCommands } from './commands';
import { PipelineDocuments } from './documents';
import { PipelineEditorProvider } from './editorProvider';
import { registerGridCommand } from './gridCommand';
import { InspectorPanels } from './inspector/panel';
import type { Logger } from './log';
import { RunnerHost } from './runnerHost';
import { RunService } from './runService';
import { readSettings, type DpipeSettings } from './settings';
import { workspaceTrust } from './trust';

export const UNTRUSTED_REASON =
  'This workspace is not trusted, so dpipe does not run pipelines here: a run loads the ONNX model files the pipeline names and writes files. Trust the folder to run it.';

export function activate(context: vscode.ExtensionContext): void {
  const channel = vscode.window.createOutputChannel('dpipe', { log: true });
  context.subscriptions.push(channel);
  const log: Logger = channel;
  log.info(`dpipe ${context.extension.packageJSON.version as string} activating (VS Code ${vscode.version}, node ${process.version})`);

  let settings: DpipeSettings = readSettings((k) => vscode.workspace.getConfiguration('dpipe').get(k));
  const trust = workspaceTrust(
    { isTrusted: () => vscode.workspace.isTrusted, folders: () => (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath) },
    UNTRUSTED_REASON,
  );
  const untrustedReason = trust.untrustedReason;

  const documents = new PipelineDocuments(log, trust.mayTouch);
  context.subscriptions.push(documents);

  const runner = new RunnerHost({ runnerPath: vscode.Uri.joinPath(context.extensionUri, 'dist', 'runner.js').fsPath, log });
  context.subscriptions.push({ dispose: () => void runner.dispose() });

  let editors: PipelineEditorProvider | undefined;
  const runs = new RunService({ log, runner, documents, editors: () => editors!, settings: () => settings, untrustedReason });
  context.subscriptions.push(runs);

  editors = PipelineEditorProvider.register(context, {
    log,
    documents,
    settings: () => settings,
    untrustedReason,
    pickSeed,
    command: (command, uri, args) => {
      switch (command) {
        case 'run':
          return vscode.commands.executeCommand(COMMANDS.run, { uri, seed: args?.seed });
        case 'runWithSeed':
          return vscode.commands.executeCommand(COMMANDS.runWithSeed, uri);
        case 'runAndCompare':
          return vscode.commands.executeCommand(COMMANDS.runAndCompare, uri);
        case 'stop':
          return vscode.commands.executeCommand(COMMANDS.stop, uri);
        case 'validate':
          return vscode.commands.executeCommand(COMMANDS.validate, uri);
        case 'revealOutputs':
          return vscode.commands.executeCommand(COMMANDS.revealOutputs, uri);
        case 'openAsText':
          return vscode.commands.executeCommand(COMMANDS.openAsText, uri);
        case 'openInspector':
          return vscode.commands.executeCommand(COMMANDS.openInspector, uri);
        default:
          log.warn(`unknown editor command ${command}`);
          return Promise.resolve();
      }
    },
  });

  registerCommands(context, { extensionUri: context.extensionUri, editors, documents, runs, settings: () => settings, showLog: () => channel.show(true), trust, log });
  const inspector = InspectorPanels.register(context, { log, settings: () => settings, lastRunOf: (u) => runs.outDirOf(u), activePipeline: () => editors?.activeSession?.document.uri, trust });
  registerGridCommand(context, inspector, { settings: () => settings, activePipeline: () => editors?.activeSession?.document.uri });

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('dpipe')) return;
      settings = readSettings((k) => vscode.workspace.getConfiguration('dpipe').get(k));
      log.info(`settings: ${JSON.stringify(settings)}`);
      for (const s of editors!.allSessions) s.settingsChanged();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      log.info('workspace trust granted');
      documents.recheckAll();
      for (const s of editors!.allSessions) s.trustChanged();
    }),
  );
  void vscode.commands.executeCommand('setContext', 'dpipe.running', false);
  log.info(`settings: ${JSON.stringify(settings)}; workspace ${vscode.workspace.isTrusted ? 'trusted' : 'NOT trusted (runs disabled)'}`);
}

export function deactivate(): void {
  // Services are disposed through context.subscriptions.
}
