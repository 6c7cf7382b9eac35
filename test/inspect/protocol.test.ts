import { strict as assert } from 'node:assert';
import { validateFromInspector, validateToInspector } from '../../src/protocol/inspector';
import { check } from '../../src/protocol/validate';

describe('inspect/protocol validators', () => {
  it('accepts well-formed messages both ways', () => {
    assert.ok(check(validateFromInspector, { type: 'request', id: 'i1', method: 'frame', params: { run: 0, i: 3, planes: ['x', 'eps'] } }).ok);
    assert.ok(check(validateFromInspector, { type: 'request', id: 'i2', method: 'export', params: { run: 0, kind: 'png', i: 1, plane: 'x', item: 'grid', view: { channels: 2, range: { mode: 'fixed', lo: -1, hi: 1 } }, zoom: 4 } }).ok);
    assert.ok(check(validateToInspector, { type: 'stats', run: 0, done: 2, stats: { xNorm: [1, 2], denoisedNorm: [1, 1], dDenoised: [null, 0.5], dLogSigma: [null, 0.7] } }).ok);
    assert.ok(check(validateToInspector, { type: 'response', id: 'i1', ok: false, error: 'no such plane' }).ok);
    const cell = { index: 0, label: 'sched.steps=5', coords: [0], status: 'completed', error: null, nfe: 5, wallMs: 12.5, finalError: 0.01, fd: null, accuracy: null, dropped: [] };
    const grid = { title: 'Grid', dir: '/g', axes: [{ name: 'sched.steps', labels: ['5'] }], image: { png: 'iVBO', width: 100, height: 80, tiles: [{ cell: 0, x: 8, y: 30, width: 64, height: 64 }] }, cells: [cell] };
    assert.ok(check(validateToInspector, { type: 'grid', grid }).ok);
    assert.ok(check(validateFromInspector, { type: 'gridCells', action: 'compare', cells: [0, 3] }).ok);
  });

  it('grid messages: a cell without its metrics, an unknown action or more than two cells are refused', () => {
    const bad = check(validateToInspector, { type: 'grid', grid: { title: 'Grid', dir: '/g', axes: [], image: { png: '', width: 1, height: 1, tiles: [] }, cells: [{ index: 0, label: 'x', coords: [0], status: 'done' }] } });
    assert.match((bad as { error: string }).error, /message.grid.cells\[0\].status: expected one of "completed", "failed", got "done"/);
    assert.match((check(validateFromInspector, { type: 'gridCells', action: 'delete', cells: [0] }) as { error: string }).error, /message.action: expected one of "open", "compare"/);
    assert.equal(check(validateFromInspector, { type: 'gridCells', action: 'compare', cells: [0, 1, 2] }).ok, false);
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
    assert.match((r5 as { error: string }).error, /unknown message type "eval"; allowed: ready, request, setAlign, command, gridCells, log/);
  });
});
