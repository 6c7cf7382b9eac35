import { strict as assert } from 'node:assert';
import { applyTextEdits } from '../../src/engine/graph';
import { analyzeText, applyGraphOps, runnable, spanningEdit } from '../../extension/pipelineText';
import { makeWorkspace } from './runnerFixture';

describe('host: graph ops → text edits', () => {
  let ws: ReturnType<typeof makeWorkspace>;
  before(() => (ws = makeWorkspace()));
  after(() => ws.cleanup());

  it('one op gives the engine\'s minimal edit: only the value changes', () => {
    const edits = applyGraphOps(ws.text, [{ op: 'setParam', node: 'sched', param: 'steps', value: 12 }]);
    assert.equal(edits.length, 1);
    assert.equal(edits[0].content, '12');
    assert.equal(ws.text.slice(edits[0].offset, edits[0].offset + edits[0].length), '6');
    const after = applyTextEdits(ws.text, edits);
    assert.equal(after, ws.text.replace('"steps": 6', '"steps": 12'));
    assert.equal(runnable(analyzeText(after, ws.file)), true);
  });

  it('several ops give ONE edit equal to applying them in turn', () => {
    const ops = [
      { op: 'setParam', node: 'sched', param: 'steps', value: 9 },
      { op: 'addNode', type: 'solver.heun', id: 'heun', position: { x: 10, y: 20 } },
      { op: 'connect', from: 'heun.sampler', to: 'sample.sampler', replace: true },
    ];
    const edits = applyGraphOps(ws.text, ops);
    assert.equal(edits.length, 1);
    const after = applyTextEdits(ws.text, edits);
    const a = analyzeText(after, ws.file);
    assert.equal(runnable(a), true, JSON.stringify(a.problems));
    assert.equal(a.doc!.nodes.find((n) => n.id === 'sched')!.params.steps, 9);
    assert.ok(a.doc!.edges.some((e) => e.from === 'heun.sampler' && e.to === 'sample.sampler'));
    assert.ok(!a.doc!.edges.some((e) => e.from === 'solver.sampler'));
  });

  it('a refused op throws the engine\'s reason and applies nothing', () => {
    assert.throws(() => applyGraphOps(ws.text, [{ op: 'setParam', node: 'sched', param: 'steps', value: 9 }, { op: 'connect', from: 'noise.noise', to: 'sample.sigmas' }]), /NOISE|SIGMAS|type/);
    assert.throws(() => applyGraphOps(ws.text, [{ op: 'explode' }]), /unknown op "explode"/);
    assert.deepEqual(applyGraphOps(ws.text, []), []);
  });

  it('spanningEdit is the minimal single replacement', () => {
    assert.deepEqual(spanningEdit('abcdef', 'abXYef'), { offset: 2, length: 2, content: 'XY' });
    assert.deepEqual(spanningEdit('aaa', 'aaaa'), { offset: 3, length: 0, content: 'a' });
    assert.deepEqual(spanningEdit('abc', 'c'), { offset: 0, length: 2, content: '' });
  });

  it('a text that does not parse gives no document and a located E_JSON problem', () => {
    const a = analyzeText('{ "dpipe": 1, "nodes": [ }', ws.file);
    assert.equal(a.doc, undefined);
    assert.equal(a.problems[0].code, 'E_JSON');
    assert.equal(typeof a.problems[0].offset, 'number');
    assert.equal(runnable(a), false);
  });
});
