/**
 * The `dpipe.*` settings, read in one place, and the pure helpers around them (output folder variables, run
 * folder names). No vscode import here: `extension.ts` passes a getter, tests pass plain objects.
 */
import * as path from 'node:path';
import * as os from 'node:os';

export interface DpipeSettings {
  /** `dpipe.runner.threads`: onnxruntime intra-op threads; 0 = onnxruntime's default. */
  readonly threads: number;
  /** `dpipe.outputFolder`: where runs write; variables see {@link resolveOutputFolder}. */
  readonly outputFolder: string;
  /** `dpipe.previewRate`: most previews per second during a run; 0 turns previews off. */
  readonly previewRate: number;
  /** `dpipe.trajectoryMemoryMB`: memory the runner may spend keeping a run's trajectory for the inspector. */
  readonly trajectoryMemoryMB: number;
  /** `dpipe.executionProvider`: onnxruntime execution provider for model blocks left at "auto". */
  readonly executionProvider: string;
  /** `dpipe.executionProviderFallback`: run on the CPU when that provider is not available. */
  readonly executionProviderFallback: boolean;
  /** `dpipe.runner.releaseModelsAfterSeconds`: idle seconds before the runner releases its models; 0 = never. */
  readonly releaseModelsAfterSeconds: number;
}

const PROVIDERS = ['cpu', 'cuda', 'tensorrt', 'dml', 'coreml', 'webgpu'];

export const DEFAULT_SETTINGS: DpipeSettings = {
  threads: 0,
  outputFolder: '${fileDirname}/dpipe-out',
  previewRate: 4,
  trajectoryMemoryMB: 256,
  executionProvider: 'cpu',
  executionProviderFallback: false,
  releaseModelsAfterSeconds: 300,
};

/** Reads settings through `get(key)` (a WorkspaceConfiguration), clamping each to its documented range. */
export function readSettings(get: (key: string) => unknown): DpipeSettings {
  const n = (key: string, def: number, min: number, max: number, integer: boolean) => {
    const v = get(key);
    if (typeof v !== 'number' || !Number.isFinite(v)) return def;
    const c = Math.min(max, Math.max(min, v));
    return integer ? Math.round(c) : c;
  };
  const folder = get('outputFolder');
  return {
    threads: n('runner.threads', DEFAULT_SETTINGS.threads, 0, 256, true),
    outputFolder: typeof folder === 'string' && folder.trim() !== '' ? folder : DEFAULT_SETTINGS.outputFolder,
    previewRate: n('previewRate', DEFAULT_SETTINGS.previewRate, 0, 30, false),
    trajectoryMemoryMB: n('trajectoryMemoryMB', DEFAULT_SETTINGS.trajectoryMemoryMB, 0, 65_536, true),
    executionProvider: PROVIDERS.includes(get('executionProvider') as string) ? (get('executionProvider') as string) : DEFAULT_SETTINGS.executionProvider,
    executionProviderFallback: get('executionProviderFallback') === true,
    releaseModelsAfterSeconds: n('runner.releaseModelsAfterSeconds', DEFAULT_SETTINGS.releaseModelsAfterSeconds, 0, 86_400, true),
  };
}

/**
 * Expands `${fileDirname}`, `${fileBasenameNoExtension}`, `${workspaceFolder}` and `${userHome}` (VS Code's
 * variable names) in the output-folder setting; a relative result is taken relative to the .dpipe's folder.
 * `${workspaceFolder}` falls back to the file's folder when the file is outside any workspace folder.
 */
export function resolveOutputFolder(setting: string, file: string, workspaceFolder: string | undefined): string {
  const dir = path.dirname(file);
  const vars: Record<string, string> = {
    fileDirname: dir,
    fileBasenameNoExtension: path.basename(file, path.extname(file)),
    workspaceFolder: workspaceFolder ?? dir,
    userHome: os.homedir(),
  };
  const expanded = setting.replace(/\$\{(\w+)\}/g, (m, name: string) => vars[name] ?? m);
  return path.resolve(dir, expanded);
}

/** `20250101-120304-567`: sortable, unique per millisecond, valid on every file system. */
export function runFolderName(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}-${p(d.getMilliseconds(), 3)}`;
}

/** Preview interval for the runner, ms, from previews per second (0 = none). */
export function previewIntervalMs(rate: number): number {
  return rate > 0 ? Math.round(1000 / rate) : 0;
}
