/**
 * Exports from a trajectory: one evaluation's plane as PNG (as the inspector shows it, `render.ts`) or as .npy
 * (float32 [B, C, H, W], the raw values), and the whole run as an animated GIF or a contact-sheet PNG (a grid of
 * evaluations, each tile the chosen item or the batch grid).
 *
 * GIF: `gifenc` (pnnquant2 palette per frame, 256 colours), `delayMs` per frame, looping. Long runs are subsampled
 * to at most `maxFrames` evaluations, evenly, always keeping the last.
 */
import { GIFEncoder, applyPalette, quantize } from 'gifenc';
import { DpipeError } from '../core/errors';
import { encodeNpy } from '../core/npy';
import { encodePng } from '../run/png';
import type { TrajectoryReader } from './reader';
import { gridRgba, renderView, rgbaToRgb, zoomRgba, type Rgba, type ViewOptions } from './render';

export interface FrameExportOptions {
  readonly plane: string;
  readonly item: number | 'grid';
  readonly view: ViewOptions;
  /** Nearest-neighbour zoom (default 1). */
  readonly zoom?: number;
}

/** PNG text chunk keyword carrying what was exported (run, evaluation, σ, plane). */
export const EXPORT_KEYWORD = 'dpipe-inspector';

function rgbaOf(reader: TrajectoryReader, i: number, o: FrameExportOptions): Rgba {
  const shape = reader.shapeOf(i);
  if (o.item !== 'grid' && (!Number.isInteger(o.item) || o.item < 0 || o.item >= shape[0])) {
    throw new DpipeError('E_PARAM_VALUE', `batch item ${o.item}; this run has items 0–${shape[0] - 1}`);
  }
  return zoomRgba(renderView(reader.plane(i, o.plane), shape, o.item, o.view), Math.max(1, Math.floor(o.zoom ?? 1)));
}

export function pngOf(img: Rgba, text: Record<string, string> = {}): Uint8Array {
  return encodePng({ width: img.width, height: img.height, channels: 3, data: rgbaToRgb(img) }, text);
}

/** Evaluation i's plane as the inspector draws it, as PNG bytes. */
export function stepPng(reader: TrajectoryReader, i: number, o: FrameExportOptions): Uint8Array {
  const m = reader.meta(i);
  return pngOf(rgbaOf(reader, i, o), { [EXPORT_KEYWORD]: JSON.stringify({ run: reader.name, eval: i, step: m.step, sigma: m.sigma, role: m.role, plane: o.plane, item: o.item }) });
}

/** Evaluation i's plane as float32 .npy [B, C, H, W]. */
export function stepNpy(reader: TrajectoryReader, i: number, plane: string): Uint8Array {
  return encodeNpy(reader.shapeOf(i), reader.plane(i, plane));
}

/** At most `max` indices out of 0..n−1, evenly spaced, first and last included. */
export function subsample(n: number, max: number): number[] {
  if (n <= 0) return [];
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  if (max <= 1) return [n - 1];
  const out = new Set<number>();
  for (let k = 0; k < max; k++) out.add(Math.round((k * (n - 1)) / (max - 1)));
  return [...out];
}

export interface RunExportOptions extends FrameExportOptions {
  /** Evaluations to include (default: all, subsampled to `maxFrames`). */
  readonly evals?: readonly number[];
  /** Most frames/tiles (default GIF 200, contact sheet 64). */
  readonly maxFrames?: number;
}

function pick(reader: TrajectoryReader, o: RunExportOptions, defMax: number): number[] {
  const all = o.evals ?? Array.from({ length: reader.length }, (_, i) => i);
  if (all.length === 0) throw new DpipeError('E_PARAM_VALUE', 'the run has no evaluations to export');
  return subsample(all.length, o.maxFrames ?? defMax).map((k) => all[k]);
}

/** The run as an animated GIF (see the module comment). */
export function runGif(reader: TrajectoryReader, o: RunExportOptions & { readonly delayMs?: number }): Uint8Array {
  const gif = GIFEncoder();
  for (const i of pick(reader, o, 200)) {
    const img = rgbaOf(reader, i, o);
    const rgba = new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength);
    const palette = quantize(rgba, 256);
    gif.writeFrame(applyPalette(rgba, palette), img.width, img.height, { palette, delay: o.delayMs ?? 100 });
  }
  gif.finish();
  return gif.bytes();
}

/** The run as one PNG: a grid of evaluations (row by row, `columns` 0 = ⌈√n⌉). */
export function contactSheet(reader: TrajectoryReader, o: RunExportOptions & { readonly columns?: number }): Uint8Array {
  const picked = pick(reader, o, 64);
  const tiles = picked.map((i) => rgbaOf(reader, i, o));
  return pngOf(gridRgba(tiles, o.columns ?? 0, 4, 40), { [EXPORT_KEYWORD]: JSON.stringify({ run: reader.name, evals: picked, plane: o.plane, item: o.item }) });
}
