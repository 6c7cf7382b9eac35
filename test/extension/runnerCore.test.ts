/**
 * The runner's preview flow control, in-process: with no acknowledgements the runner sends one preview and keeps
 * only the newest evaluation waiting (plus the final one at the end), whatever the number of evaluations.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { RunnerCore, shrink } from '../../extension/runner/core';
import type { FromRunner, RunFinished } from '../../src/protocol';
import { validateFromRunner } from '../../src/protocol';
import { makeWorkspace, pipelineText } from './runnerFixture';

function runCore(text: string, file: string, outDir: string, ack: boolean): Promise<FromRunner[]> {
  return new Promise((resolve) => {
    const sent: FromRunner[] = [];
    const core: RunnerCore = new RunnerCore((m) => {
      assert.equal(validateFromRunner(m, 'm'), undefined, 'every message the runner sends is valid');
      sent.push(m);
      if (ack && m.type === 'preview') setImmediate(() => core.handle({ type: 'previewAck', runId: m.runId, seq: m.seq }));
      if (m.type === 'runFinished') resolve(sent);
    });
    core.handle({ type: 'run', runId: 'p', text, file, outDir, threads: 1, previewIntervalMs: 1, progressIntervalMs: 0, trajectoryMemoryMB: 0 });
  });
}

describe('runner core: previews are dropped, never queued', function () {
  this.timeout(60_000);
  let ws: ReturnType<typeof makeWorkspace>;
  before(() => (ws = makeWorkspace()));
  after(() => ws.cleanup());

  it('without acks: one preview in flight plus the final one, for 60 evaluations', async () => {
    const sent = await runCore(pipelineText({ steps: 60 }), ws.file, path.join(ws.dir, 'o1'), false);
    const fin = sent[sent.length - 1] as RunFinished;
    assert.equal(fin.ok, true, JSON.stringify(fin.error));
    assert.equal(fin.nfe, 60);
    const previews = sent.filter((m) => m.type === 'preview');
    assert.equal(previews.length, 2);
    assert.equal(previews[0].type === 'preview' && previews[0].index, 0);
    assert.equal(previews[1].type === 'preview' && previews[1].index, 59, 'the last preview is the final x̂0');
    assert.equal(sent.filter((m) => m.type === 'progress').length, 60);
  });

  it('with acks: many previews, in order, each of a later evaluation', async () => {
    const sent = await runCore(pipelineText({ steps: 60 }), ws.file, path.join(ws.dir, 'o2'), true);
    const idx = sent.flatMap((m) => (m.type === 'preview' ? [m.index] : []));
    assert.ok(idx.length > 2, `previews: ${idx.length}`);
    assert.ok(idx.every((v, i) => i === 0 || v > idx[i - 1]));
    assert.equal(idx[idx.length - 1], 59);
  });

  it('shrink subsamples big previews to at most the given side', () => {
    const img = { width: 10, height: 4, channels: 1 as const, data: Uint8Array.from({ length: 40 }, (_, i) => i) };
    const s = shrink(img, 5);
    assert.deepEqual([s.width, s.height], [5, 2]);
    assert.deepEqual(Array.from(s.data), [0, 2, 4, 6, 8, 20, 22, 24, 26, 28]);
    assert.equal(shrink(img, 10), img);
  });
});
