/**
 * Issue 14 in the extension's own pieces (no VS Code): the runner ends a run whose runner speaks out of protocol,
 * reports a full disk as E_WRITE (not E_INTERNAL), gives every run its own folder; in restricted mode the loader,
 * "Open Pipeline from Image" and the inspector touch no path outside the workspace.
 */
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { analyzeText } from '../../extension/pipelineText';
import { pipelineFromImage } from '../../extension/fromImage';
import { RunnerCore } from '../../extension/runner/core';
import { RunnerHost } from '../../extension/runnerHost';
import { isInsideFolders, workspaceTrust } from '../../extension/trust';
import { locateRun } from '../../src/engine/inspect/reader';
import { addPngText, encodePng, PIPELINE_KEYWORD } from '../../src/engine/run/png';
import type { FromRunner, RunFinished } from '../../src/protocol';
import { makeWorkspace, pipelineText } from './runnerFixture';

const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

function runCore(text: string, file: string, outDir: string): Promise<RunFinished> {
  return new Promise((resolve) => {
    const core = new RunnerCore((m: FromRunner) => {
      if (m.type === 'runFinished') resolve(m);
    });
    core.handle({ type: 'run', runId: 'r', text, file, outDir, threads: 1, previewIntervalMs: 0, trajectoryMemoryMB: 1 });
  });
}

/** Records the paths given to fs.existsSync / statSync / readFileSync while `fn` runs. */
function touched<T>(fn: () => T): { result: T; paths: string[] } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fsm = require('node:fs') as Record<string, unknown>;
  const names = ['existsSync', 'statSync', 'readFileSync', 'lstatSync'];
  const orig = names.map((n) => fsm[n]);
  const paths: string[] = [];
  names.forEach((n, i) => {
    fsm[n] = (p: unknown, ...rest: unknown[]) => {
      paths.push(String(p));
      return (orig[i] as (...a: unknown[]) => unknown)(p, ...rest);
    };
  });
  try {
    return { result: fn(), paths };
  } finally {
    names.forEach((n, i) => (fsm[n] = orig[i]));
  }
}

describe('safety: the extension host and runner (issue 14)', function () {
  this.timeout(120_000);

  it('a runner message that fails validation ends the run with an error (never left "running")', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-badrunner-'));
    const fake = path.join(dir, 'runner.js');
    fs.writeFileSync(fake, `
      process.send({ type: 'ready', pid: process.pid, node: process.version });
      process.on('message', (m) => {
        if (m.type === 'run') process.send({ type: 'progress', runId: m.runId, nodeId: 's', index: 0, step: 0, sigma: 1, nfeDone: 'many', nfeTotal: 3 });
      });
      process.on('disconnect', () => process.exit(0));
    `);
    const host = new RunnerHost({ runnerPath: fake, log: silent });
    try {
      const h = host.run({ runId: 'x', text: '{}', file: path.join(dir, 'a.dpipe'), outDir: path.join(dir, 'out'), threads: 0, previewIntervalMs: 0, trajectoryMemoryMB: 0 });
      const r = await Promise.race([h.done, new Promise<undefined>((res) => setTimeout(() => res(undefined), 10_000))]);
      assert.ok(r, 'the run was left running');
      assert.equal(r.ok, false);
      assert.equal(r.error?.code, 'E_RUNNER');
      assert.match(r.error!.message, /sent an invalid message .*nfeDone.*the run was ended/);
      assert.equal(host.busy, false);
    } finally {
      await host.dispose();
    }
  });

  it('every run gets its own folder, even with the same name; the result names the folder used', async () => {
    const ws = makeWorkspace({ steps: 2 });
    try {
      const out = path.join(ws.dir, 'dpipe-out', '20260101-000000-000');
      const [a, b] = [await runCore(ws.text, ws.file, out), await runCore(ws.text, ws.file, out)];
      assert.ok(a.ok && b.ok, JSON.stringify([a.error, b.error]));
      assert.equal(a.outDir, out);
      assert.equal(b.outDir, `${out}-2`);
      assert.ok(b.outputs.every((o) => o.path.startsWith(`${out}-2${path.sep}`)));
    } finally {
      ws.cleanup();
    }
  });

  it('a full disk during a run is E_WRITE with what was written, not E_INTERNAL', function () {
    const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-tmpfs-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', mnt], { stdio: 'pipe' });
    } catch {
      fs.rmdirSync(mnt);
      this.skip();
    }
    const ws = makeWorkspace({ steps: 2, batch: 16 });
    return runCore(ws.text, ws.file, path.join(mnt, 'run'))
      .then((r) => {
        assert.equal(r.ok, false);
        assert.equal(r.error?.code, 'E_WRITE');
        assert.match(r.error!.message, /no space left on device \(ENOSPC\)\. Written in .*; not written: /);
      })
      .finally(() => {
        spawnSync('umount', [mnt]);
        fs.rmSync(mnt, { recursive: true, force: true });
        ws.cleanup();
      });
  });

  it('isInsideFolders: the workspace and below, nothing else', () => {
    assert.ok(isInsideFolders(['/w/a'], '/w/a'));
    assert.ok(isInsideFolders(['/w/a'], '/w/a/m/x.onnx'));
    assert.ok(!isInsideFolders(['/w/a'], '/w/ab/x.onnx'));
    assert.ok(!isInsideFolders(['/w/a'], '/w/a/../b/x.onnx'));
    assert.ok(!isInsideFolders([], '/w/a/x'));
    const t = workspaceTrust({ isTrusted: () => false, folders: () => ['/w/a'] }, 'no');
    assert.equal(t.untrustedReason(), 'no');
    assert.ok(t.mayTouch('/w/a/x') && !t.mayTouch('/elsewhere/x'));
    assert.ok(workspaceTrust({ isTrusted: () => true, folders: () => [] }, 'no').mayTouch('/elsewhere/x'));
  });

  it('restricted mode: opening a pipeline checks files inside the workspace only; one outside is not touched', () => {
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-restricted-'));
    const outside = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-outside-')), 'share', 'model.onnx');
    const text = JSON.stringify({
      dpipe: 1,
      nodes: [
        { id: 'far', type: 'model.onnx', params: { path: outside } },
        { id: 'near', type: 'model.onnx', params: { path: 'missing.onnx' } },
      ],
      edges: [],
    });
    const file = path.join(ws, 'p.dpipe');
    const trust = workspaceTrust({ isTrusted: () => false, folders: () => [ws] }, 'untrusted');
    const { result, paths } = touched(() => analyzeText(text, file, trust.mayTouch));
    assert.ok(!paths.some((p) => p.startsWith(path.dirname(path.dirname(outside)))), `touched ${paths.filter((p) => p.includes('outside')).join(', ')}`);
    assert.ok(paths.some((p) => p === path.join(ws, 'missing.onnx')), 'the file inside the workspace is checked');
    const far = result.problems.find((p) => p.nodeId === 'far' && p.code !== 'W_UNUSED');
    assert.equal(far?.code, 'W_UNCHECKED');
    assert.equal(far?.severity, 'warning');
    assert.equal(result.problems.find((p) => p.nodeId === 'near' && p.code === 'E_FILE_MISSING')?.severity, 'error');
    // Trusted: the same file is checked (and missing).
    const trusted = analyzeText(text, file, () => true);
    assert.equal(trusted.problems.find((p) => p.nodeId === 'far' && p.code !== 'W_UNUSED')?.code, 'E_FILE_MISSING');
  });

  it('restricted mode: "Open Pipeline from Image" and the inspector do not follow a run record out of the workspace', () => {
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-restricted-'));
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-outside-'));
    const run = path.join(ws, 'run');
    fs.mkdirSync(run);
    fs.writeFileSync(path.join(run, 'run.json'), JSON.stringify({ baseDir: outside, trajectory: { dir: path.join(outside, 'traj') } }));
    const png = addPngText(encodePng({ width: 1, height: 1, channels: 1, data: new Uint8Array(1) }), { [PIPELINE_KEYWORD]: pipelineText() });
    const mayTouch = workspaceTrust({ isTrusted: () => false, folders: () => [ws] }, 'untrusted').mayTouch;
    const { result, paths } = touched(() => pipelineFromImage(png, path.join(run, 'img.png'), () => false, mayTouch));
    assert.equal(path.dirname(result!.file), run, 'the pipeline stays beside the image');
    assert.ok(!paths.some((p) => p.startsWith(outside)), `touched ${paths.join(', ')}`);
    const trusted = pipelineFromImage(png, path.join(run, 'img.png'));
    assert.equal(path.dirname(trusted!.file), outside);
    const inspect = touched(() => assert.throws(() => locateRun(run, mayTouch), /outside the workspace; it is not opened in an untrusted workspace/));
    assert.ok(!inspect.paths.some((p) => p.startsWith(outside)), `touched ${inspect.paths.join(', ')}`);
  });
});
