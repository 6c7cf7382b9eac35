/** `dpipe reference` and `dpipe sweep`, in-process through the CLI's main() on the demo model. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/command';
import { readReferenceFile, type SweepResult } from '../../src/engine/inspect/index';
import { tmpDir } from './helpers';

const ROOT = path.resolve(__dirname, '../..');

async function dpipe(args: string[], cwd = ROOT): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = { out: (t) => (out += t), err: (t) => (err += t), isTTY: false, columns: 80, cwd, signal: new AbortController().signal };
  const code = await main(args, io);
  return { code, out, err };
}

describe('inspect/cli: dpipe reference and dpipe sweep', function () {
  this.timeout(60_000);

  it('dpipe reference writes reference.json for a recorded run and prints the final error', async () => {
    const dir = tmpDir('inspect-cli');
    const run = path.join(dir, 'run');
    const r0 = await dpipe(['run', 'examples/euler-karras.dpipe', '--out', run, '--set', 'sched.steps=6', '--batch', '2', '-q']);
    assert.equal(r0.code, 0, r0.err);
    const r = await dpipe(['reference', run, '--rtol', '1e-3', '--atol', '1e-3']);
    assert.equal(r.code, 0, r.err);
    const file = readReferenceFile(run)!;
    assert.equal(file.errors.length, 1);
    assert.equal(file.errors[0].perEval.length, 6);
    assert.match(r.out, new RegExp(`sample: final error ${file.errors[0].final!.toExponential(4).replace('+', '\\+')}`));
    assert.ok(fs.existsSync(path.join(run, 'reference-final-sample.npy')));
    const bad = await dpipe(['reference', run, '--method', 'rk4']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--method must be dopri5 or pipeline/);
  });

  it('dpipe sweep prints error vs NFE per pipeline and writes the JSON the inspector draws', async () => {
    const dir = tmpDir('inspect-cli');
    const out = path.join(dir, 'sweep.json');
    const r = await dpipe(['sweep', 'examples/dpmpp-2m-karras.dpipe', 'examples/heun.dpipe', '--steps', '3,6', '--rtol', '1e-3', '--atol', '1e-3', '--out', out]);
    assert.equal(r.code, 0, r.err);
    const res = JSON.parse(fs.readFileSync(out, 'utf8')) as SweepResult;
    assert.deepEqual(res.series.map((s) => s.label), ['dpmpp-2m-karras', 'heun']);
    assert.deepEqual(res.series[0].points.map((p) => p.nfe), [3, 6]);
    assert.ok(res.series[1].points[0].nfe > 3, 'Heun: more than one evaluation per step');
    assert.match(r.out, /dpmpp-2m-karras \(sample; reference dopri5 rtol=0.001/);
    const usage = await dpipe(['sweep', 'examples/heun.dpipe']);
    assert.equal(usage.code, 2);
    assert.match(usage.err, /--steps is required/);
  });
});
