/**
 * Workspace trust, checked in every handler that loads a model or writes files (a command's `enablement` does not
 * stop `executeCommand`, which webviews and other extensions use), and the one rule for restricted mode: touch no
 * path outside the workspace folders (a `\\host\share` path in a pipeline would make the OS contact a network
 * share just by being checked). No vscode import here: `extension.ts` passes the workspace's state in.
 */
import * as path from 'node:path';

/** Whether `abs` is one of `folders` or inside one (same volume, no `..`). */
export function isInsideFolders(folders: readonly string[], abs: string): boolean {
  const target = path.resolve(abs);
  return folders.some((f) => {
    const rel = path.relative(path.resolve(f), target);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  });
}

export interface WorkspaceTrust {
  /** Why models may not run here, or undefined when the workspace is trusted. */
  untrustedReason(): string | undefined;
  /** Whether dpipe may look at `abs` (stat it, read it): always when trusted, else only inside the workspace. */
  mayTouch(abs: string): boolean;
}

export function workspaceTrust(state: { isTrusted(): boolean; folders(): readonly string[] }, reason: string): WorkspaceTrust {
  return {
    untrustedReason: () => (state.isTrusted() ? undefined : reason),
    mayTouch: (abs) => state.isTrusted() || isInsideFolders(state.folders(), abs),
  };
}
