/**
 * `--shard i/N` + `dpipe merge` = the unsharded run, bit for bit, for a grid, an eval and a sweep (on the exact GMM
 * demo model). "Bit for bit" covers every number, label, image and array; timings and dates are left out (see
 * `withoutTimings`): they describe how the work ran, and differ between two unsharded runs too.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decode } from 'fast-png';
import type { GridFile } from '../../src/engine/grid/result';
import { ROOT, assertSameFolder, dpipeIn, withoutTimings } from './helpers';

const GMM = path.join(ROOT, 'examples', 'dpmpp-2m-karras.dpipe');
const EULER = path.join(ROOT, 'examples', 'euler-karras.dpipe');
const GRID_ARGS = ['grid', GMM, '--axis', 'solver=solver.euler,solver.dpmpp_2m,solver.unipc', '--axis', 'sched.steps=3,6', '--seeds', '0-2', '--set', 'image.gridColumns=3', '--reference', '--rtol', '1e-4', '--atol', '1e-4', '-q'];

describe('shards: merged = unsharded, bit for bit', function () {
  this.timeout(300000);
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-shard-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('grid: 3 shards in their own folders, merged into a new one, equal the unsharded grid (grid.png, grid.json, every cell file)', async () => {
    const whole = path.join(tmp, 'whole');
    const r = await dpipeIn([...GRID_ARGS, '--out', whole]);
    assert.equal(r.code, 0, r.err);
    for (let i = 0; i < 3; i++) {
      const s = await dpipeIn([...GRID_ARGS, '--out', path.join(tmp, `s${i}`), '--shard', `${i}/3`]);
      assert.equal(s.code, 0, s.err);
      assert.deepEqual(fs.readdirSync(path.join(tmp, `s${i}`)).sort(), ['cells', `grid-shard-${i}-of-3.json`]);
      // Round robin: shard i has the cells c with c mod 3 = i.
      assert.deepEqual(fs.readdirSync(path.join(tmp, `s${i}`, 'cells')).map((d) => Number(d.slice(0, 3)) % 3), [i, i]);
    }
    // Merging needs every shard.
    const partial = await dpipeIn(['merge', path.join(tmp, 's0'), path.join(tmp, 's2'), '--out', path.join(tmp, 'partial')]);
    assert.equal(partial.code, 1);
    assert.match(partial.err, /error\[E_MERGE\]: shard 1\/3 missing/);
    const m = await dpipeIn(['merge', path.join(tmp, 's0'), path.join(tmp, 's1'), path.join(tmp, 's2'), '--out', path.join(tmp, 'merged')]);
    assert.equal(m.code, 0, m.err);
    assert.match(m.out, /solver=unipc, sched\.steps=6 +NFE +6 +error \d\.\d{3}e-\d/);
    const files = assertSameFolder(whole, path.join(tmp, 'merged'));
    assert.ok(files > 6 * 10, `compared only ${files} files`);

    const grid = JSON.parse(fs.readFileSync(path.join(whole, 'grid.json'), 'utf8')) as GridFile;
    assert.equal(grid.cells.length, 6);
    assert.deepEqual(grid.cells.map((c) => c.nfe), [3, 3, 3, 6, 6, 6]);
    assert.ok(grid.cells.every((c) => c.reference![0].final! > 0));
    // Higher-order solvers at 6 steps are closer to the reference than Euler.
    assert.ok(grid.cells[5].reference![0].final! < grid.cells[3].reference![0].final!);
    const png = decode(fs.readFileSync(path.join(whole, 'grid.png')));
    assert.equal(png.width, grid.image.width);
    assert.equal(png.height, grid.image.height);
  });

  it('grid: shards sharing one folder (as on a cluster) merge in place to the same result', async () => {
    const shared = path.join(tmp, 'shared');
    for (let i = 0; i < 2; i++) assert.equal((await dpipeIn([...GRID_ARGS, '--out', shared, '--shard', `${i}/2`])).code, 0);
    const m = await dpipeIn(['merge', shared]);
    assert.equal(m.code, 0, m.err);
    assertSameFolder(path.join(tmp, 'whole'), shared, /^grid-shard-/);
    const again = await dpipeIn(['merge', shared]);
    assert.equal(again.code, 1);
    assert.match(again.err, /E_OUT_EXISTS.*merged already/);
  });

  it('eval: 3 shards of 8 batches score to the unsharded report', async () => {
    const args = ['eval', GMM, '--samples', '20', '--batch', '5', '--repeats', '2', '--seed', '3', '-q'];
    const whole = await dpipeIn([...args, '--json']);
    assert.equal(whole.code, 0, whole.err);
    const dir = path.join(tmp, 'eval');
    for (let i = 0; i < 3; i++) {
      const s = await dpipeIn([...args, '--shard', `${i}/3`, '--out', dir]);
      assert.equal(s.code, 0, s.err);
    }
    const m = await dpipeIn(['merge', dir, '--json', '--out', path.join(tmp, 'eval.json')]);
    assert.equal(m.code, 0, m.err);
    const a = JSON.parse(whole.out);
    const b = JSON.parse(m.out);
    assert.deepEqual(withoutTimings(b), withoutTimings(a));
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(tmp, 'eval.json'), 'utf8')), b);
    assert.equal(a.samples, 20);
    assert.deepEqual(a.seeds, [3, 23]);
    assert.ok(a.fd.mean > 0 && a.accuracy.mean > 0.5, JSON.stringify(a.fd));
  });

  it('sweep: 2 shards of two pipelines merge to the unsharded errors and slopes', async () => {
    const args = ['sweep', GMM, EULER, '--steps', '4,8', '--rtol', '1e-4', '--atol', '1e-4'];
    const whole = await dpipeIn([...args, '--json']);
    assert.equal(whole.code, 0, whole.err);
    const dir = path.join(tmp, 'sweep');
    for (let i = 0; i < 2; i++) assert.equal((await dpipeIn([...args, '--shard', `${i}/2`, '--out', dir])).code, 0);
    const m = await dpipeIn(['merge', path.join(dir, 'sweep-shard-1-of-2.json'), path.join(dir, 'sweep-shard-0-of-2.json'), '--json']);
    assert.equal(m.code, 0, m.err);
    assert.deepEqual(JSON.parse(m.out), JSON.parse(whole.out));
    const mixed = await dpipeIn(['merge', dir, path.join(tmp, 'eval')]);
    assert.equal(mixed.code, 1);
    assert.match(mixed.err, /E_MERGE/);
  });
});
