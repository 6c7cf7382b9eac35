/**
 * Grid plans: axis arguments, their checks against the pipeline and the registry, the cells (order, block swaps,
 * dropped parameters) and the shard arithmetic.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { DpipeError } from '../../src/engine/core/errors';
import { loadPipelineFile } from '../../src/engine/format/index';
import type { PipelineDoc } from '../../src/engine/format/types';
import { cellCount, coordsOf, parseAxisArg, parseSeeds, planCell, resolveAxes, splitValues } from '../../src/engine/grid/plan';
import { planGrid } from '../../src/engine/grid/run';
import { nodeTypes } from '../../src/engine/registry/index';
import { checkShards, inShard, parseShard, shardUnits, specKey } from '../../src/engine/shard/index';

const ROOT = path.resolve(__dirname, '../..');
const FILE = path.join(ROOT, 'examples', 'dpmpp-2m-karras.dpipe');
const types = nodeTypes();

function load(file = FILE): PipelineDoc {
  const r = loadPipelineFile(file);
  assert.ok(r.doc, JSON.stringify(r.problems));
  return r.doc;
}

function rejects(fn: () => unknown, code: string, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DpipeError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    return true;
  });
}

describe('grid: axes', () => {
  it('splits value lists at top-level commas only (brackets and quotes keep theirs)', () => {
    assert.deepEqual(splitValues('5,10, 20'), ['5', '10', '20']);
    assert.deepEqual(splitValues('[1,2],[3, 4]'), ['[1,2]', '[3, 4]']);
    assert.deepEqual(splitValues('"a,b",c'), ['"a,b"', 'c']);
    assert.deepEqual(parseAxisArg('solver=solver.euler,solver.unipc'), { target: 'solver', values: ['solver.euler', 'solver.unipc'] });
    assert.deepEqual(parseAxisArg('sched.steps=5,10'), { target: 'sched.steps', values: ['5', '10'] });
    rejects(() => parseAxisArg('sched.steps'), 'E_USAGE', /expected NODE=TYPE/);
    rejects(() => parseAxisArg('sched.steps=5,,10'), 'E_USAGE', /empty value/);
  });

  it('resolves type and parameter axes: typed values, labels without the shared family prefix', () => {
    const doc = load();
    const axes = resolveAxes(doc, types, [parseAxisArg('solver=solver.euler,solver.dpmpp_2m,solver.unipc'), parseAxisArg('sched.steps=5,10,20'), parseAxisArg('label.labels=[1,2],[3]')]);
    assert.deepEqual(axes.map((a) => [a.name, a.kind, a.node, a.param]), [['solver', 'type', 'solver', undefined], ['sched.steps', 'param', 'sched', 'steps'], ['label.labels', 'param', 'label', 'labels']]);
    assert.deepEqual(axes[0].labels, ['euler', 'dpmpp_2m', 'unipc']);
    assert.deepEqual(axes[1].values, [5, 10, 20]);
    assert.deepEqual(axes[2].values, [[1, 2], [3]]);
    assert.deepEqual(axes[2].labels, ['[1,2]', '[3]']);
    assert.equal(cellCount(axes), 18);
  });

  it('names what is allowed when an axis does not fit the pipeline', () => {
    const doc = load();
    rejects(() => resolveAxes(doc, types, [parseAxisArg('solvr=solver.euler')]), 'E_AXIS', /no node "solvr" \(did you mean "solver"\?\); its nodes are model, label/);
    rejects(() => resolveAxes(doc, types, [parseAxisArg('solver=solver.eulr')]), 'E_AXIS', /unknown block type "solver.eulr" \(did you mean solver.euler/);
    rejects(() => resolveAxes(doc, types, [parseAxisArg('solver=schedule.karras')]), 'E_AXIS', /schedule.karras is a Schedule block but node "solver" is a Solver block.*swap it for one of .*solver.euler/);
    rejects(() => resolveAxes(doc, types, [parseAxisArg('sched.stps=5')]), 'E_AXIS', /schedule.karras has no parameter "stps" \(did you mean steps\?\); parameters: steps, sigmaMin/);
    rejects(() => resolveAxes(doc, types, [parseAxisArg('sched.steps=5,0')]), 'E_AXIS', /value 0: steps must be an integer/);
    rejects(() => resolveAxes(doc, types, [parseAxisArg('sched.steps=5,5')]), 'E_AXIS', /listed twice/);
    rejects(() => resolveAxes(doc, types, [parseAxisArg('sched.steps=5'), parseAxisArg('sched.steps=6')]), 'E_USAGE', /given twice/);
  });

  it('a parameter axis on a swapped node needs the parameter on at least one of its types', () => {
    const doc = load();
    const axes = resolveAxes(doc, types, [parseAxisArg('solver=solver.euler,solver.unipc'), parseAxisArg('solver.order=1,2')]);
    const euler = planCell(doc, types, axes, [], 0);
    const unipc = planCell(doc, types, axes, [], 3);
    assert.equal(euler.doc.nodes.find((n) => n.id === 'solver')!.type, 'solver.euler');
    assert.deepEqual(euler.set, []);
    assert.deepEqual(euler.dropped, ['solver.order=1 not applied: solver.euler has no parameter "order"']);
    assert.equal(unipc.label, 'solver=unipc, solver.order=2');
    assert.deepEqual(unipc.set, [{ node: 'solver', param: 'order', value: 2 }]);
    assert.deepEqual(unipc.dropped, []);
    rejects(() => resolveAxes(doc, types, [parseAxisArg('solver=solver.euler,solver.heun'), parseAxisArg('solver.order=1,2')]), 'E_AXIS', /solver.euler \/ solver.heun have no parameter "order"/);
  });
});

describe('grid: cells', () => {
  it('numbers cells with the first axis fastest and keeps node ids and edges on a swap', () => {
    const doc = load();
    const axes = resolveAxes(doc, types, [parseAxisArg('solver=solver.euler,solver.dpmpp_2m,solver.unipc'), parseAxisArg('sched.steps=5,10')]);
    assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => coordsOf(axes, i)), [[0, 0], [1, 0], [2, 0], [0, 1], [1, 1], [2, 1]]);
    const c = planCell(doc, types, axes, [], 5);
    assert.equal(c.label, 'solver=unipc, sched.steps=10');
    assert.deepEqual(c.doc.nodes.map((n) => n.id), doc.nodes.map((n) => n.id));
    assert.deepEqual(c.doc.edges, doc.edges);
    assert.deepEqual(c.doc.nodes.map((n) => n.type), doc.nodes.map((n) => (n.id === 'solver' ? 'solver.unipc' : n.type)));
    assert.deepEqual(c.set, [{ node: 'sched', param: 'steps', value: 10 }]);
  });

  it('drops the parameters a swapped-in type does not have, or does not allow at their value, and says so', () => {
    const base = load();
    const doc: PipelineDoc = { ...base, nodes: base.nodes.map((n) => (n.id === 'solver' ? { ...n, type: 'solver.unipc', params: { order: 3, variant: 'bh1' } } : n)) };
    const axes = resolveAxes(doc, types, [parseAxisArg('solver=solver.unipc,solver.euler,solver.deis')]);
    assert.deepEqual(planCell(doc, types, axes, [], 0).dropped, []);
    const euler = planCell(doc, types, axes, [], 1);
    assert.deepEqual(euler.doc.nodes.find((n) => n.id === 'solver')!.params, {});
    assert.deepEqual(euler.dropped, ['solver.order=3 dropped: solver.euler has no parameter "order"', 'solver.variant=bh1 dropped: solver.euler has no parameter "variant"']);
    const deis = planCell(doc, types, axes, [], 2);
    assert.deepEqual(deis.doc.nodes.find((n) => n.id === 'solver')!.params, { order: 3 });
    assert.deepEqual(deis.dropped, ['solver.variant=bh1 dropped: solver.deis has no parameter "variant"']);
  });

  it('plans and validates every cell before running; a pipeline without an image output is refused', () => {
    const doc = load();
    const plan = planGrid({ file: FILE, doc, baseDir: path.dirname(FILE), axes: [parseAxisArg('sched.steps=2,3')], seeds: { first: 4, count: 2 } });
    assert.equal(plan.total, 2);
    assert.equal(plan.spec.seeds!.first, 4);
    assert.match(plan.key, /^[0-9a-f]{64}$/);
    // The key ties shards of one grid together: same inputs, same key; another axis value, another key.
    assert.equal(planGrid({ file: FILE, doc, baseDir: path.dirname(FILE), axes: [parseAxisArg('sched.steps=2,3')], seeds: { first: 4, count: 2 } }).key, plan.key);
    assert.notEqual(planGrid({ file: FILE, doc, baseDir: path.dirname(FILE), axes: [parseAxisArg('sched.steps=2,4')], seeds: { first: 4, count: 2 } }).key, plan.key);
    const noImage: PipelineDoc = { ...doc, nodes: doc.nodes.filter((n) => n.id !== 'image'), edges: doc.edges.filter((e) => !e.to.startsWith('image.')) };
    rejects(() => planGrid({ file: FILE, doc: noImage, baseDir: path.dirname(FILE), axes: [parseAxisArg('sched.steps=2')] }), 'E_COMPOSE', /no output.image block/);
    rejects(() => planGrid({ file: FILE, doc, baseDir: path.dirname(FILE), axes: [parseAxisArg('sched.steps=2')], seeds: { first: 0, count: 2 }, batch: 3 }), 'E_USAGE', /--seeds or --batch, not both/);
    // A cell that breaks the pipeline (here: CFG++ has no "cond" input, and needs a DDIM-type step) is named before anything runs.
    rejects(() => planGrid({ file: FILE, doc, baseDir: path.dirname(FILE), axes: [parseAxisArg('guider=guider.basic,guider.cfgpp')] }), 'E_INPUT_MISSING', /grid cell 1 \(guider=cfgpp\) is not a valid pipeline: .*guider.cfgpp\) has no input "cond".*CFG\+\+ rewrites the first-order step/);
  });

  it('reads --seeds as a consecutive range (the batch items of every cell)', () => {
    assert.deepEqual(parseSeeds('0-3'), { first: 0, count: 4 });
    assert.deepEqual(parseSeeds('7'), { first: 7, count: 1 });
    rejects(() => parseSeeds('3-1'), 'E_USAGE', /A ≤ B/);
    rejects(() => parseSeeds('0,5,9'), 'E_USAGE', /consecutive/);
  });
});

describe('shards', () => {
  it('deal units round robin: every unit in exactly one shard, in order', () => {
    assert.deepEqual(parseShard('1/4'), { index: 1, count: 4 });
    rejects(() => parseShard('4/4'), 'E_USAGE', /0 ≤ i < N/);
    rejects(() => parseShard('1-4'), 'E_USAGE', /i\/N/);
    const all = [0, 1, 2, 3].flatMap((i) => shardUnits(10, { index: i, count: 4 }));
    assert.deepEqual([...all].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(shardUnits(10, { index: 1, count: 4 }), [1, 5, 9]);
    assert.ok(inShard(9, { index: 1, count: 4 }));
    assert.equal(specKey({ a: 1, b: [2] }), specKey({ b: [2], a: 1 }));
  });

  it('merge refuses missing, duplicate and foreign shards', () => {
    const rec = (index: number, count: number, key = 'k') => ({ record: { format: 'f', version: 1 as const, shard: { index, count }, key }, where: `s${index}` });
    assert.deepEqual(checkShards([rec(1, 2), rec(0, 2)]).map((r) => r.shard.index), [0, 1]);
    rejects(() => checkShards([rec(0, 3), rec(2, 3)]), 'E_MERGE', /shard 1\/3 missing/);
    rejects(() => checkShards([rec(0, 2), rec(0, 2), rec(1, 2)]), 'E_MERGE', /appears twice/);
    rejects(() => checkShards([rec(0, 2), rec(1, 2, 'other')]), 'E_MERGE', /different runs/);
    rejects(() => checkShards([rec(0, 2), rec(1, 3)]), 'E_MERGE', /one of 2 shards/);
  });
});
