/**
 * The runner process end to end, without VS Code: RunnerHost forks the bundled runner, runs a tiny exact
 * Gaussian-mixture ONNX pipeline, streams progress and previews, stops within one model evaluation, and reports
 * a killed runner; the next run forks a new one.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decode } from 'fast-png';
import { parseNpy } from '../../src/engine/core/npy';
import { loadPipeline } from '../../src/engine/format';
import { runPipeline } from '../../src/engine/run';
import { readPipelineFromPng } from '../../src/engine/run/png';
import type { RunPreview, RunProgress } from '../../src/protocol';
import { RunnerHost, type RunnerExit } from '../../extension/runnerHost';
import type { Logger } from '../../extension/log';
import { makeWorkspace, runnerBundle, pipelineText } from './runnerFixture';

function collectingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const add = (lvl: string) => (m: string) => void lines.push(`${lvl} ${m}`);
  return { lines, trace: add('trace'), debug: add('debug'), info: add('info'), warn: add('warn'), error: add('error') };
}

const base = { threads: 1, trajectoryMemoryMB: 8 };

describe('runner process (forked dist/runner.js)', function () {
  this.timeout(60_000);
  let ws: ReturnType<typeof makeWorkspace>;
  let host: RunnerHost;
  let log: ReturnType<typeof collectingLogger>;

  before(() => {
    runnerBundle();
    ws = makeWorkspace();
  });
  after(() => ws.cleanup());
  beforeEach(() => {
    log = collectingLogger();
    host = new RunnerHost({ runnerPath: runnerBundle(), log });
  });
  afterEach(async () => host.dispose());

  it('runs a pipeline: progress for every evaluation, previews, outputs identical to an in-process run', async () => {
    const progress: RunProgress[] = [];
    const previews: RunPreview[] = [];
    let started = 0;
    const outDir = path.join(ws.dir, 'out-a');
    const r = await host.run(
      { ...base, runId: 'a', text: ws.text, file: ws.file, outDir, previewIntervalMs: 1, progressIntervalMs: 0 },
      { onStarted: () => started++, onProgress: (m) => progress.push(m), onPreview: (m) => previews.push(m) },
    ).done;
    assert.equal(r.ok, true, JSON.stringify(r.error));
    assert.equal(r.stopped, false);
    assert.equal(started, 1);
    // Euler, 6 steps: one evaluation per step.
    assert.equal(r.nfe, 6);
    assert.deepEqual(progress.map((p) => p.nfeDone), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(progress.map((p) => p.nfeTotal), [6, 6, 6, 6, 6, 6]);
    assert.ok(progress.every((p, i) => p.nodeId === 'sample' && p.index === i));
    // σ descends along the Karras schedule from σmax = 20.
    assert.ok(Math.abs(progress[0].sigma - 20) < 1e-12, `σ0 = ${progress[0].sigma}`);
    assert.ok(progress.every((p, i) => i === 0 || p.sigma < progress[i - 1].sigma));

    // Previews: the host acks each, so with a 1 ms interval every evaluation gets one, ending with the last.
    assert.ok(previews.length >= 2, `previews: ${previews.length}`);
    const last = previews[previews.length - 1];
    assert.equal(last.index, 5);
    assert.deepEqual(previews.map((p) => p.seq), previews.map((_, i) => i + 1));
    const png = decode(Buffer.from(last.image.slice('data:image/png;base64,'.length), 'base64'));
    assert.equal(png.width, last.width);
    assert.equal(png.height, last.height);
    assert.ok(last.width > last.height, 'the batch of 2 is tiled in a row');

    // Files: PNGs carry the pipeline; run.json; the latent equals an in-process run of the same pipeline.
    const byKind = (k: string) => r.outputs.filter((o) => o.kind === k);
    assert.ok(byKind('png').length >= 1);
    for (const o of byKind('png')) {
      const text = readPipelineFromPng(fs.readFileSync(o.path));
      assert.ok(text && JSON.parse(text).nodes.length === 9, `${o.path} carries the pipeline`);
    }
    const record = JSON.parse(fs.readFileSync(byKind('json')[0].path, 'utf8'));
    assert.equal(record.nfe, 6);
    assert.equal(record.status, 'completed');
    const npy = byKind('npy')[0];
    const got = parseNpy(fs.readFileSync(npy.path), npy.path);
    const loaded = loadPipeline(ws.text, { file: ws.file });
    const ref = await runPipeline(loaded.doc!, { baseDir: ws.dir, trajectory: { record: false } });
    const refLatent = ref.values.get('sample')!.latent as { data: Float64Array; shape: number[] };
    assert.deepEqual(got.shape, refLatent.shape);
    assert.deepEqual(Array.from(got.data), Array.from(refLatent.data));
    assert.ok(r.outputs.every((o) => o.path.startsWith(outDir + path.sep)));
  });

  it('applies a seed override, and keeps the same runner (warm sessions) across runs', async () => {
    const run = async (runId: string, seed?: number) => {
      const r = await host.run({ ...base, runId, text: ws.text, file: ws.file, outDir: path.join(ws.dir, `out-${runId}`), seed, previewIntervalMs: 0 }).done;
      assert.equal(r.ok, true, JSON.stringify(r.error));
      const npy = r.outputs.find((o) => o.kind === 'npy')!;
      return Array.from(parseNpy(fs.readFileSync(npy.path), npy.path).data);
    };
    const a = await run('s1');
    const pid = host.pid;
    const b = await run('s2', 1); // the pipeline's own seed is 1
    const c = await run('s3', 7);
    assert.equal(host.pid, pid, 'one runner process for all runs');
    assert.deepEqual(b, a);
    assert.notDeepEqual(c, a);
    const loaded = loadPipeline(ws.text, { file: ws.file });
    const ref = await runPipeline(loaded.doc!, { baseDir: ws.dir, seed: 7, trajectory: { record: false } });
    assert.deepEqual(c, Array.from((ref.values.get('sample')!.latent as { data: Float64Array }).data));
  });

  it('stops within one model evaluation of the request', async () => {
    const text = pipelineText({ steps: 400 });
    let handle: ReturnType<RunnerHost['run']> | undefined;
    let stopAt = 0;
    handle = host.run(
      { ...base, runId: 'stop', text, file: ws.file, outDir: path.join(ws.dir, 'out-stop'), previewIntervalMs: 0, progressIntervalMs: 0 },
      {
        onProgress: (m) => {
          if (m.nfeDone === 5 && !stopAt) {
            stopAt = m.nfeDone;
            handle!.stop();
          }
        },
      },
    );
    const r = await handle.done;
    assert.equal(r.stopped, true);
    assert.equal(r.ok, false);
    assert.equal(r.error, undefined);
    assert.ok(r.nfeAtStop !== undefined && r.nfeAtStop >= stopAt, `nfeAtStop ${r.nfeAtStop}`);
    assert.ok(r.nfe - r.nfeAtStop! <= 1, `ran ${r.nfe - r.nfeAtStop!} evaluations after the stop arrived`);
    assert.ok(r.nfe < 400);
    // The runner survives a stop and runs again.
    const again = await host.run({ ...base, runId: 'after-stop', text: ws.text, file: ws.file, outDir: path.join(ws.dir, 'out-after'), previewIntervalMs: 0 }).done;
    assert.equal(again.ok, true);
  });

  it('reports a killed runner with the reason, and the next run forks a new one', async () => {
    const exits: RunnerExit[] = [];
    host.onDidExit((e) => exits.push(e));
    const text = pipelineText({ steps: 2000 });
    let killedPid: number | undefined;
    const r = await host.run(
      { ...base, runId: 'kill', text, file: ws.file, outDir: path.join(ws.dir, 'out-kill'), previewIntervalMs: 0, progressIntervalMs: 0 },
      {
        onProgress: (m) => {
          if (m.nfeDone === 3 && !killedPid) {
            killedPid = host.pid;
            process.kill(killedPid!, 'SIGKILL');
          }
        },
      },
    ).done;
    assert.equal(r.ok, false);
    assert.equal(r.stopped, false);
    assert.equal(r.error?.code, 'E_RUNNER');
    assert.match(r.error!.message, /^The dpipe runner process was killed by SIGKILL\..*the next run starts a new runner\.$/);
    assert.ok(r.nfe >= 3);
    assert.equal(exits.length, 1);
    assert.equal(exits[0].expected, false);
    assert.equal(exits[0].signal, 'SIGKILL');
    assert.ok(log.lines.some((l) => l.startsWith('error runner: The dpipe runner process was killed by SIGKILL')));

    const next = await host.run({ ...base, runId: 'next', text: ws.text, file: ws.file, outDir: path.join(ws.dir, 'out-next'), previewIntervalMs: 0 }).done;
    assert.equal(next.ok, true, JSON.stringify(next.error));
    assert.notEqual(host.pid, killedPid);
  });

  it('reports a pipeline with problems as a failed run, and refuses a second concurrent run', async () => {
    const bad = ws.text.replace('"solver.euler"', '"solver.nope"');
    const r = await host.run({ ...base, runId: 'bad', text: bad, file: ws.file, outDir: path.join(ws.dir, 'out-bad'), previewIntervalMs: 0 }).done;
    assert.equal(r.ok, false);
    assert.equal(r.error?.code, 'E_NODE_TYPE');
    assert.match(r.error!.message, /problem/);
    const h = host.run({ ...base, runId: 'one', text: ws.text, file: ws.file, outDir: path.join(ws.dir, 'out-one'), previewIntervalMs: 0 });
    assert.throws(() => host.run({ ...base, runId: 'two', text: ws.text, file: ws.file, outDir: path.join(ws.dir, 'out-two'), previewIntervalMs: 0 }), /already in progress/);
    assert.equal((await h.done).ok, true);
  });

  it('answers pings and rejects a runner that never starts', async () => {
    assert.deepEqual(await host.ping(), { busy: false });
    const bogus = path.join(ws.dir, 'silent.js');
    fs.writeFileSync(bogus, 'setTimeout(() => {}, 60000);');
    const silent = new RunnerHost({ runnerPath: bogus, log, startTimeoutMs: 300 });
    const r = await silent.run({ ...base, runId: 'x', text: ws.text, file: ws.file, outDir: ws.dir, previewIntervalMs: 0 }).done;
    assert.equal(r.error?.code, 'E_RUNNER');
    assert.match(r.error!.message, /did not start within 300 ms/);
    await silent.dispose();
  });
});
