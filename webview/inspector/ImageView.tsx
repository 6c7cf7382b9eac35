/**
 * One latent plane drawn on a canvas with `render.ts` (the same code as the PNG export), shown at an integer
 * nearest-neighbour zoom (`image-rendering: pixelated`), with the values under the cursor.
 */
import { memo, useEffect, useMemo, useRef, useState } from 'react';
import { renderView, type ViewOptions } from '../../src/engine/inspect/render';

export interface ImageViewProps {
  readonly label: string;
  readonly data?: Float32Array;
  readonly shape?: readonly number[];
  readonly item: number | 'grid';
  readonly view: ViewOptions;
  readonly zoom: number;
  readonly testId: string;
  /** Shown instead of the image (loading, not available). */
  readonly placeholder?: string;
  /** A second caption line (e.g. which evaluation of run B is shown). */
  readonly caption?: string;
}

export interface Hover {
  readonly b: number;
  readonly x: number;
  readonly y: number;
  readonly values: number[];
}

/** Maps a pixel of the rendered image back to (item, row, column); undefined on padding/gaps. */
export function locate(shape: readonly number[], item: number | 'grid', view: ViewOptions, px: number, py: number): { b: number; x: number; y: number } | undefined {
  const [B, C, H, W] = shape;
  const tiles = view.channels === 'tile' ? C : 1;
  const tw = tiles * W + (tiles - 1) * (tiles > 1 ? 1 : 0);
  let b = typeof item === 'number' ? item : 0;
  let lx = px;
  let ly = py;
  if (item === 'grid') {
    const cols = Math.min(B, Math.ceil(Math.sqrt(B)));
    const pad = 2;
    const col = Math.floor((px - pad) / (tw + pad));
    const row = Math.floor((py - pad) / (H + pad));
    lx = px - pad - col * (tw + pad);
    ly = py - pad - row * (H + pad);
    b = row * cols + col;
    if (col < 0 || col >= cols || b >= B || lx < 0 || lx >= tw || ly < 0 || ly >= H) return undefined;
  }
  if (tiles > 1) {
    const t = Math.floor(lx / (W + 1));
    lx -= t * (W + 1);
    if (lx >= W) return undefined;
  }
  if (lx < 0 || ly < 0 || lx >= W || ly >= H) return undefined;
  return { b, x: lx, y: ly };
}

export const ImageView = memo(function ImageView(p: ImageViewProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [hover, setHover] = useState<Hover | undefined>();
  const img = useMemo(() => (p.data && p.shape ? renderView(p.data, p.shape, p.item, p.view) : undefined), [p.data, p.shape, p.item, p.view]);

  useEffect(() => {
    const c = canvas.current;
    if (!c || !img) return;
    c.width = img.width;
    c.height = img.height;
    const ctx = c.getContext('2d');
    ctx?.putImageData(new ImageData(new Uint8ClampedArray(img.data), img.width, img.height), 0, 0);
  }, [img]);

  const onMove = (e: React.MouseEvent<HTMLCanvasElement>) => {
    if (!img || !p.data || !p.shape) return;
    const r = e.currentTarget.getBoundingClientRect();
    const px = Math.floor(((e.clientX - r.left) / r.width) * img.width);
    const py = Math.floor(((e.clientY - r.top) / r.height) * img.height);
    const at = locate(p.shape, p.item, p.view, px, py);
    if (!at) return setHover(undefined);
    const [, C, H, W] = p.shape;
    const values = Array.from({ length: C }, (_, c) => p.data![((at.b * C + c) * H + at.y) * W + at.x]);
    setHover({ ...at, values });
  };

  return (
    <figure className="image-view" data-testid={p.testId}>
      <figcaption>
        {p.label}
        {p.caption && (
          <span className="caption muted" data-testid={`${p.testId}-caption`}>
            {p.caption}
          </span>
        )}
      </figcaption>
      {img ? (
        <canvas
          ref={canvas}
          style={{ width: img.width * p.zoom, height: img.height * p.zoom }}
          onMouseMove={onMove}
          onMouseLeave={() => setHover(undefined)}
          data-testid={`${p.testId}-canvas`}
        />
      ) : (
        <div className="placeholder">{p.placeholder ?? 'Loading…'}</div>
      )}
      <div className="hover" data-testid={`${p.testId}-hover`}>
        {hover ? `item ${hover.b} (x ${hover.x}, y ${hover.y}): ${hover.values.map((v, c) => `c${c} ${fmt(v)}`).join('  ')}` : '\u00a0'}
      </div>
    </figure>
  );
});

export function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(3) : v.toFixed(4);
}
