/**
 * The grid view's data, without vscode: a grid folder (`dpipe grid`: grid.json, grid.png, cells/) read into the
 * {@link GridView} the inspector webview draws, and the cell run folders its `gridCells` messages name.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GRID_FILE, readGridFile, type GridFile } from '../../src/engine/grid/result';
import type { GridView } from '../../src/protocol/inspector';

/** The grid folder of a path: the folder itself, or the folder of its grid.json / grid.png. */
export function gridFolderOf(p: string): string | undefined {
  const dir = /(^|[\\/])grid\.(json|png)$/.test(p) ? path.dirname(p) : p;
  return fs.existsSync(path.join(dir, GRID_FILE)) ? dir : undefined;
}

export function gridViewOf(dir: string, grid: GridFile = readGridFile(path.join(dir, GRID_FILE))): GridView {
  const png = fs.readFileSync(path.join(dir, grid.image.file));
  return {
    title: `Grid: ${path.basename(grid.spec.file)} — ${grid.axes.map((a) => `${a.name} (${a.labels.length})`).join(' × ')}`,
    dir,
    axes: grid.axes.map((a) => ({ name: a.name, labels: [...a.labels] })),
    image: { png: png.toString('base64'), width: grid.image.width, height: grid.image.height, tiles: grid.image.tiles.map((t) => ({ ...t })) },
    cells: grid.cells.map((c) => ({
      index: c.index,
      label: c.label,
      coords: [...c.coords],
      status: c.status,
      error: c.error ? `${c.error.code}: ${c.error.message}` : null,
      nfe: c.nfe,
      wallMs: c.wallMs,
      finalError: c.reference?.length ? c.reference[c.reference.length - 1].final : null,
      fd: c.score?.fd ?? null,
      accuracy: c.score?.accuracy ?? null,
      dropped: [...c.dropped],
    })),
  };
}

/** The run folder of each named cell; errors name the cell that has none. */
export function cellFolders(dir: string, grid: GridFile, cells: readonly number[]): string[] {
  return cells.map((i) => {
    const c = grid.cells.find((x) => x.index === i);
    if (!c) throw new Error(`the grid has no cell ${i} (it has ${grid.cells.length})`);
    const folder = path.join(dir, c.dir);
    if (!fs.existsSync(path.join(folder, 'run.json'))) throw new Error(`cell ${i} (${c.label}) has no run folder at ${folder}${c.status === 'failed' ? ': it failed' : ''}`);
    return folder;
  });
}
