/** `dpipe demo`: runs the example pipelines on the bundled demo model and prints the images they wrote. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DpipeError } from '../../engine/core/errors';
import { EXIT, options, defineCommand } from '../command';
import { loadFile, loadForRun, runWithProgress, seconds, shown } from './shared';

const USAGE = `Usage: dpipe demo [NAME…] [--out DIR] [--quiet]

Runs the example pipelines (examples/*.dpipe of this package; NAME picks some, e.g. euler-karras) and prints the
paths of the images. The main job, examples/demo.dpipe, runs first: the trained UNet (models/mnist_unet.onnx),
one grid row per digit class; the other examples run on the exact Gaussian-mixture model and the UNet. Each example writes into its own folder under the output folder.
Examples whose model file is not there (e.g. a model still being trained) are skipped with a note.

Options:
  --out DIR     output folder (default: dpipe-out/demo)
  -q, --quiet   no progress output
  -h, --help    this text`;

/** The package's examples/ folder: found upwards from this file (dist/cli.js or src/cli/commands/demo.ts). */
export function examplesDir(from = __dirname): string {
  for (let d = from; ; d = path.dirname(d)) {
    const cand = path.join(d, 'examples');
    if (fs.existsSync(path.join(d, 'package.json')) && fs.existsSync(cand)) return cand;
    if (path.dirname(d) === d) throw new DpipeError('E_FILE_MISSING', `cannot find the examples/ folder above ${from}`);
  }
}

/** The main job: the trained UNet, one grid row per class. It runs first, so its grid is the first path printed. */
export const MAIN_EXAMPLE = 'demo.dpipe';

export function exampleFiles(dir: string): string[] {
  const names = fs.readdirSync(dir).filter((f) => f.endsWith('.dpipe')).sort();
  return [...names.filter((f) => f === MAIN_EXAMPLE), ...names.filter((f) => f !== MAIN_EXAMPLE)].map((f) => path.join(dir, f));
}

export const demoCommand = defineCommand({
  name: 'demo',
  summary: 'run the example pipelines on the demo model; prints the image paths (dpipe-out/demo/)',
  usage: USAGE,
  cancellable: true,
  options: options(['out'], ['quiet']),
  async run({ values, positionals }, io) {
    const dir = examplesDir();
    let files = exampleFiles(dir);
    if (positionals.length) {
      const names = files.map((f) => path.basename(f, '.dpipe'));
      for (const p of positionals) {
        if (!names.includes(p)) throw new DpipeError('E_USAGE', `dpipe demo: no example "${p}"; the examples are ${names.join(', ')}`);
      }
      files = files.filter((f) => positionals.includes(path.basename(f, '.dpipe')));
    }
    const outRoot = path.resolve(io.cwd, values.out ?? path.join('dpipe-out', 'demo'));
    let ran = 0;
    for (const file of files) {
      const name = path.basename(file, '.dpipe');
      const { problems } = loadFile(io, file);
      const errors = problems.filter((p) => p.severity === 'error');
      const missingModel = errors.length > 0 && errors.every((p) => p.code === 'E_FILE_MISSING' && /\.onnx\b/.test(p.message));
      if (missingModel) {
        io.err(`${name}: skipped, its model is not there yet (${errors[0].message})\n`);
        continue;
      }
      const { doc, abs } = loadForRun(io, file);
      if (!values.quiet) io.err(`${name}: ${doc.metadata.title ?? ''}\n`);
      // Progress bars on a terminal only: plain per-step lines for six examples would bury the image paths.
      const res = await runWithProgress(io, doc, { baseDir: path.dirname(abs), file: abs, outDir: path.join(outRoot, name), outMode: 'force' }, values.quiet === true || !io.isTTY);
      if (res.status === 'aborted') {
        io.err(`stopped; what was written is in ${shown(io, path.join(outRoot, name))}\n`);
        return EXIT.INTERRUPTED;
      }
      const pngs = res.outputs.filter((o) => o.kind === 'png' && o.path);
      const grids = pngs.filter((o) => /-grid\.png$/.test(o.file));
      for (const o of grids.length ? grids : pngs) io.out(`${shown(io, o.path!)}\n`);
      if (!values.quiet) io.err(`${name}: ${res.record.nfe} model evaluations in ${seconds(res.record.timings.totalMs)}\n`);
      ran++;
    }
    if (ran === 0) throw new DpipeError('E_FILE_MISSING', `no example could run: the demo model is missing (expected under ${shown(io, path.join(dir, '..', 'models'))})`);
    return EXIT.OK;
  },
});
