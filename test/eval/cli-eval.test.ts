import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/command';

const fixture = path.join(__dirname, 'fixtures', 'gmm-cfg.dpipe');

async function dpipe(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    isTTY: false,
    columns: 80,
    cwd: path.join(__dirname, '..', '..'),
    signal: new AbortController().signal,
  };
  const code = await main(args, io);
  return { code, out, err };
}

describe('dpipe eval (end to end on the exact GMM demo model)', () => {
  it('prints FD, accuracy, NFE and wall time; --repeats gives mean ± std and per-seed values', async () => {
    const r = await dpipe(['eval', fixture, '--samples', '20', '--batch', '10', '--repeats', '2']);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n');
    assert.match(lines[0], /^FD-MNIST {2}test\/eval\/fixtures\/gmm-cfg\.dpipe: 20 samples × 2 seed ranges, batch 10, seeds from 0$/);
    assert.match(lines[1], /^FD {9}\d+\.\d{3} ± \d+\.\d{3} {2}\(per seed: \d+\.\d{3}, \d+\.\d{3}\) {3}\[floor, real vs real \(998 vs 998\): 0\.\d{3}\]$/);
    assert.match(lines[2], /^accuracy {3}\d+\.\d ± \d+\.\d% {2}\(per seed: \d+\.\d, \d+\.\d\)$/);
    assert.equal(lines[3], 'NFE        6 per sample');
    assert.match(lines[4], /^wall time {2}\d+\.\d ± \d+\.\d s per 20 samples \(model \d+\.\d ± \d+\.\d ms per evaluation at batch 10\)$/);
  });

  it('--json: seeds S + r·N, labels cycled, one NFE count, FD independent of the batch size', async () => {
    const a = await dpipe(['eval', fixture, '--samples', '20', '--batch', '10', '--seed', '5', '--repeats', '2', '--json']);
    assert.equal(a.code, 0, a.err);
    const ra = JSON.parse(a.out);
    assert.deepEqual(ra.seeds, [5, 25]);
    assert.equal(ra.labels, 'cycle');
    assert.equal(ra.nfe, 6);
    assert.equal(ra.samples, 20);
    assert.equal(ra.runs[0].modelCalls, 12); // 2 batches × 6 evaluations
    assert.equal(ra.fd.values.length, 2);
    assert.ok(ra.fd.std > 0);
    // CFG 3 on an exact mixture of training digits: samples are clean digits of the asked class
    assert.ok(ra.accuracy.mean >= 0.9, `accuracy ${ra.accuracy.mean}`);
    assert.ok(ra.fd.mean > ra.floor.fd, `FD ${ra.fd.mean} vs floor ${ra.floor.fd}`);
    const b = await dpipe(['eval', fixture, '--samples', '20', '--batch', '20', '--seed', '5', '--json']);
    const rb = JSON.parse(b.out);
    assert.ok(Math.abs(rb.fd.mean - ra.fd.values[0]) < 1e-6 * ra.fd.values[0], `${rb.fd.mean} vs ${ra.fd.values[0]}`);
  });

  it('--keep-labels scores against the pipeline\'s own label (3 for every sample)', async () => {
    const r = await dpipe(['eval', fixture, '--samples', '10', '--keep-labels', '--json']);
    const rep = JSON.parse(r.out);
    assert.equal(rep.labels, 'pipeline');
    assert.ok(rep.accuracy.mean >= 0.9);
    const wrong = await dpipe(['eval', fixture, '--samples', '10', '--keep-labels', '--set', 'label.label=8', '--set', 'guider.scale=1', '--json']);
    assert.ok(JSON.parse(wrong.out).accuracy.mean >= 0.9, 'label 8 asked and scored as 8');
  });

  it('exit 1 with the error code on a bad pipeline, 2 on a bad command line', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-eval-'));
    const bad = path.join(dir, 'bad.dpipe');
    fs.writeFileSync(bad, fs.readFileSync(fixture, 'utf8').replace('"solver.euler"', '"solver.nope"'));
    const r = await dpipe(['eval', bad, '--samples', '10']);
    assert.equal(r.code, 1);
    assert.match(r.err, /E_NODE_TYPE/);
    assert.equal(r.out, '');
    const u = await dpipe(['eval', fixture]);
    assert.equal(u.code, 2);
    assert.match(u.err, /--samples N is required/);
    const one = await dpipe(['eval', fixture, '--samples', '1']);
    assert.equal(one.code, 2);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
