/**
 * The labelled image grid of a grid run, drawn without a browser: the first axis runs along the columns, the second
 * down the rows, and every combination of the further axes makes a sub-grid below the previous one with its own
 * title line. Column and row headers carry the axis values; the corner names the axes. Text is drawn from the
 * "Seven plus" pixel font of `js-pixel-fonts` (7 px high, printable ASCII) at a whole-number scale, so labels stay
 * sharp and the PNG is the same bytes on every machine.
 */
import { fonts, renderPixels } from 'js-pixel-fonts';
import type { Image8 } from '../run/png';

/** A tile: the cell's image, or a text shown in its place (a failed cell). */
export type Tile = { readonly image: Image8 } | { readonly text: string };

export interface GridImageAxis {
  readonly name: string;
  readonly labels: readonly string[];
}

export interface GridImageOptions {
  readonly axes: readonly GridImageAxis[];
  /** One per cell, in cell order (first axis fastest). */
  readonly tiles: readonly Tile[];
  /** A line above everything (the pipeline's name). */
  readonly title?: string;
  /** Pixel size of one font pixel (default 2: 14 px text). */
  readonly textScale?: number;
}

const FONT = fonts.sevenPlus;
const BG = [255, 255, 255] as const;
const INK = [34, 34, 34] as const;
const MUTED = [110, 110, 110] as const;
const RED = [190, 30, 30] as const;
const RULE = [210, 210, 210] as const;
const GAP = 6;
const PAD = 8;

/** The text as the font can draw it: characters it has no glyph for become '?'. */
export function drawable(text: string): string {
  return [...text].map((c) => (FONT.glyphs[c] ? c : '?')).join('');
}

/** Pixel rows of a line of text at scale 1. */
function textPixels(text: string): number[][] {
  if (text === '') return [];
  return renderPixels(drawable(text), FONT) as number[][];
}

/** Width of a line of text in pixels at `scale`. */
export function textWidth(text: string, scale: number): number {
  const rows = textPixels(text);
  return rows.reduce((w, r) => Math.max(w, r.length), 0) * scale;
}

/** The longest prefix of `text` (with "..." when cut) that fits `width` pixels. */
export function fitText(text: string, width: number, scale: number): string {
  if (textWidth(text, scale) <= width) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (textWidth(text.slice(0, mid) + '...', scale) <= width) lo = mid;
    else hi = mid - 1;
  }
  return lo === 0 ? '' : text.slice(0, lo) + '...';
}

class Canvas {
  readonly data: Uint8Array;
  constructor(readonly width: number, readonly height: number) {
    this.data = new Uint8Array(width * height * 3);
    for (let i = 0; i < this.data.length; i += 3) {
      this.data[i] = BG[0];
      this.data[i + 1] = BG[1];
      this.data[i + 2] = BG[2];
    }
  }

  fill(x: number, y: number, w: number, h: number, c: readonly number[]): void {
    for (let yy = Math.max(0, y); yy < Math.min(this.height, y + h); yy++) {
      for (let xx = Math.max(0, x); xx < Math.min(this.width, x + w); xx++) {
        const o = (yy * this.width + xx) * 3;
        this.data[o] = c[0];
        this.data[o + 1] = c[1];
        this.data[o + 2] = c[2];
      }
    }
  }

  text(text: string, x: number, y: number, scale: number, c: readonly number[]): void {
    const rows = textPixels(text);
    rows.forEach((row, ry) => row.forEach((p, rx) => p && this.fill(x + rx * scale, y + ry * scale, scale, scale, c)));
  }

  image(img: Image8, x: number, y: number): void {
    for (let yy = 0; yy < img.height; yy++) {
      for (let xx = 0; xx < img.width; xx++) {
        const cx = x + xx;
        const cy = y + yy;
        if (cx < 0 || cy < 0 || cx >= this.width || cy >= this.height) continue;
        const s = (yy * img.width + xx) * img.channels;
        const o = (cy * this.width + cx) * 3;
        if (img.channels === 1) {
          this.data[o] = this.data[o + 1] = this.data[o + 2] = img.data[s];
        } else {
          this.data[o] = img.data[s];
          this.data[o + 1] = img.data[s + 1];
          this.data[o + 2] = img.data[s + 2];
        }
      }
    }
  }
}

/** Where each cell's tile sits in the image (for the grid view's click targets). */
export interface TileBox {
  readonly cell: number;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface GridImage extends Image8 {
  readonly boxes: readonly TileBox[];
}

/** Lays out and draws the grid. */
export function gridImage(opts: GridImageOptions): GridImage {
  const s = opts.textScale ?? 2;
  const lineH = FONT.lineHeight * s;
  const axes = opts.axes.length ? opts.axes : [{ name: '', labels: [''] }];
  const cols = axes[0];
  const rows = axes[1] ?? { name: '', labels: [''] };
  const sub = axes.slice(2);
  const nCols = cols.labels.length;
  const nRows = rows.labels.length;
  const nSub = sub.reduce((n, a) => n * a.labels.length, 1);
  const perSub = nCols * nRows;

  let tileW = 0;
  let tileH = 0;
  for (const t of opts.tiles) {
    if ('image' in t) {
      tileW = Math.max(tileW, t.image.width);
      tileH = Math.max(tileH, t.image.height);
    }
  }
  tileW = Math.max(tileW, 64);
  tileH = Math.max(tileH, 64);
  // Columns are as wide as the widest tile, or the label up to 3 tiles wide.
  const colW = Math.max(tileW, Math.min(3 * tileW, Math.max(...cols.labels.map((l) => textWidth(l, s)))));
  const rowLabelW = rows.name || rows.labels.some((l) => l) ? Math.min(360, Math.max(textWidth(rows.name, s), ...rows.labels.map((l) => textWidth(l, s)))) + PAD : 0;
  // Header: the column axis name over the columns, then its values; the row axis name sits left of the values.
  const nameH = cols.name ? lineH + PAD / 2 : 0;
  const headerH = nameH + (cols.labels.some((l) => l) || rows.name ? lineH + PAD : 0);
  const subTitleH = sub.length ? lineH + PAD : 0;
  const titleH = opts.title ? lineH + 2 * PAD : 0;
  const gridW = rowLabelW + nCols * (colW + GAP);
  const subH = subTitleH + headerH + nRows * (tileH + GAP);
  const width = PAD * 2 + Math.max(gridW, opts.title ? textWidth(opts.title, s) : 0, rowLabelW + textWidth(cols.name, s));
  const height = PAD + titleH + nSub * (subH + PAD);
  const cv = new Canvas(width, height);
  const boxes: TileBox[] = [];

  let y = PAD;
  if (opts.title) {
    cv.text(fitText(opts.title, width - 2 * PAD, s), PAD, y, s, INK);
    y += lineH + PAD;
    cv.fill(PAD, y, width - 2 * PAD, 1, RULE);
    y += PAD;
  }
  for (let k = 0; k < nSub; k++) {
    if (sub.length) {
      let r = k;
      const parts = sub.map((a) => {
        const i = r % a.labels.length;
        r = Math.floor(r / a.labels.length);
        return `${a.name}=${a.labels[i]}`;
      });
      cv.text(fitText(parts.join(', '), width - 2 * PAD, s), PAD, y, s, INK);
      y += subTitleH;
    }
    const x0 = PAD + rowLabelW;
    if (headerH) {
      if (cols.name) {
        const span = nCols * (colW + GAP) - GAP;
        const name = fitText(cols.name, span, s);
        cv.text(name, x0 + Math.max(0, Math.floor((span - textWidth(name, s)) / 2)), y, s, MUTED);
        cv.fill(x0, y + lineH + 1, span, 1, RULE);
        y += nameH;
      }
      if (rowLabelW && rows.name) cv.text(fitText(rows.name, rowLabelW - PAD, s), PAD, y, s, MUTED);
      for (let c = 0; c < nCols; c++) {
        const label = fitText(cols.labels[c], colW, s);
        const cx = x0 + c * (colW + GAP) + Math.max(0, Math.floor((colW - textWidth(label, s)) / 2));
        cv.text(label, cx, y, s, INK);
      }
      y += headerH - nameH;
    }
    for (let r = 0; r < nRows; r++) {
      const rowY = y + r * (tileH + GAP);
      if (rowLabelW) cv.text(fitText(rows.labels[r], rowLabelW - PAD, s), PAD, rowY + Math.floor((tileH - lineH) / 2), s, INK);
      for (let c = 0; c < nCols; c++) {
        const cell = k * perSub + r * nCols + c;
        const t = opts.tiles[cell];
        const cx = x0 + c * (colW + GAP);
        if (!t) continue;
        if ('image' in t) {
          const ox = cx + Math.floor((colW - t.image.width) / 2);
          const oy = rowY + Math.floor((tileH - t.image.height) / 2);
          cv.image(t.image, ox, oy);
          boxes.push({ cell, x: ox, y: oy, width: t.image.width, height: t.image.height });
        } else {
          cv.fill(cx, rowY, colW, tileH, [250, 235, 235]);
          cv.text(fitText(t.text, colW - 4, s), cx + 2, rowY + Math.floor((tileH - lineH) / 2), s, RED);
          boxes.push({ cell, x: cx, y: rowY, width: colW, height: tileH });
        }
      }
    }
    y += nRows * (tileH + GAP) + PAD;
  }
  return { width, height, channels: 3, data: cv.data, boxes };
}
