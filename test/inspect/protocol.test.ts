import { strict as assert } from 'node:assert';
import { validateFromInspector, validateToInspector } from '../../src/protocol/inspector';
import { check } from '../../src/protocol/validate';

describe('inspect/protocol validators', () => {
  it('accepts well-formed messages both ways', () => {
    assert.ok(check(validateFromInspector, { type: 'request', id: 'i1', method: 'frame', params: { run: 0, i: 3, planes: ['x', 'eps'] } }).ok);
    assert.ok(check(validateFromInspector, { type: 'request', id: 'i2', method: 'export', params: { run: 0, kind: 'png', i: 1, plane: 'x', item: 'grid', view: { channels: 2, range: { mode: 'fixed', lo: -1, hi: 1 } }, zoom: 4 } }).ok);
    assert.ok(check(validateToInspector, { type: 'stats', run: 0, done: 2, stats: { xNorm: [1, 2], denoisedNorm: [1, 1], dDenoised: [null, 0.5], dLogSigma: [null, 0.7] } }).ok);
    assert.ok(check(validateToInspector, { type: 'response', id: 'i1', ok: false, error: 'no such plane' }).ok);
  });

  it('rejects bad messages with the path and what is allowed', () => {
    const r1 = check(validateFromInspector, { type: 'request', id: 'i1', method: 'frame', params: { run: 0, i: 1.5, planes: [] } });
    assert.deepEqual(r1, { ok: false, error: 'message.params.i: expected an integer, got number' });
    const r2 = check(validateFromInspector, { type: 'request', id: 'i2', method: 'export', params: { run: 0, kind: 'jpg', plane: 'x', item: 0, view: { channels: 'auto', range: { mode: 'channel' } } } });
    assert.equal(r2.ok, false);
    assert.match((r2 as { error: string }).error, /message.params.kind: expected one of "png", "npy", "gif", "contact", got "jpg"/);
    const r3 = check(validateFromInspector, { type: 'request', id: 'i3', method: 'export', params: { run: 0, kind: 'png', plane: 'x', item: 0, view: { channels: 'auto', range: { mode: 'fixed', lo: 1, hi: 1 } } } });
    assert.match((r3 as { error: string }).error, /range: hi must be greater than lo/);
    const r4 = check(validateToInspector, { type: 'compare', mode: 'cubic', pairs: [], distance: [] });
    assert.match((r4 as { error: string }).error, /message.mode: expected one of "nearest", "interpolate"/);
    const r5 = check(validateFromInspector, { type: 'eval', code: '1' });
    assert.match((r5 as { error: string }).error, /unknown message type "eval"; allowed: ready, request, setAlign, command, log/);
  });
});
