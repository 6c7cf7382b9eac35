import { strict as assert } from 'node:assert';
import { DpipeError } from '../../src/engine/core/errors';
import type { PipelineDoc } from '../../src/engine/format/index';
import { canConnect, findCycles, incomingEdges, parseEndpoint, topologicalOrder } from '../../src/engine/graph/index';
import { FAKE_REGISTRY } from '../format/fake-registry';

const scale = (id: string) => ({ id, type: 'latent.scale', params: {} });
const doc = (ids: string[], edges: [string, string][]): PipelineDoc => ({
  dpipe: 1, metadata: {}, nodes: ids.map(scale), edges: edges.map(([a, b]) => ({ from: `${a}.latent`, to: `${b}.latent` })),
});

describe('graph/analyze', () => {
  it('parseEndpoint splits node.port and rejects anything else', () => {
    assert.deepEqual(parseEndpoint('sched-1.sigmas'), { node: 'sched-1', port: 'sigmas' });
    assert.equal(parseEndpoint('sched'), undefined);
    assert.equal(parseEndpoint('a.b.c'), undefined);
    assert.equal(parseEndpoint('1a.b'), undefined);
  });

  it('topologicalOrder puts sources first and keeps document order among ready nodes', () => {
    assert.deepEqual(topologicalOrder(doc(['d', 'c', 'b', 'a'], [['a', 'b'], ['b', 'c'], ['a', 'd']])), ['a', 'd', 'b', 'c']);
  });

  it('findCycles names each cycle from its first node in document order; topologicalOrder throws E_CYCLE', () => {
    const d = doc(['p', 'q', 'r', 's', 't', 'u'], [['q', 'r'], ['r', 'p'], ['p', 'q'], ['s', 't'], ['t', 's'], ['u', 'u'], ['r', 's']]);
    assert.deepEqual(findCycles(d), [['p', 'q', 'r'], ['s', 't'], ['u']]);
    assert.throws(() => topologicalOrder(d), (e: unknown) => e instanceof DpipeError && e.code === 'E_CYCLE' && e.message.includes('p → q → r → p'));
    assert.deepEqual(findCycles(doc(['a', 'b'], [['a', 'b']])), []);
  });

  it('incomingEdges maps each input to its source', () => {
    const m = incomingEdges(doc(['a', 'b'], [['a', 'b']]));
    assert.deepEqual(m.get('b')?.get('latent'), { node: 'a', port: 'latent' });
    assert.equal(m.get('a'), undefined);
  });

  it('canConnect: ok gives the type and the edges it would replace', () => {
    const d = doc(['a', 'b', 'c'], [['a', 'c']]);
    assert.deepEqual(canConnect(FAKE_REGISTRY, d, 'a.latent', 'b.latent'), { ok: true, type: 'LATENT', replaces: [] });
    assert.deepEqual(canConnect(FAKE_REGISTRY, d, 'b.latent', 'c.latent', { replace: true }), { ok: true, type: 'LATENT', replaces: [{ from: 'a.latent', to: 'c.latent' }] });
    // b → a would close a → b → a.
    const loop = doc(['a', 'b'], [['a', 'b']]);
    assert.deepEqual(canConnect(FAKE_REGISTRY, loop, 'b.latent', 'a.latent'), { ok: false, code: 'E_CYCLE', reason: 'this edge would make a cycle: b → a → b' });
  });
});
