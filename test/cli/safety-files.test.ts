/**
 * Issue 14, "never lose a user's file": every finding reproduced through the real `dpipe` command (dist/cli.js) —
 * run folders shared by two runs, `--out` into a used folder, links followed out of it, an output written over an
 * input of the run, a full disk during `run` and `fit` (a real tmpfs when this machine lets us mount one).
 */
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DpipeError } from '../../src/engine/core/errors';
import { RunFolder, writeFileAtomic } from '../../src/engine/run/files';
import { defaultOutDir } from '../../src/cli/commands/run';

const ROOT = path.resolve(__dirname, '../..');
/** DPIPE_TEST_CLI runs these tests against another build (e.g. an older one, to see each finding reproduce). */
const CLI = process.env.DPIPE_TEST_CLI ?? path.join(ROOT, 'dist', 'cli.js');

interface Ran {
  code: number | null;
  out: string;
  err: string;
}

function dpipe(args: string[], cwd: string): Ran {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A workspace with the img2img example (it reads examples/digit3.npy) and the mixture model, 4 steps, batch 2. */
function workspace(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-safety-'));
  fs.mkdirSync(path.join(dir, 'models'));
  fs.mkdirSync(path.join(dir, 'examples'));
  for (const f of ['mnist_gmm.onnx', 'mnist_gmm.onnx.json']) fs.copyFileSync(path.join(ROOT, 'models', f), path.join(dir, 'models', f));
  fs.copyFileSync(path.join(ROOT, 'examples', 'digit3.npy'), path.join(dir, 'examples', 'digit3.npy'));
  const text = fs.readFileSync(path.join(ROOT, 'examples', 'img2img.dpipe'), 'utf8').replace('"steps": 20', '"steps": 4').replace('"batch": 10', '"batch": 2');
  fs.writeFileSync(path.join(dir, 'examples', 'img2img.dpipe'), text);
  return dir;
}

const sha = (f: string) => fs.readFileSync(f).toString('base64');

/** Mounts a tmpfs of `kb` KiB (root only); undefined when the machine does not allow it. */
function tmpfs(kb: number): string | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k`, 'tmpfs', dir], { stdio: 'pipe' });
    return dir;
  } catch {
    fs.rmdirSync(dir);
    return undefined;
  }
}
function unmount(dir: string): void {
  spawnSync('umount', [dir]);
  fs.rmSync(dir, { recursive: true, force: true });
}
/** Fills a file system until it has no free byte left. */
function fill(dir: string): void {
  const fd = fs.openSync(path.join(dir, 'filler'), 'w');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch {
    // ENOSPC: full
  }
  try {
    for (;;) fs.writeSync(fd, chunk, 0, 1);
  } catch {
    // ENOSPC at the byte
  }
  fs.closeSync(fd);
}

describe('safety: run folders and user files (issue 14)', function () {
  this.timeout(240_000);

  before(() => {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'pipe' });
  });

  it('two runs in the same second never share a folder: the default folder is created atomically and unique', () => {
    const ws = workspace();
    // The folders the next seconds would get already exist and hold another run's files.
    const now = Date.now();
    const taken: string[] = [];
    for (let s = -1; s <= 20; s++) {
      const d = defaultOutDir(ws, 'examples/img2img.dpipe', new Date(now + s * 1000));
      fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(path.join(d, 'digits-0.png'), 'another run');
      taken.push(d);
    }
    const r = dpipe(['run', 'examples/img2img.dpipe', '-q'], ws);
    assert.equal(r.code, 0, r.err);
    for (const d of taken) assert.equal(fs.readFileSync(path.join(d, 'digits-0.png'), 'utf8'), 'another run', `${d} was written into`);
    const first = r.out.trim().split('\n')[0];
    assert.match(first, /^dpipe-out\/img2img-\d{8}-\d{6}-2\/digits-0\.png$/, `the run went to ${first}`);
    // In-process, the same name twice: two folders, both complete.
    const a = RunFolder.create(path.join(ws, 'same'), { mode: 'unique' });
    const b = RunFolder.create(path.join(ws, 'same'), { mode: 'unique' });
    assert.notEqual(a.dir, b.dir);
    assert.equal(path.basename(b.dir), 'same-2');
  });

  it('--out into a folder that holds files is refused (nothing written); --force replaces same-named files only', () => {
    const ws = workspace();
    const out = path.join(ws, 'out');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'digits-0.png'), 'mine');
    fs.writeFileSync(path.join(out, 'notes.txt'), 'keep me');
    const r = dpipe(['run', 'examples/img2img.dpipe', '--out', 'out', '-q'], ws);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /error\[E_WRITE\]: the output folder .*out is not empty; give a new folder, or --force/);
    assert.deepEqual(fs.readdirSync(out).sort(), ['digits-0.png', 'notes.txt']);
    assert.equal(fs.readFileSync(path.join(out, 'digits-0.png'), 'utf8'), 'mine');

    const f = dpipe(['run', 'examples/img2img.dpipe', '--out', 'out', '--force', '-q'], ws);
    assert.equal(f.code, 0, f.err);
    assert.notEqual(fs.readFileSync(path.join(out, 'digits-0.png'), 'utf8'), 'mine');
    assert.equal(fs.readFileSync(path.join(out, 'notes.txt'), 'utf8'), 'keep me');
    // An empty folder is fine without --force.
    fs.mkdirSync(path.join(ws, 'empty'));
    assert.equal(dpipe(['run', 'examples/img2img.dpipe', '--out', 'empty', '-q'], ws).code, 0);
  });

  it('never follows a link out of the output folder, even with --force', () => {
    const ws = workspace();
    const elsewhere = path.join(ws, 'elsewhere');
    fs.mkdirSync(elsewhere);
    fs.writeFileSync(path.join(elsewhere, 'victim.png'), 'precious');
    const out = path.join(ws, 'out');
    fs.mkdirSync(out);
    fs.symlinkSync(path.join(elsewhere, 'victim.png'), path.join(out, 'digits-0.png'));
    const r = dpipe(['run', 'examples/img2img.dpipe', '--out', 'out', '--force', '-q', '--no-trajectory'], ws);
    assert.equal(r.code, 0, r.err);
    assert.equal(fs.readFileSync(path.join(elsewhere, 'victim.png'), 'utf8'), 'precious', 'the link was followed');
    assert.ok(!fs.lstatSync(path.join(out, 'digits-0.png')).isSymbolicLink(), 'the link itself was replaced by the output');

    // A linked trajectory/ folder is refused before anything is written through it.
    const out2 = path.join(ws, 'out2');
    fs.mkdirSync(out2);
    fs.symlinkSync(elsewhere, path.join(out2, 'trajectory'));
    const t = dpipe(['run', 'examples/img2img.dpipe', '--out', 'out2', '--force', '-q'], ws);
    assert.equal(t.code, 1, t.err);
    assert.match(t.err, /trajectory is a symbolic link; dpipe does not follow links out of the output folder/);
    assert.deepEqual(fs.readdirSync(elsewhere), ['victim.png']);
  });

  it('never writes over an input of the run (--out . with an output named like the input .npy)', () => {
    const ws = workspace();
    const npy = path.join(ws, 'examples', 'digit3.npy');
    const before = sha(npy);
    const r = dpipe(['run', 'img2img.dpipe', '--out', '.', '--force', '--set', 'save.name=digit3', '-q'], path.join(ws, 'examples'));
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /digit3\.npy is an input of this run and was not overwritten/);
    assert.match(r.err, /Written in .*examples: digits-0\.png, digits-1\.png, digits-grid\.png, run\.json, trajectory\/ \(5 files\); not written: that file and any output after it\./);
    assert.equal(sha(npy), before, 'the input .npy changed');
    // The pipeline itself is an input too: re-running a dpipe PNG into its own folder does not overwrite it.
    const first = dpipe(['run', 'img2img.dpipe', '--out', 'one', '--batch', '1', '-q', '--no-trajectory'], path.join(ws, 'examples'));
    assert.equal(first.code, 0, first.err);
    const png = path.join(ws, 'examples', 'one', 'digits.png');
    const pngBefore = sha(png);
    const again = dpipe(['run', 'one/digits.png', '--out', 'one', '--force', '--batch', '1', '-q', '--no-trajectory'], path.join(ws, 'examples'));
    assert.equal(again.code, 1, again.err);
    assert.match(again.err, /digits\.png is an input of this run and was not overwritten/);
    assert.equal(sha(png), pngBefore);
  });

  it('a full disk during a run is a clear error (exit 1) saying what was written and what was not', function () {
    const fsDir = tmpfs(40);
    if (!fsDir) {
      console.log('      (mount -t tmpfs is not allowed here: the full-disk case is covered by the injected test below)');
      this.skip();
    }
    try {
      const ws = workspace();
      const r = dpipe(['run', path.join(ws, 'examples', 'img2img.dpipe'), '--out', path.join(fsDir!, 'run'), '--batch', '10', '--set', 'image.scale=8'], ws);
      assert.equal(r.code, 1, r.err);
      assert.doesNotMatch(r.err, /internal error|\n\s+at /);
      assert.match(r.err, /error\[E_WRITE\]: .* was not written: no space left on device \(ENOSPC\)\. Written in .*run: .*; not written: that file, any output after it, and run\.json\./);
    } finally {
      unmount(fsDir!);
    }
  });

  it('dpipe fit on a full disk leaves the pipeline byte for byte (atomic rewrite)', function () {
    const fsDir = tmpfs(64);
    if (!fsDir) this.skip();
    try {
      const ws = workspace();
      const file = path.join(fsDir!, 'p.dpipe');
      const text = fs.readFileSync(path.join(ws, 'examples', 'img2img.dpipe'), 'utf8').replace(/"\.\.\/models\//g, `"${path.join(ws, 'models')}/`).replace('"digit3.npy"', `"${path.join(ws, 'examples', 'digit3.npy')}"`);
      fs.writeFileSync(file, text);
      fill(fsDir!);
      const r = dpipe(['fit', 'gits', file, '--nfe', '3', '--samples', '2', '--fine', '7', '-q'], ws);
      assert.equal(r.code, 1, r.err);
      assert.match(r.err, /error\[E_WRITE\]: .*p\.dpipe was not written: no space left on device \(ENOSPC\); the file is unchanged/);
      assert.equal(fs.readFileSync(file, 'utf8'), text);
      assert.deepEqual(fs.readdirSync(fsDir!).sort(), ['filler', 'p.dpipe'], 'a temporary file was left behind');
    } finally {
      unmount(fsDir!);
    }
  });

  it('writeFileAtomic: a failed write keeps the old file and leaves no temporary file (injected failure)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-atomic-'));
    const file = path.join(dir, 'p.dpipe');
    fs.writeFileSync(file, 'old text');
    // A value the writer cannot serialize fails midway, after the temporary file was opened.
    const broken = new Proxy(new Uint8Array(10), { get: (t, k) => (k === 'length' ? 10 : k === 'byteLength' ? 10 : Reflect.get(t, k)) }) as Uint8Array;
    assert.throws(() => writeFileAtomic(file, broken), (e: unknown) => e instanceof DpipeError && e.code === 'E_WRITE' && /the file is unchanged/.test(e.message));
    assert.equal(fs.readFileSync(file, 'utf8'), 'old text');
    assert.deepEqual(fs.readdirSync(dir), ['p.dpipe']);
    writeFileAtomic(file, 'new text');
    assert.equal(fs.readFileSync(file, 'utf8'), 'new text');
    // A link at the target is replaced, not written through.
    const victim = path.join(dir, 'victim');
    fs.writeFileSync(victim, 'precious');
    fs.symlinkSync(victim, path.join(dir, 'link'));
    writeFileAtomic(path.join(dir, 'link'), 'x');
    assert.equal(fs.readFileSync(victim, 'utf8'), 'precious');
  });
});
