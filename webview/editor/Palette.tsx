/**
 * The block palette, built from the registry the host sends, grouped by category in the registry's category
 * order, with a search over title, type id and documentation. Drag an item onto the canvas, or click it (or
 * press Enter on it) to add it at the centre of the view.
 */
import { memo, useMemo, useState } from 'react';
import type { NodeTypeInfo } from '../../src/engine/registry/types';
import { CATEGORIES, CATEGORY_ICON, categoryColor } from './nodes/categories';
import { Codicon, TextField } from '../shared/elements';

export const BLOCK_MIME = 'application/x-dpipe-block';

export interface PaletteProps {
  blocks: readonly NodeTypeInfo[];
  onAdd: (type: string) => void;
}

export const Palette = memo(function Palette({ blocks, onAdd }: PaletteProps) {
  const [query, setQuery] = useState('');
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const groups = useMemo(() => {
    const q = query.trim().toLowerCase();
    const match = (b: NodeTypeInfo) => !q || `${b.title} ${b.type} ${b.doc} ${b.category}`.toLowerCase().includes(q);
    const known = new Set<string>(CATEGORIES);
    const cats = [...CATEGORIES, ...new Set(blocks.map((b) => b.category).filter((c) => !known.has(c)))];
    return cats.map((c) => ({ category: c, items: blocks.filter((b) => b.category === c && match(b)) })).filter((g) => g.items.length > 0);
  }, [blocks, query]);
  const toggle = (c: string) =>
    setCollapsed((s) => {
      const n = new Set(s);
      if (n.has(c)) n.delete(c);
      else n.add(c);
      return n;
    });
  return (
    <nav className="dp-palette" aria-label="Blocks" data-testid="palette">
      <div className="dp-palette-search">
        <TextField value={query} placeholder="Search blocks" onInput={setQuery} testId="palette-search" ariaLabel="Search blocks" />
      </div>
      <div className="dp-palette-list" role="tree">
        {groups.length === 0 && <div className="dp-palette-empty">{blocks.length === 0 ? 'No blocks: the registry is empty.' : `No block matches “${query}”.`}</div>}
        {groups.map((g) => {
          const open = query !== '' || !collapsed.has(g.category);
          return (
            <div className="dp-palette-group" key={g.category} role="treeitem" aria-expanded={open} data-testid={`palette-group-${g.category}`}>
              <div className="dp-group-title" onClick={() => toggle(g.category)}>
                <Codicon name={open ? 'chevron-down' : 'chevron-right'} />
                <Codicon name={(CATEGORY_ICON as Record<string, string>)[g.category] ?? 'symbol-misc'} />
                {g.category}
              </div>
              {open &&
                g.items.map((b) => (
                  <div
                    key={b.type}
                    className="dp-palette-item"
                    role="treeitem"
                    tabIndex={0}
                    draggable
                    title={`${b.title} (${b.type})\n\n${b.doc}${b.paper ? `\n\n${b.paper}` : ''}`}
                    data-testid={`palette-item-${b.type}`}
                    onDragStart={(e) => {
                      e.dataTransfer.setData(BLOCK_MIME, b.type);
                      e.dataTransfer.setData('text/plain', b.type);
                      e.dataTransfer.effectAllowed = 'copy';
                    }}
                    onClick={() => onAdd(b.type)}
                    onKeyDown={(e) => {
                      if (e.key === 'Enter' || e.key === ' ') {
                        e.preventDefault();
                        onAdd(b.type);
                      }
                    }}
                  >
                    <span className="dp-swatch" style={{ background: categoryColor(b) }} />
                    {b.title}
                  </div>
                ))}
            </div>
          );
        })}
      </div>
    </nav>
  );
});
