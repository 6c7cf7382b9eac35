/**
 * What node components need beyond their plain-JSON data: the registry, the run store, and host actions.
 * Provided once by the App; stable for the editor's life (the registry changes only on `init`).
 */
import { createContext, useContext } from 'react';
import type { BlockRegistry } from '../../src/engine/format/registry';
import type { RunStore } from '../shared/runStore';

export interface EditorServices {
  readonly registry: BlockRegistry;
  readonly run: RunStore;
  /** Asks the host to open a file (an output image, a model). */
  openFile(path: string): void;
}

export const EditorContext = createContext<EditorServices | null>(null);

export function useEditor(): EditorServices {
  const s = useContext(EditorContext);
  if (!s) throw new Error('EditorContext missing');
  return s;
}
