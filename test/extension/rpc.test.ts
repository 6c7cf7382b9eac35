import { strict as assert } from 'node:assert';
import { RequestTracker, RequestTimeoutError, RequestCancelledError } from '../../src/protocol';

describe('RequestTracker', () => {
  it('resolves by id and forgets the request', async () => {
    const t = new RequestTracker({ idPrefix: 'h' });
    const sent: string[] = [];
    const p1 = t.start<number>('a', (id) => sent.push(id));
    const p2 = t.start<number>('b', (id) => sent.push(id));
    assert.deepEqual(sent, ['h1', 'h2']);
    assert.equal(t.pendingCount, 2);
    assert.equal(t.resolve({ id: 'h2', ok: true, result: 2 }), true);
    assert.equal(t.resolve({ id: 'h1', ok: false, error: 'no' }), true);
    assert.equal(await p2, 2);
    await assert.rejects(p1, /^Error: no$/);
    assert.equal(t.pendingCount, 0);
    assert.equal(t.resolve({ id: 'h1', ok: true }), false, 'a late answer is ignored');
  });

  it('times out and cleans up', async () => {
    const t = new RequestTracker();
    const t0 = Date.now();
    await assert.rejects(t.start('slow', () => {}, 40), (e: unknown) => e instanceof RequestTimeoutError && e.method === 'slow' && e.ms === 40);
    assert.ok(Date.now() - t0 >= 35);
    assert.equal(t.pendingCount, 0);
  });

  it('cleans up when sending throws', async () => {
    const t = new RequestTracker();
    await assert.rejects(t.start('x', () => { throw new Error('disposed webview'); }), /disposed webview/);
    assert.equal(t.pendingCount, 0);
  });

  it('dispose rejects pending requests and refuses new ones', async () => {
    const t = new RequestTracker();
    const p = t.start('x', () => {});
    t.dispose('webview closed');
    await assert.rejects(p, (e: unknown) => e instanceof RequestCancelledError && /webview closed/.test(e.message));
    assert.equal(t.pendingCount, 0);
    await assert.rejects(t.start('y', () => {}), RequestCancelledError);
  });
});
