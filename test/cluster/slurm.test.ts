/**
 * The Slurm path for real: a one-node cluster on this machine (scripts/slurm-setup.sh: munge, slurmctld, slurmd from
 * Debian's slurm-wlm), a 4-task job array of examples/cluster/slurm-grid.sh running the built `dpipe grid --shard`,
 * then `dpipe merge`, compared with the unsharded grid file by file (timings aside).
 *
 * Runs when DPIPE_SLURM=1 (.ci/run sets it after installing the packages); then a Slurm that cannot start or run
 * the array is a failure, not a skip. Daemons this test started are stopped afterwards.
 */
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { GridFile } from '../../src/engine/grid/result';
import { ROOT, assertSameFolder, dpipeIn } from '../grid/helpers';

const ENABLED = process.env.DPIPE_SLURM === '1';
const SETUP = path.join(ROOT, 'scripts', 'slurm-setup.sh');
const SCRIPT = path.join(ROOT, 'examples', 'cluster', 'slurm-grid.sh');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const GRID = [path.join(ROOT, 'examples', 'dpmpp-2m-karras.dpipe'), '--axis', 'solver=solver.euler,solver.dpmpp_2m,solver.unipc', '--axis', 'sched.steps=4,8', '--seeds', '0-3', '--set', 'image.gridColumns=2', '--reference', '--rtol', '1e-4', '-q'];

function slurmEnv(): NodeJS.ProcessEnv {
  const conf = execFileSync('bash', [SETUP, 'env'], { encoding: 'utf8' }).trim().replace(/^SLURM_CONF=/, '');
  return { ...process.env, SLURM_CONF: conf };
}

function slurmUp(env: NodeJS.ProcessEnv): boolean {
  const r = spawnSync('sinfo', ['-h', '-o', '%T'], { env, encoding: 'utf8', timeout: 10000 });
  return r.status === 0 && /idle|mixed|allocated/.test(r.stdout);
}

describe('cluster: a Slurm job array of grid shards merges to the unsharded grid (DPIPE_SLURM=1)', function () {
  this.timeout(240000);
  let env: NodeJS.ProcessEnv;
  let started = false;
  let tmp: string;

  before(function () {
    if (!ENABLED) this.skip();
    env = slurmEnv();
    if (!slurmUp(env)) {
      const r = spawnSync('bash', [SETUP, 'start'], { env, encoding: 'utf8', timeout: 90000 });
      assert.equal(r.status, 0, `Slurm did not start:\n${r.stdout}\n${r.stderr}`);
      started = true;
    }
    assert.ok(slurmUp(env), 'sinfo shows no idle node');
    if (!fs.existsSync(CLI)) execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'pipe' });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-slurm-'));
  });

  after(() => {
    if (started) spawnSync('bash', [SETUP, 'stop'], { env, encoding: 'utf8', timeout: 30000 });
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('sbatch --array=0-3 runs dpipe grid --shard i/4 per task; dpipe merge gives the unsharded grid.json, grid.png and cells', async () => {
    const t0 = Date.now();
    const out = path.join(tmp, 'slurm');
    const logs = path.join(tmp, 'logs');
    fs.mkdirSync(logs);
    const sub = spawnSync('sbatch', ['--parsable', '--array=0-3', '--cpus-per-task=1', `--chdir=${ROOT}`, `--output=${logs}/task-%a.log`, SCRIPT, ...GRID, '--out', out], {
      env: { ...env, DPIPE: `${process.execPath} ${CLI}` },
      encoding: 'utf8',
      timeout: 30000,
    });
    assert.equal(sub.status, 0, `sbatch failed: ${sub.stderr}`);
    const job = sub.stdout.trim().split(';')[0];
    assert.match(job, /^\d+$/);
    // Wait (bounded) until the array has left the queue.
    const deadline = Date.now() + 150000;
    for (;;) {
      const q = spawnSync('squeue', ['-h', '-j', job, '-o', '%i %T'], { env, encoding: 'utf8', timeout: 10000 });
      if (q.status === 0 && q.stdout.trim() === '') break;
      assert.ok(Date.now() < deadline, `the array ${job} is still queued or running after 150 s:\n${q.stdout}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const taskLogs = [0, 1, 2, 3].map((i) => fs.readFileSync(path.join(logs, `task-${i}.log`), 'utf8'));
    taskLogs.forEach((l, i) => assert.match(l, new RegExp(`dpipe grid shard ${i}/4 on .*grid-shard-${i}-of-4\\.json`, 's'), l));
    const slurmSeconds = (Date.now() - t0) / 1000;

    const merged = await dpipeIn(['merge', out]);
    assert.equal(merged.code, 0, merged.err);
    const whole = path.join(tmp, 'whole');
    const r = await dpipeIn(['grid', ...GRID, '--out', whole]);
    assert.equal(r.code, 0, r.err);
    const n = assertSameFolder(whole, out, /^grid-shard-/);
    const grid = JSON.parse(fs.readFileSync(path.join(out, 'grid.json'), 'utf8')) as GridFile;
    assert.equal(grid.shards, 4);
    assert.equal(grid.cells.length, 6);
    assert.ok(n > 60, `compared ${n} files`);
    console.log(`      (Slurm array of 4 shards: ${slurmSeconds.toFixed(1)} s from sbatch to the last task's end)`);
  });
});
