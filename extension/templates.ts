/**
 * "New Pipeline" templates: the extension's `examples/*.dpipe`. Instantiating one for a new file keeps it
 * runnable: files it names inside the extension (the demo model and its sidecar, a .npy) are copied next to the
 * new pipeline under `models/` — a pipeline must not point into the extension's install folder, which changes with
 * every update — and other relative paths are rebased to the new file's folder. No vscode import (tested directly).
 */
import * as path from 'node:path';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { loadPipeline, serializePipeline, type PipelineDoc } from '../src/engine/format';
import { registryJson } from './pipelineText';

/** Subfolder of examples/ with the reference-implementation presets. */
export const PRESETS_DIR = 'presets';

export interface Template {
  readonly label: string;
  /** File name, e.g. `euler-karras.dpipe`; undefined for the empty pipeline. */
  readonly description?: string;
  readonly detail?: string;
  readonly file?: string;
}

export function listTemplates(examplesDir: string): Template[] {
  const out: Template[] = [{ label: 'Empty pipeline', detail: 'No blocks; add them from the palette.' }];
  if (!existsSync(examplesDir)) return out;
  // The examples, then the reference presets (examples/presets/: pipelines that set every level the way
  // k-diffusion, diffusers or a paper's repository does).
  for (const sub of ['', PRESETS_DIR]) {
    const dir = path.join(examplesDir, sub);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.dpipe')).sort()) {
      const file = path.join(dir, f);
      const r = loadPipeline(readFileSync(file, 'utf8'), { file, checkFiles: false });
      const name = sub ? `${sub}/${f}` : f;
      out.push({ label: r.doc?.metadata.title ?? name.replace(/\.dpipe$/, ''), description: name, detail: r.doc?.metadata.description, file });
    }
  }
  return out;
}

export interface Instance {
  readonly text: string;
  /** Files to copy (absent at `to`), model sidecars included. */
  readonly copies: readonly { readonly from: string; readonly to: string }[];
}

/** The text of a new pipeline at `target` made from `template` (undefined: the empty pipeline). */
export function instantiateTemplate(template: string | undefined, target: string, extensionRoot: string): Instance {
  const toDir = path.dirname(target);
  if (!template) {
    return { text: serializePipeline({ dpipe: 1, metadata: { title: path.basename(target, '.dpipe') }, nodes: [], edges: [] }), copies: [] };
  }
  const source = readFileSync(template, 'utf8');
  const r = loadPipeline(source, { file: template, checkFiles: false });
  if (!r.doc) return { text: source, copies: [] };
  const fromDir = path.dirname(template);
  const types = new Map(registryJson().map((t) => [t.type, t] as const));
  const copies: { from: string; to: string }[] = [];
  const root = path.resolve(extensionRoot) + path.sep;
  const doc: PipelineDoc = {
    ...r.doc,
    nodes: r.doc.nodes.map((n) => {
      const info = types.get(n.type);
      if (!info) return n;
      const params = { ...n.params };
      for (const spec of info.params) {
        const v = params[spec.name];
        if (spec.type !== 'file' || typeof v !== 'string' || v === '' || path.isAbsolute(v)) continue;
        const abs = path.resolve(fromDir, v);
        if (!existsSync(abs)) continue;
        if (abs.startsWith(root)) {
          const sub = path.dirname(abs) === fromDir ? '' : 'models';
          const to = path.join(toDir, sub, path.basename(abs));
          for (const [a, b] of [[abs, to], [`${abs}.json`, `${to}.json`]]) {
            if (existsSync(a) && !existsSync(b) && !copies.some((c) => c.to === b)) copies.push({ from: a, to: b });
          }
          params[spec.name] = path.relative(toDir, to).split(path.sep).join('/');
        } else {
          params[spec.name] = path.relative(toDir, abs).split(path.sep).join('/');
        }
      }
      return { ...n, params };
    }),
  };
  return { text: serializePipeline(doc), copies };
}
