/**
 * The editor's React-free pieces, without a browser: the document → graph projection, copy/paste plans,
 * parameter parsing, placement, the run store's latest-only previews and the host client's validation and
 * request cleanup. Paste plans are checked by applying them with the engine's graph module to real text.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Problem } from '../../src/engine/core/errors';
import { asRegistry } from '../../src/engine/format/registry';
import { loadPipelineText } from '../../src/engine/format/load';
import type { PipelineDoc } from '../../src/engine/format/types';
import { applyGraphOp, applyTextEdits } from '../../src/engine/graph';
import { registryInfo } from '../../src/engine/registry';
import type { ParamSpec } from '../../src/engine/registry/types';
import { copySelection, freshId, parseClipboard, planPaste } from '../../webview/editor/clipboard';
import { problemsByNode, projectEdges, projectNodes, unplacedShown } from '../../webview/editor/graphView';
import { randomSeed } from '../../webview/editor/fields';
import { formatParamText, parseParamText } from '../../src/engine/registry/params';
import { estimateSize, layoutDoc, placeNear } from '../../webview/editor/layout';
import { ops } from '../../webview/editor/ops';
import { HostClient, type HostPort } from '../../webview/shared/host';
import { RunStore } from '../../webview/shared/runStore';

const registry = asRegistry(registryInfo());
const TEXT = readFileSync(path.join(__dirname, 'fixtures/unplaced.dpipe'), 'utf8');
const load = (text: string): PipelineDoc => {
  const r = loadPipelineText(text, { registry });
  assert.ok(r.doc, JSON.stringify(r.problems));
  return r.doc;
};
const apply = (text: string, list: ReturnType<typeof ops.addNode>[]): string => {
  for (const op of list) {
    const r = applyGraphOp(text, registry, op);
    assert.ok(r.ok, !r.ok ? r.reason : '');
    text = applyTextEdits(text, r.edits);
  }
  return text;
};

describe('editor logic (no browser)', () => {
  describe('projection of the document', () => {
    const doc = load(TEXT);
    const base = { registry, problems: [] as Problem[], selectedNodes: new Set<string>(), selectedEdges: new Set<string>(), fallbackPositions: new Map(), previous: [] };

    it('gives one node per block, typed by category, and one edge per edge with its port type', () => {
      const nodes = projectNodes(doc, base);
      assert.deepEqual(nodes.map((n) => [n.id, n.type]), doc.nodes.map((n) => [n.id, registry.get(n.type)!.category]));
      const edges = projectEdges(doc, registry, new Set());
      const e = edges.find((x) => x.id === 'label.conditioning->guider.positive')!;
      assert.deepEqual([e.source, e.sourceHandle, e.target, e.targetHandle, e.data!.portType], ['label', 'conditioning', 'guider', 'positive', 'CONDITIONING']);
    });

    it('keeps selection and sizes across updates and reuses unchanged nodes', () => {
      const first = projectNodes(doc, { ...base, selectedNodes: new Set(['sched']) }).map((n) => (n.id === 'sched' ? { ...n, measured: { width: 230, height: 120 } } : n));
      const changed = load(TEXT.replace('"steps": 20', '"steps": 30'));
      const second = projectNodes(changed, { ...base, selectedNodes: new Set(['sched']), previous: first });
      const sched = second.find((n) => n.id === 'sched')!;
      assert.equal(sched.selected, true);
      assert.deepEqual(sched.measured, { width: 230, height: 120 });
      assert.equal(sched.data.params.steps, 30);
      assert.equal(second.find((n) => n.id === 'model'), first.find((n) => n.id === 'model'), 'an unchanged node was rebuilt');
    });

    it('attributes problems to nodes by id or by JSON pointer', () => {
      const problems: Problem[] = [
        { code: 'E_PARAM_VALUE', message: 'bad steps', severity: 'error', pointer: '/nodes/3/params/steps' },
        { code: 'W_UNUSED', message: 'unused', severity: 'warning', nodeId: 'noise' },
        { code: 'E_FORMAT', message: 'top level', severity: 'error', pointer: '/metadata' },
      ];
      const m = problemsByNode(doc, problems);
      assert.deepEqual(m.get('sched'), [{ severity: 'error', code: 'E_PARAM_VALUE', message: 'bad steps' }]);
      assert.deepEqual(m.get('noise'), [{ severity: 'warning', code: 'W_UNUSED', message: 'unused' }]);
      assert.equal(m.size, 2);
    });
  });

  describe('copy and paste', () => {
    it('pastes nodes with fresh ids, their internal edges only, offset by 40 px — as text the engine accepts', () => {
      const placed = TEXT.replace('"params": { "steps": 20 }', '"params": { "steps": 20 }, "position": { "x": 100, "y": 50 }');
      const doc = load(placed);
      const clip = copySelection(doc, new Set(['model', 'sched']), new Map([['model', { x: 0, y: 0 }]]));
      assert.ok(clip);
      assert.deepEqual(clip.edges, [{ from: 'model.model', to: 'sched.model' }]);
      assert.deepEqual(parseClipboard(JSON.stringify(clip)), clip);
      assert.equal(parseClipboard('{"kind":"other"}'), undefined);
      const plan = planPaste(doc, clip, { x: 40, y: 40 });
      assert.deepEqual([...plan.idMap], [['model', 'model_2'], ['sched', 'sched_2']]);
      const text = apply(placed, [...plan.nodes.map((n) => ops.addNode(n)), ...plan.edges.map((e) => ops.connect(e, false))]);
      const after = load(text);
      assert.deepEqual(after.nodes.find((n) => n.id === 'sched_2'), { id: 'sched_2', type: 'schedule.karras', params: { steps: 20 }, position: { x: 140, y: 90 } });
      assert.deepEqual(after.nodes.find((n) => n.id === 'model_2')!.position, { x: 40, y: 40 });
      assert.deepEqual(after.edges.filter((e) => e.to.startsWith('sched_2') || e.from.startsWith('model_2')), [{ from: 'model_2.model', to: 'sched_2.model' }]);
    });

    it('makes ids that the format accepts and that are unused', () => {
      assert.equal(freshId('schedule.karras', new Set()), 'karras');
      assert.equal(freshId('schedule.karras', new Set(['karras', 'karras_2'])), 'karras_3');
      assert.equal(freshId('x.2d', new Set()), 'n_2d');
      assert.equal(freshId('sample', new Set(['sample'])), 'sample_2');
    });
  });

  describe('inspector fields', () => {
    const spec = (name: string, type = 'schedule.karras'): ParamSpec => registry.get(type)!.params.find((p) => p.name === name)!;

    it('parses numbers against their range and explains refusals', () => {
      assert.deepEqual(parseParamText(spec('steps'), ' 32 '), { ok: true, value: 32 });
      assert.deepEqual(parseParamText(spec('steps'), '0'), { ok: false, error: 'must be an integer in [1, 10000], got 0' });
      assert.deepEqual(parseParamText(spec('steps'), '2.5'), { ok: false, error: 'must be an integer in [1, 10000], got 2.5' });
      assert.deepEqual(parseParamText(spec('steps'), 'abc'), { ok: false, error: 'must be an integer in [1, 10000], got "abc"' });
      assert.deepEqual(parseParamText(spec('rho'), '7.5'), { ok: true, value: 7.5 });
    });

    it('parses number lists written with commas or spaces, and seeds', () => {
      const list = spec('values', 'schedule.explicit');
      assert.deepEqual(parseParamText(list, '14.6, 7.0 2.9;0'), { ok: true, value: [14.6, 7, 2.9, 0] });
      assert.deepEqual(parseParamText(list, '1, x'), { ok: false, error: 'must be a list of numbers ≥ 0, got "x" (write numbers separated by commas)' });
      assert.equal(formatParamText(list, [14.6, 7, 0]), '14.6, 7, 0');
      const seed = spec('seed', 'noise.seeded');
      assert.deepEqual(parseParamText(seed, '123'), { ok: true, value: 123 });
      assert.equal(parseParamText(seed, '-1').ok, false);
      const seeds = Array.from({ length: 64 }, randomSeed);
      assert.ok(seeds.every((s) => Number.isInteger(s) && s >= 0 && s < 2 ** 32));
      assert.ok(new Set(seeds).size > 60, 'random seeds repeat');
    });
  });

  describe('placement', () => {
    it('lays a graph out left to right with ELK, on whole pixels, without overlaps', async () => {
      const doc = load(TEXT);
      const pos = await layoutDoc(doc, registry);
      assert.equal(pos.size, doc.nodes.length);
      const col = (id: string) => pos.get(id)!.x;
      assert.ok(col('model') < col('sched') && col('sched') < col('sample') && col('sample') < col('image'));
      const rects = doc.nodes.map((n) => ({ ...pos.get(n.id)!, ...estimateSize(registry, n.type) }));
      for (const r of rects) assert.ok(Number.isInteger(r.x) && Number.isInteger(r.y));
      for (let i = 0; i < rects.length; i++)
        for (let j = i + 1; j < rects.length; j++) {
          const a = rects[i];
          const b = rects[j];
          assert.ok(a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y, `${doc.nodes[i].id} overlaps ${doc.nodes[j].id}`);
        }
    });

    it('places a new unplaced node right of what feeds it', () => {
      const doc = load(TEXT);
      const known = new Map(doc.nodes.filter((n) => n.id !== 'sample').map((n, i) => [n.id, { x: 0, y: i * 100 }]));
      const p = placeNear(doc, registry, ['sample'], known).get('sample')!;
      assert.equal(p.x, 300);
    });

    it('writes the shown positions of exactly the unplaced nodes, rounded, in one move op that the host applies', () => {
      const placed = TEXT.replace('"params": { "steps": 20 }', '"params": { "steps": 20 }, "position": { "x": 100, "y": 50 }');
      const doc = load(placed);
      const shown = new Map(doc.nodes.map((n, i) => [n.id, { x: i * 250.4, y: 5 - i * 10.6 }]));
      const place = unplacedShown(doc, shown);
      assert.deepEqual([...place.keys()], doc.nodes.filter((n) => n.id !== 'sched').map((n) => n.id));
      assert.deepEqual(place.get('model'), { x: 0, y: 5 });
      assert.deepEqual(place.get('label'), { x: 250, y: -6 });
      const after = load(apply(placed, [ops.moveNodes(place)]));
      for (const n of after.nodes) assert.deepEqual(n.position, n.id === 'sched' ? { x: 100, y: 50 } : place.get(n.id));
      assert.equal(unplacedShown(after, shown).size, 0, 'a placed file has nothing left to write');
    });
  });

  describe('run store', () => {
    it('keeps only the newest preview and acknowledges once per painted frame', () => {
      const acks: number[] = [];
      const frames: (() => void)[] = [];
      const store = new RunStore((_r, seq) => acks.push(seq), (fn) => frames.push(fn));
      const preview = (seq: number) => ({ type: 'preview' as const, runId: 'r', seq, nodeId: 's', index: seq, step: seq, sigma: 1, width: 1, height: 1, image: `data:image/png;base64,${seq}` });
      store.runState({ type: 'runState', phase: 'running', runId: 'r' });
      store.preview(preview(1));
      store.preview(preview(2));
      assert.equal(store.get().previews.s.seq, 2);
      assert.equal(frames.length, 1, 'one ack per frame');
      frames.shift()!();
      assert.deepEqual(acks, [2]);
      store.finished({ type: 'runFinished', runId: 'r', ok: true, stopped: false, outputs: [{ nodeId: 'o', kind: 'png', path: '/a.png', uri: 'data:' }], nfe: 7, ms: 5 });
      assert.equal(store.get().phase, 'done');
      assert.equal(store.get().outputs.o.nfe, 7);
      store.runState({ type: 'runState', phase: 'starting', runId: 'r2' });
      assert.deepEqual(store.get().previews, {});
    });
  });

  describe('host client', () => {
    function client() {
      const posted: unknown[] = [];
      const port: HostPort = { postMessage: (m) => posted.push(m), getState: () => undefined, setState: () => undefined };
      const target = { addEventListener: () => undefined, removeEventListener: () => undefined } as unknown as Window;
      return { c: new HostClient(port, target), posted };
    }

    it('drops invalid messages (and says so in the host log), delivers valid ones', () => {
      const { c, posted } = client();
      const got: unknown[] = [];
      c.subscribe((m) => got.push(m.type));
      c.receive({ type: 'preview', runId: 'r', seq: 1 });
      c.receive({ type: 'nonsense' });
      c.receive({ type: 'trust', trusted: true });
      assert.deepEqual(got, ['trust']);
      assert.equal(posted.length, 2);
      assert.match(JSON.stringify(posted[0]), /"type":"log".*webview dropped an invalid message/);
    });

    it('matches responses to requests by id and leaves nothing pending', async () => {
      const { c, posted } = client();
      const p = c.request('pickFile', { extensions: ['.onnx'] });
      const req = posted[0] as { id: string; method: string };
      assert.equal(req.method, 'pickFile');
      assert.equal(c.pendingRequests, 1);
      c.receive({ type: 'response', id: req.id, ok: true, result: { path: 'm.onnx' } });
      assert.deepEqual(await p, { path: 'm.onnx' });
      const refused = c.applyOps([ops.removeNodes(['x'])], 'Delete');
      c.receive({ type: 'response', id: (posted[1] as { id: string }).id, ok: false, error: 'there is no node "x"' });
      await assert.rejects(refused, /there is no node "x"/);
      assert.equal(c.pendingRequests, 0);
      const dangling = c.request('validate', {});
      c.dispose();
      await assert.rejects(dangling, /cancelled/);
      assert.equal(c.pendingRequests, 0);
    });
  });
});
