import { strict as assert } from 'node:assert';
import { decode } from 'fast-png';
import { parseNpy } from '../../src/engine/core/npy';
import { contactSheet, renderItem, runGif, stepNpy, stepPng, subsample, TrajectoryReader, type ViewOptions } from '../../src/engine/inspect/index';
import { readPngText } from '../../src/engine/run/png';
import { tmpDir, writeHandTrajectory } from './helpers';

// [2, 4, 2, 3]: 2 items, 4 channels, 2×3 pixels; value = i + c/10 + p/100 (+1 for item 1)
const SHAPE = [2, 4, 2, 3];
const val = (i: number) => (k: number) => {
  const b = Math.floor(k / 24);
  const c = Math.floor((k % 24) / 6);
  const p = k % 6;
  return i * 0.1 + b + c / 10 + p / 100 - 1;
};

describe('inspect/render and exports', () => {
  let reader: TrajectoryReader;
  before(() => {
    const dir = tmpDir();
    writeHandTrajectory(dir, SHAPE, Array.from({ length: 7 }, (_, i) => ({ sigma: 7 - i, step: i, x: val(i), denoised: () => 0.5 })));
    reader = TrajectoryReader.open(dir);
  });

  it('renders a 4-channel latent: projection to RGB, one channel, tiles, fixed and per-channel ranges', () => {
    const data = reader.plane(0, 'x');
    const fixed: ViewOptions = { channels: 'auto', range: { mode: 'fixed', lo: -1, hi: 1 } };
    const img = renderItem(data, SHAPE, 0, fixed);
    assert.deepEqual([img.width, img.height], [3, 2]);
    // default projection: R = c0, G = c1, B = c2; item 0 pixel 0: c0 = −1 → 0, c1 = −0.9 → 13, c2 = −0.8 (float32: −0.80000001) → 25
    const byte = (v: number) => Math.round(((Math.fround(v) + 1) / 2) * 255);
    assert.deepEqual([...img.data.subarray(0, 4)], [0, byte(-0.9), byte(-0.8), 255]);
    assert.deepEqual([byte(-0.9), byte(-0.8)], [13, 25]);
    // R = c3 = −0.7 → 38, G = c0 = −1 → 0, B = 0 (zero row) → 127.5 → 128
    const proj = renderItem(data, SHAPE, 0, { ...fixed, channels: 'project', projection: [0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0] });
    assert.deepEqual([...proj.data.subarray(0, 3)], [38, 0, 128]);
    // channel 2 of item 1 as gray: values 0.2 + p/100 → (v + 1)/2·255
    const ch = renderItem(data, SHAPE, 1, { ...fixed, channels: 2 });
    assert.deepEqual([...ch.data.filter((_, k) => k % 4 === 0)], [0.2, 0.21, 0.22, 0.23, 0.24, 0.25].map((v) => Math.round(((Math.fround(v) + 1) / 2) * 255)));
    // per-channel normalization: each channel's min → 0, max → 255
    const norm = renderItem(data, SHAPE, 0, { channels: 'tile', range: { mode: 'channel' } });
    assert.deepEqual([norm.width, norm.height], [4 * 3 + 3, 2]);
    assert.deepEqual([norm.data[0], norm.data[4 * 2]], [0, 102]); // tile 0: p = 0 → 0; p = 2 → 2/5·255
    assert.deepEqual([norm.data[(3 + 1) * 4], norm.data[(1 * 15 + 4 + 2) * 4]], [0, 255]); // tile 1 starts at x = 4 (after a 1-pixel gap); p = 5 is row 1, column 2
    assert.equal(norm.data[3 * 4 + 3], 255);
  });

  it('exports a step as PNG (decoded back: pixels, size, text chunk) and as .npy (exact float32 values)', () => {
    const png = stepPng(reader, 3, { plane: 'x', item: 'grid', view: { channels: 0, range: { mode: 'fixed', lo: -1, hi: 1 } }, zoom: 2 });
    const img = decode(png);
    // grid of 2 items of 3×2 with 2 px padding (12×6), then zoomed ×2: 24×12
    assert.deepEqual([img.width, img.height, img.channels], [24, 12, 3]);
    const at = (x: number, y: number) => img.data[(y * 24 + x) * 3];
    assert.equal(at(4, 4), Math.round(((Math.fround(0.3 - 1) + 1) / 2) * 255)); // item 0, channel 0, pixel 0
    assert.equal(at(5, 5), at(4, 4), 'nearest-neighbour zoom');
    assert.equal(at(14, 4), Math.round(((Math.fround(0.3) + 1) / 2) * 255)); // item 1
    assert.equal(at(0, 0), 0);
    const meta = JSON.parse(readPngText(png)['dpipe-inspector']);
    assert.deepEqual([meta.eval, meta.sigma, meta.plane], [3, 4, 'x']);
    const npy = parseNpy(stepNpy(reader, 3, 'eps'));
    assert.deepEqual(npy.shape, SHAPE);
    assert.equal(npy.dtype, '<f4');
    assert.equal(npy.data[5], Math.fround((Math.fround(val(3)(5)) - 0.5) / 4));
  });

  it('exports the run as a contact sheet (tiles decoded back) and an animated GIF (one frame per evaluation)', () => {
    const sheet = decode(contactSheet(reader, { plane: 'x', item: 0, view: { channels: 1, range: { mode: 'fixed', lo: -1, hi: 1 } }, columns: 4 }));
    // 7 evaluations, 4 columns → 2 rows of 3×2 tiles, 4 px padding: 4·3 + 5·4 = 32 by 2·2 + 3·4 = 16
    assert.deepEqual([sheet.width, sheet.height], [32, 16]);
    for (let i = 0; i < 7; i++) {
      const x = 4 + (i % 4) * 7;
      const y = 4 + Math.floor(i / 4) * 6;
      assert.equal(sheet.data[(y * 32 + x) * 3], Math.round(((Math.fround(val(i)(6)) + 1) / 2) * 255), `tile ${i}`);
    }
    assert.equal(sheet.data[0], 40, 'background');
    const gif = runGif(reader, { plane: 'denoised', item: 'grid', view: { channels: 'auto', range: { mode: 'channel' } }, delayMs: 50 });
    assert.equal(Buffer.from(gif.subarray(0, 6)).toString('latin1'), 'GIF89a');
    let frames = 0;
    for (let k = 0; k + 3 < gif.length; k++) if (gif[k] === 0x21 && gif[k + 1] === 0xf9 && gif[k + 2] === 0x04) frames++;
    assert.equal(frames, 7);
    assert.equal(gif[gif.length - 1], 0x3b, 'GIF trailer');
  });

  it('subsamples long runs evenly, keeping the first and last', () => {
    assert.deepEqual(subsample(5, 10), [0, 1, 2, 3, 4]);
    assert.deepEqual(subsample(1000, 5), [0, 250, 500, 749, 999]);
    assert.deepEqual(subsample(10, 1), [9]);
  });
});
