/**
 * The grid view (a `dpipe grid` result in the inspector's webview): the labelled image grid with a click target on
 * every cell's tile, and the cells' metrics in a table sorted by any column. Select one cell (click its tile or
 * its row) to open it in the Latent Inspector, two to compare them aligned by σ; double-click opens at once.
 */
import { memo, useMemo, useState } from 'react';
import type { GridCellView, GridView } from '../../src/protocol/inspector';
import { Button } from '../shared/elements';
import type { InspectorClient } from './client';
import { fmt } from './ImageView';

type Column = { key: string; label: string; value: (c: GridCellView) => number | string | null; show: (c: GridCellView) => string };

const num = (v: number | null, digits = 0) => (v === null ? '—' : v.toFixed(digits));

/** The table's columns: the cell number, one per axis, then the metrics the grid has. */
export function gridColumns(grid: GridView): Column[] {
  const cols: Column[] = [{ key: 'index', label: '#', value: (c) => c.index, show: (c) => String(c.index) }];
  grid.axes.forEach((a, k) => cols.push({ key: `axis${k}`, label: a.name, value: (c) => c.coords[k], show: (c) => a.labels[c.coords[k]] }));
  cols.push({ key: 'nfe', label: 'NFE', value: (c) => c.nfe, show: (c) => num(c.nfe) });
  if (grid.cells.some((c) => c.finalError !== null)) cols.push({ key: 'error', label: 'final error', value: (c) => c.finalError, show: (c) => (c.finalError === null ? '—' : fmt(c.finalError)) });
  if (grid.cells.some((c) => c.fd !== null)) cols.push({ key: 'fd', label: 'FD-MNIST', value: (c) => c.fd, show: (c) => num(c.fd, 3) });
  if (grid.cells.some((c) => c.accuracy !== null)) cols.push({ key: 'acc', label: 'accuracy', value: (c) => c.accuracy, show: (c) => (c.accuracy === null ? '—' : `${(c.accuracy * 100).toFixed(1)}%`) });
  cols.push({ key: 'time', label: 'time (s)', value: (c) => c.wallMs, show: (c) => (c.wallMs === null ? '—' : (c.wallMs / 1000).toFixed(2)) });
  cols.push({ key: 'status', label: 'status', value: (c) => c.status, show: (c) => (c.status === 'completed' ? (c.dropped.length ? `ok (${c.dropped.length} dropped)` : 'ok') : `failed: ${c.error ?? ''}`) });
  return cols;
}

/** Cells sorted by a column: numbers numerically, missing values last whatever the direction, then by cell number. */
export function sortCells(cells: readonly GridCellView[], col: Column, dir: 1 | -1): GridCellView[] {
  return [...cells].sort((a, b) => {
    const x = col.value(a);
    const y = col.value(b);
    if (x === null || y === null) return x === y ? a.index - b.index : x === null ? 1 : -1;
    const d = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return d !== 0 ? dir * d : a.index - b.index;
  });
}

export const GridPanel = memo(function GridPanel({ grid, client }: { grid: GridView; client: InspectorClient }) {
  const columns = useMemo(() => gridColumns(grid), [grid]);
  const [sort, setSort] = useState<{ key: string; dir: 1 | -1 }>({ key: 'index', dir: 1 });
  const [selected, setSelected] = useState<number[]>([]);
  const col = columns.find((c) => c.key === sort.key) ?? columns[0];
  const rows = useMemo(() => sortCells(grid.cells, col, sort.dir), [grid.cells, col, sort.dir]);
  const toggle = (cell: number) => setSelected((s) => (s.includes(cell) ? s.filter((x) => x !== cell) : [...s, cell].slice(-2)));
  const openCell = (cell: number) => client.post({ type: 'gridCells', action: 'open', cells: [cell] });
  const ok = (i: number) => grid.cells[i]?.status === 'completed';
  const src = useMemo(() => `data:image/png;base64,${grid.image.png}`, [grid.image.png]);

  return (
    <section className="grid-view" data-testid="grid-view">
      <div className="grid-actions">
        <span className="muted" data-testid="grid-selection">
          {selected.length === 0 ? 'Select a cell (click its image or row) to open it, or two to compare them.' : `Selected: ${selected.map((i) => `#${i} ${grid.cells[i].label}`).join('  ·  ')}`}
        </span>
        <span className="spacer" />
        <Button secondary icon="graph-line" disabled={selected.length !== 1 || !ok(selected[0])} onClick={() => openCell(selected[0])} testId="grid-open" title="Open the selected cell's run in the Latent Inspector">
          Open in Inspector
        </Button>
        <Button secondary icon="split-horizontal" disabled={selected.length !== 2 || !selected.every(ok)} onClick={() => client.post({ type: 'gridCells', action: 'compare', cells: selected })} testId="grid-compare" title="Compare the two selected cells, aligned by σ">
          Compare
        </Button>
      </div>
      <div className="grid-image" data-testid="grid-image" style={{ aspectRatio: `${grid.image.width} / ${grid.image.height}`, maxWidth: `${grid.image.width * 2}px` }}>
        <img src={src} alt={grid.title} width={grid.image.width} height={grid.image.height} />
        {grid.image.tiles.map((t) => (
          <button
            key={t.cell}
            className={`tile${selected.includes(t.cell) ? ' on' : ''}`}
            style={{ left: `${(100 * t.x) / grid.image.width}%`, top: `${(100 * t.y) / grid.image.height}%`, width: `${(100 * t.width) / grid.image.width}%`, height: `${(100 * t.height) / grid.image.height}%` }}
            title={`#${t.cell} ${grid.cells[t.cell]?.label ?? ''}`}
            aria-label={`cell ${t.cell}: ${grid.cells[t.cell]?.label ?? ''}`}
            aria-pressed={selected.includes(t.cell)}
            data-testid={`grid-tile-${t.cell}`}
            onClick={() => toggle(t.cell)}
            onDoubleClick={() => ok(t.cell) && openCell(t.cell)}
          />
        ))}
      </div>
      <table className="grid-table" data-testid="grid-table">
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.key} aria-sort={c.key === sort.key ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none'}>
                <button className="link" data-testid={`grid-sort-${c.key}`} onClick={() => setSort((s) => ({ key: c.key, dir: s.key === c.key ? (-s.dir as 1 | -1) : 1 }))}>
                  {c.label}
                  {c.key === sort.key ? (sort.dir === 1 ? ' ▲' : ' ▼') : ''}
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((c) => (
            <tr key={c.index} className={`${selected.includes(c.index) ? 'on' : ''}${c.status !== 'completed' ? ' failed' : ''}`} data-testid={`grid-row-${c.index}`} onClick={() => toggle(c.index)} onDoubleClick={() => ok(c.index) && openCell(c.index)} title={c.dropped.join('\n') || undefined}>
              {columns.map((col) => (
                <td key={col.key}>{col.show(c)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
});
