import { strict as assert } from 'node:assert';
import { decode } from 'fast-png';
import { latent } from '../../src/engine/core/latent';
import { imageGrid, latentToImages } from '../../src/engine/nodes/image';
import { addPngText, encodePng, readPipelineFromPng, readPngText } from '../../src/engine/run/png';
import { DpipeError } from '../../src/engine/core/errors';

const PIPELINE = JSON.stringify({ dpipe: 1, metadata: { title: 'σ-Karras — “euler” ✓ 𝛼' }, nodes: [], edges: [] }, null, 2);

describe('run/png: the pipeline in a PNG text chunk', () => {
  const img = { width: 3, height: 2, channels: 3 as const, data: Uint8Array.from({ length: 18 }, (_, i) => i * 10) };

  it('round-trips UTF-8 pipeline text through iTXt, and the tEXt copy parses to the same JSON', () => {
    const png = encodePng(img, { dpipe: PIPELINE });
    assert.equal(readPipelineFromPng(png), PIPELINE);
    // A Latin-1-only reader (fast-png reads tEXt only) gets ASCII with \u escapes: same JSON value.
    const dec = decode(png);
    assert.match(dec.text.dpipe, /^[\x00-\x7f]*$/);
    assert.match(dec.text.dpipe, /\\u03c3-Karras/);
    assert.deepEqual(JSON.parse(dec.text.dpipe), JSON.parse(PIPELINE));
    // The pixels are untouched by the added chunks.
    assert.deepEqual(Array.from(dec.data), Array.from(img.data));
    assert.deepEqual([dec.width, dec.height, dec.channels], [3, 2, 3]);
  });

  it('places the text chunks right after IHDR with correct CRCs', () => {
    const png = addPngText(encodePng(img), { a: 'x', dpipe: '{}' });
    const types: string[] = [];
    let off = 8;
    const dv = new DataView(png.buffer, png.byteOffset);
    while (off < png.length) {
      const len = dv.getUint32(off);
      types.push(String.fromCharCode(...png.subarray(off + 4, off + 8)));
      off += 12 + len;
    }
    assert.deepEqual(types.slice(0, 5), ['IHDR', 'iTXt', 'tEXt', 'iTXt', 'tEXt']);
    assert.equal(types[types.length - 1], 'IEND');
    assert.doesNotThrow(() => decode(png, { checkCrc: true }));
    assert.deepEqual(readPngText(png), { a: 'x', dpipe: '{}' });
  });

  it('gives undefined for PNGs without a pipeline and for non-PNG bytes', () => {
    assert.equal(readPipelineFromPng(encodePng(img)), undefined);
    assert.equal(readPipelineFromPng(new TextEncoder().encode('not a png')), undefined);
  });
});

describe('nodes/image: latent → 8-bit images', () => {
  it('maps the value range linearly, clamps, and keeps 1 channel gray', () => {
    const x = latent([1, 1, 1, 5], Float64Array.from([-1, -0.5, 0, 1, 3]));
    const [im] = latentToImages(x, { valueRange: [-1, 1] });
    assert.equal(im.channels, 1);
    assert.deepEqual(Array.from(im.data), [0, 64, 128, 255, 255]);
  });

  it('3 channels become interleaved RGB; a projection maps C channels to RGB', () => {
    const x = latent([1, 3, 1, 2], Float64Array.from([0, 1, 0.5, 0.5, 1, 0]));
    assert.deepEqual(Array.from(latentToImages(x, { valueRange: [0, 1] })[0].data), [0, 128, 255, 255, 128, 0]);
    const four = latent([1, 4, 1, 1], Float64Array.from([1, 2, 3, 4]));
    // R = c0, G = (c1 + c3)/2, B = c2 − c0
    const proj = [1, 0, 0, 0, 0, 0.5, 0, 0.5, -1, 0, 1, 0];
    assert.deepEqual(Array.from(latentToImages(four, { valueRange: [0, 4], projection: proj })[0].data), [64, 191, 128]);
  });

  it('names what is allowed when the channels or the projection do not fit', () => {
    const four = latent([1, 4, 2, 2]);
    assert.throws(() => latentToImages(four, { valueRange: [-1, 1] }), (e: DpipeError) => e.code === 'E_PARAM_VALUE' && /3×4 matrix \(12 numbers/.test(e.message));
    assert.throws(() => latentToImages(four, { valueRange: [-1, 1], projection: [1, 2, 3] }), (e: DpipeError) => /got 3 numbers/.test(e.message));
    assert.throws(() => latentToImages(latent([4, 4]), { valueRange: [-1, 1] }), (e: DpipeError) => e.code === 'E_SHAPE');
    assert.throws(() => latentToImages(four, { valueRange: [1, 1], projection: new Array(12).fill(0) }), (e: DpipeError) => /lo < hi/.test(e.message));
  });

  it('upscales by nearest neighbour and tiles a grid with padding', () => {
    const x = latent([3, 1, 1, 2], Float64Array.from([0, 1, 1, 0, 0, 0]));
    const ims = latentToImages(x, { valueRange: [0, 1], scale: 2 });
    assert.deepEqual([ims[0].width, ims[0].height], [4, 2]);
    assert.deepEqual(Array.from(ims[0].data), [0, 0, 255, 255, 0, 0, 255, 255]);
    const g = imageGrid(ims, 2, 1);
    assert.deepEqual([g.width, g.height], [2 * 4 + 3, 2 * 2 + 3]);
    // Item 1 starts at (x = 1 + 4 + 1, y = 1): its first pixel is 255.
    assert.equal(g.data[1 * g.width + 6], 255);
    assert.equal(g.data[1 * g.width + 5], 0); // padding
  });
});
