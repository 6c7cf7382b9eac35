import { strict as assert } from 'assert';
import { getNodeType } from '../../src/engine/registry/index';
import { cfgGuider, basicGuider } from '../../src/engine/guidance/index';
import type { GuiderValue } from '../../src/engine/registry/types';
import { fakeModel, cls } from './fake-model';

const COND = Float64Array.from([1, -2, 0.5, 4]);
const UNCOND = Float64Array.from([0, 1, 0.5, -1]);
const X = { shape: [1, 4], data: new Float64Array(4) };
const table = (c: { kind: string; label?: number }) => (c.kind === 'class' && c.label === 3 ? COND : UNCOND);

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-12): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `element ${i}: ${a[i]} vs ${b[i]}`);
}

describe('guidance: guider.basic and guider.cfg', () => {
  it('CFG with w = 7.5 matches hand-computed numbers, in one batched call, with both branches reported', async () => {
    const m = fakeModel(table);
    const g = cfgGuider(m, cls(3), cls(10), { scale: 7.5 });
    const out = await g.denoise(X, 2.0, { step: 0 });
    // D_u + 7.5 (D_c − D_u): [0+7.5·1, 1+7.5·(−3), 0.5, −1+7.5·5]
    close(out.denoised.data, [7.5, -21.5, 0.5, 36.5]);
    assert.equal(m.calls.length, 1);
    assert.deepEqual(m.calls[0].conds, [cls(3), cls(10)]);
    close(out.branches!.cond.data, COND);
    close(out.branches!.uncond.data, UNCOND);
  });

  it('w = 1 is the conditional model alone and skips the unconditional branch; w = 0 is the unconditional model', async () => {
    const m = fakeModel(table);
    const one = await cfgGuider(m, cls(3), cls(10), { scale: 1 }).denoise(X, 1, { step: 0 });
    close(one.denoised.data, COND);
    assert.deepEqual(m.calls[0].conds, [cls(3)]);
    const zero = await cfgGuider(m, cls(3), cls(10), { scale: 0 }).denoise(X, 1, { step: 0 });
    close(zero.denoised.data, UNCOND);
  });

  it('batched and unbatched models give the same guided prediction', async () => {
    const a = await cfgGuider(fakeModel(table, true), cls(3), cls(10), { scale: 3 }).denoise(X, 1, { step: 0 });
    const b = await cfgGuider(fakeModel(table, false), cls(3), cls(10), { scale: 3 }).denoise(X, 1, { step: 0 });
    close(a.denoised.data, b.denoised.data, 0);
    close(a.denoised.data, [0 + 3, 1 - 9, 0.5, -1 + 15]);
  });

  it('guider.cfg node: negative defaults to the model\'s unconditional value; an explicit negative replaces it', async () => {
    const node = getNodeType('guider.cfg')!;
    const m = fakeModel(table);
    const ctx = { nodeId: 'g', baseDir: '.', services: {} as never };
    const { guider } = (await node.evaluate(ctx, { model: m, positive: cls(3) }, { scale: 2 })) as { guider: GuiderValue };
    await guider.denoise(X, 1, { step: 0 });
    assert.deepEqual(m.calls[0].conds, [cls(3), m.unconditional]);
    const neg = (await node.evaluate(ctx, { model: m, positive: cls(3), negative: cls(7) }, { scale: 2 })) as { guider: GuiderValue };
    await neg.guider.denoise(X, 1, { step: 0 });
    assert.deepEqual(m.calls[1].conds, [cls(3), cls(7)]);
  });

  it('guider.basic: one conditioning, default the model\'s unconditional value', async () => {
    const m = fakeModel(table);
    const out = await basicGuider(m, cls(3)).denoise(X, 1, { step: 0 });
    close(out.denoised.data, COND);
    const node = getNodeType('guider.basic')!;
    const { guider } = (await node.evaluate({ nodeId: 'b', baseDir: '.', services: {} as never }, { model: m }, {})) as { guider: GuiderValue };
    const u = await guider.denoise(X, 1, { step: 0 });
    close(u.denoised.data, UNCOND);
    assert.deepEqual(m.calls[1].conds, [m.unconditional]);
  });
});
