import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadPipeline } from '../../src/engine/format/index';
import {
  addNode, applyGraphOp, applyTextEdits, connect, disconnect, layoutNeeded, moveNodes, parseGraphOp, readPipelineLenient,
  removeNodes, renameNode, setMetadata, setParam, type EditResult,
} from '../../src/engine/graph/index';
import { FAKE_REGISTRY } from '../format/fake-registry';

const GOOD = readFileSync(path.join(__dirname, '..', 'fixtures', 'pipelines', 'good.dpipe'), 'utf8');
const R = FAKE_REGISTRY;

/** A hand-written file: one-line nodes, 4-space indent, so edits must keep the user's style. */
const HAND = `{
    "dpipe": 1,
    "nodes": [
        { "id": "a", "type": "schedule.karras", "params": { "steps": 5 } },
        { "id": "b", "type": "sample", "params": {} }
    ],
    "edges": []
}
`;

function apply(text: string, r: EditResult): string {
  assert.ok(r.ok, !r.ok ? `${r.code}: ${r.reason}` : '');
  return applyTextEdits(text, r.edits);
}

function refused(r: EditResult, code: string, phrase: string): void {
  assert.equal(r.ok, false, 'expected a refusal');
  if (r.ok) return;
  assert.equal(r.code, code, r.reason);
  assert.ok(r.reason.includes(phrase), `reason ${JSON.stringify(r.reason)} lacks ${JSON.stringify(phrase)}`);
}

/** The edited good fixture still loads with no errors and the given change. */
function loads(text: string) {
  const r = loadPipeline(text, { registry: R, checkFiles: false });
  assert.ok(r.doc, JSON.stringify(r.problems));
  return r;
}

describe('graph/edit', () => {
  describe('addNode', () => {
    it('appends a node with a fresh id, in the file\'s indentation, position rounded', () => {
      const r = addNode(HAND, R, { type: 'schedule.karras', position: { x: 10.6, y: -3.2 } });
      assert.ok(r.ok && r.nodeId === 'karras');
      assert.equal(apply(HAND, r), `{
    "dpipe": 1,
    "nodes": [
        { "id": "a", "type": "schedule.karras", "params": { "steps": 5 } },
        { "id": "b", "type": "sample", "params": {} },
        {
            "id": "karras",
            "type": "schedule.karras",
            "params": {},
            "position": { "x": 11, "y": -3 }
        }
    ],
    "edges": []
}
`);
      assert.equal(r.edits.length, 1);
      assert.equal(r.edits[0].length, 0, 'pure insertion');
    });
    it('numbers the id when the base is taken, and writes given params in registry order', () => {
      const once = apply(HAND, addNode(HAND, R, { type: 'schedule.karras' }));
      const r = addNode(once, R, { type: 'schedule.karras', params: { sigma_min: 0.1, steps: 8 } });
      assert.ok(r.ok && r.nodeId === 'karras_2');
      assert.ok(apply(once, r).includes(`{
            "id": "karras_2",
            "type": "schedule.karras",
            "params": { "steps": 8, "sigma_min": 0.1 }
        }
    ],`));
    });
    it('into an empty or missing nodes array', () => {
      assert.equal(apply('{ "dpipe": 1, "nodes": [] }', addNode('{ "dpipe": 1, "nodes": [] }', R, { type: 'sample' })),
        '{ "dpipe": 1, "nodes": [\n  {\n    "id": "sample",\n    "type": "sample",\n    "params": {}\n  }\n] }');
      const t = '{\n  "dpipe": 1\n}\n';
      assert.equal(apply(t, addNode(t, R, { type: 'sample', id: 's' })),
        '{\n  "dpipe": 1,\n  "nodes": [\n    {\n      "id": "s",\n      "type": "sample",\n      "params": {}\n    }\n  ]\n}\n');
    });
    it('refuses unknown types, bad or taken ids, bad params', () => {
      refused(addNode(HAND, R, { type: 'schedule.karas' }), 'E_NODE_TYPE', 'did you mean "schedule.karras"?');
      refused(addNode(HAND, R, { type: 'sample', id: 'a' }), 'E_NODE_ID', 'node id "a" is already used');
      refused(addNode(HAND, R, { type: 'sample', id: 'x.y' }), 'E_NODE_ID', 'is not allowed');
      refused(addNode(HAND, R, { type: 'sample', params: { batch: 0 } }), 'E_PARAM_VALUE', 'must be an integer in [1, 64], got 0');
      refused(addNode(HAND, R, { type: 'sample', params: { steps: 1 } }), 'E_PARAM', 'allowed: batch');
    });
  });

  describe('removeNodes', () => {
    it('removes the nodes and their edges, keeping everything else byte for byte', () => {
      const out = apply(GOOD, removeNodes(GOOD, ['sched', 'noise']));
      const expected = GOOD
        .replace(/    \{\n      "id": "sched",[\s\S]*?\n    \},\n/, '')
        .replace(/    \{\n      "id": "noise",[\s\S]*?\n    \},\n/, '')
        .replace('    { "from": "model.model", "to": "sched.model" },\n', '')
        .replace('    { "from": "sched.sigmas", "to": "sample.sigmas" },\n    { "from": "noise.noise", "to": "sample.noise" },\n', '');
      assert.equal(out, expected);
      const r = loads(out);
      assert.deepEqual(r.doc?.nodes.map((n) => n.id), ['model', 'guide', 'solver', 'sample', 'out']);
      assert.deepEqual(r.problems.map((p) => p.code), ['E_INPUT_MISSING', 'E_INPUT_MISSING']);
    });
    it('the last elements and all elements', () => {
      assert.equal(apply(HAND, removeNodes(HAND, ['b'])), HAND.replace(',\n        { "id": "b", "type": "sample", "params": {} }', ''));
      assert.equal(apply(HAND, removeNodes(HAND, ['a', 'b'])), '{\n    "dpipe": 1,\n    "nodes": [],\n    "edges": []\n}\n');
    });
    it('refuses when no node matches', () => {
      refused(removeNodes(HAND, ['c']), 'E_NODE_ID', 'there is no node "c"');
    });
  });

  describe('connect / disconnect', () => {
    it('appends an edge on its own line', () => {
      assert.equal(apply(HAND, connect(HAND, R, 'a.sigmas', 'b.sigmas')), HAND.replace('"edges": []', '"edges": [\n        { "from": "a.sigmas", "to": "b.sigmas" }\n    ]'));
      const t = GOOD.replace('    { "from": "sched.sigmas", "to": "sample.sigmas" },\n', '');
      assert.equal(apply(t, connect(t, R, 'sched.sigmas', 'sample.sigmas')),
        t.replace('{ "from": "sample.latent", "to": "out.latent" }', '{ "from": "sample.latent", "to": "out.latent" },\n    { "from": "sched.sigmas", "to": "sample.sigmas" }'));
    });
    it('refuses different types, unknown ports, inputs as sources, cycles and a connected input', () => {
      refused(connect(HAND, R, 'a.sigmas', 'b.noise'), 'E_PORT_TYPE', 'a.sigmas gives SIGMAS but b.noise takes NOISE');
      refused(connect(HAND, R, 'a.sigma', 'b.sigmas'), 'E_EDGE', 'schedule.karras has no output "sigma"; its outputs: sigmas (SIGMAS)');
      refused(connect(HAND, R, 'a.sigmas', 'b.sigma'), 'E_EDGE', 'sample has no input "sigma"; its inputs: guider (GUIDER), sampler (SAMPLER), sigmas (SIGMAS), noise (NOISE)');
      refused(connect(HAND, R, 'b.sigmas', 'a.model'), 'E_EDGE', 'b.sigmas is an input; an edge starts at an output');
      refused(connect(HAND, R, 'z.sigmas', 'b.sigmas'), 'E_EDGE', 'there is no node "z"');
      refused(connect(GOOD, R, 'noise.noise', 'sample.sigmas'), 'E_PORT_TYPE', 'NOISE');
      refused(connect(GOOD, R, 'sched.sigmas', 'sample.sigmas'), 'E_INPUT_MULTI', 'sched.sigmas is already connected to sample.sigmas');
      const two = GOOD.replace('"type": "schedule.karras"', '"type": "schedule.explicit"').replace('"params": { "steps": 10, "rho": 7 }', '"params": {}')
        .replace('    { "from": "model.model", "to": "sched.model" },\n', '');
      const withSecond = apply(two, addNode(two, R, { type: 'schedule.karras', id: 'k2' }));
      refused(connect(withSecond, R, 'k2.sigmas', 'sample.sigmas'), 'E_INPUT_MULTI', 'input sample.sigmas is already connected from sched.sigmas; an input takes one edge');
      const chain = `{"dpipe": 1, "nodes": [{"id": "x", "type": "latent.scale"}, {"id": "y", "type": "latent.scale"}, {"id": "z", "type": "latent.scale"}],
 "edges": [{"from": "x.latent", "to": "y.latent"}, {"from": "y.latent", "to": "z.latent"}]}`;
      refused(connect(chain, R, 'z.latent', 'x.latent'), 'E_CYCLE', 'this edge would make a cycle: z → x → y → z');
      refused(connect(chain, R, 'x.latent', 'x.latent'), 'E_CYCLE', 'a node cannot feed itself');
    });
    it('replace: rewrites the existing edge\'s source in place', () => {
      const two = apply(GOOD, addNode(GOOD, R, { type: 'schedule.explicit', id: 'list' }));
      const out = apply(two, connect(two, R, 'list.sigmas', 'sample.sigmas', { replace: true }));
      assert.equal(out, two.replace('{ "from": "sched.sigmas", "to": "sample.sigmas" }', '{ "from": "list.sigmas", "to": "sample.sigmas" }'));
    });
    it('refuses a corrector on a solver without corrector support (composition rule)', () => {
      const t = apply(GOOD, addNode(GOOD, R, { type: 'corrector.unic', id: 'fix' }));
      refused(connect(t, R, 'fix.corrector', 'solver.corrector'), 'E_COMPOSE', 'corrector "fix" (corrector.unic) cannot attach to solver "solver" (solver.euler)');
    });
    it('disconnect removes one edge or every edge into an input', () => {
      assert.equal(apply(GOOD, disconnect(GOOD, 'sample.noise', 'noise.noise')), GOOD.replace('    { "from": "noise.noise", "to": "sample.noise" },\n', ''));
      assert.equal(apply(GOOD, disconnect(GOOD, 'out.latent')), GOOD.replace(',\n    { "from": "sample.latent", "to": "out.latent" }', ''));
      refused(disconnect(GOOD, 'out.latent', 'noise.noise'), 'E_EDGE', 'there is no edge noise.noise → out.latent');
    });
  });

  describe('setParam', () => {
    it('replaces a value in place', () => {
      const r = setParam(GOOD, R, 'sched', 'steps', 25);
      assert.ok(r.ok);
      assert.deepEqual(r.edits, [{ offset: GOOD.indexOf('10, "rho"'), length: 2, content: '25' }]);
      assert.equal(apply(GOOD, r), GOOD.replace('"steps": 10', '"steps": 25'));
    });
    it('inserts in registry order, inline in a one-line params object', () => {
      assert.equal(apply(GOOD, setParam(GOOD, R, 'sched', 'sigma_min', 0.03)), GOOD.replace('"rho": 7 }', '"rho": 7, "sigma_min": 0.03 }'));
      const t = GOOD.replace('"params": { "steps": 10, "rho": 7 }', '"params": { "sigma_min": 0.03 }');
      assert.equal(apply(t, setParam(t, R, 'sched', 'rho', 5)), t.replace('{ "sigma_min": 0.03 }', '{ "rho": 5, "sigma_min": 0.03 }'));
      assert.equal(apply(GOOD, setParam(GOOD, R, 'solver', 's_churn', 0.5)), GOOD.replace('"params": {},', '"params": { "s_churn": 0.5 },'));
    });
    it('inserts in a multi-line params object on its own line', () => {
      const t = GOOD.replace('"params": { "steps": 10, "rho": 7 }', '"params": {\n        "steps": 10\n      }');
      assert.equal(apply(t, setParam(t, R, 'sched', 'rho', 2)), t.replace('"steps": 10\n', '"steps": 10,\n        "rho": 2\n'));
    });
    it('writes lists, and creates a missing params object', () => {
      const t = '{"dpipe": 1, "nodes": [{"id": "s", "type": "schedule.explicit"}]}';
      assert.equal(apply(t, setParam(t, R, 's', 'sigmas', [2, 1, 0])), '{"dpipe": 1, "nodes": [{"id": "s", "type": "schedule.explicit", "params": { "sigmas": [2, 1, 0] }}]}');
    });
    it('no value resets to the default by removing the key', () => {
      assert.equal(apply(GOOD, setParam(GOOD, R, 'sched', 'steps')), GOOD.replace('"steps": 10, ', ''));
      assert.equal(apply(GOOD, setParam(GOOD, R, 'sched', 'rho')), GOOD.replace(', "rho": 7', ''));
      assert.equal(apply(GOOD, setParam(GOOD, R, 'noise', 'seed')), GOOD.replace('{ "seed": 42 }', '{}'));
      const same = setParam(GOOD, R, 'sched', 'sigma_min');
      assert.ok(same.ok && same.edits.length === 0);
    });
    it('refuses out-of-range values and wrong types with the reason', () => {
      refused(setParam(GOOD, R, 'sched', 'steps', 0), 'E_PARAM_VALUE', 'parameter "steps" of node "sched" must be an integer in [1, 1000], got 0');
      refused(setParam(GOOD, R, 'guide', 'scale', 31), 'E_PARAM_VALUE', 'must be a number in [0, 30], got 31');
      refused(setParam(GOOD, R, 'model', 'prediction', 'x0'), 'E_PARAM_VALUE', 'must be one of "epsilon", "v_prediction", "sample", got "x0"');
      refused(setParam(GOOD, R, 'solver', 'denoise_last', 1), 'E_PARAM_VALUE', 'must be true or false, got 1');
      refused(setParam(GOOD, R, 'sched', 'stpes', 3), 'E_PARAM', 'allowed: steps, rho, sigma_min');
      refused(setParam(GOOD, R, 'nope', 'steps', 3), 'E_NODE_ID', 'there is no node "nope"');
    });
  });

  describe('moveNodes, renameNode, setMetadata', () => {
    it('moveNodes edits only the numbers that change, or adds a position', () => {
      const r = moveNodes(GOOD, [{ id: 'sched', x: 300.4, y: 160 }, { id: 'out', x: 1, y: 2 }]);
      assert.ok(r.ok);
      assert.equal(r.edits.length, 3);
      assert.equal(apply(GOOD, r), GOOD.replace('{ "x": 240, "y": 160 }', '{ "x": 300, "y": 160 }').replace('{ "x": 760, "y": 160 }', '{ "x": 1, "y": 2 }'));
      assert.equal(apply(HAND, moveNodes(HAND, [{ id: 'b', x: 5, y: 6 }])), HAND.replace('"params": {} }', '"params": {}, "position": { "x": 5, "y": 6 } }'));
      refused(moveNodes(HAND, [{ id: 'q', x: 0, y: 0 }]), 'E_NODE_ID', 'there is no node "q"');
    });
    it('renameNode rewrites the id and every edge naming it', () => {
      const out = apply(GOOD, renameNode(GOOD, 'sched', 'karras'));
      assert.equal(out, GOOD.replace('"id": "sched"', '"id": "karras"').replace('"sched.model"', '"karras.model"').replace('"sched.sigmas"', '"karras.sigmas"'));
      assert.deepEqual(loads(out).problems, []);
      refused(renameNode(GOOD, 'sched', 'noise'), 'E_NODE_ID', 'already used');
      refused(renameNode(GOOD, 'sched', '9'), 'E_NODE_ID', 'not allowed');
    });
    it('setMetadata sets, adds and removes title and description', () => {
      assert.equal(apply(GOOD, setMetadata(GOOD, { title: 'New' })), GOOD.replace('"Euler, Karras, 10 steps"', '"New"'));
      assert.equal(apply(GOOD, setMetadata(GOOD, { title: null })), GOOD.replace('    "title": "Euler, Karras, 10 steps",\n', ''));
      assert.equal(apply(HAND, setMetadata(HAND, { title: 'T', description: 'D' })), HAND.replace('"dpipe": 1,\n', '"dpipe": 1,\n    "metadata": {\n        "title": "T",\n        "description": "D"\n    },\n'));
      const noTitle = GOOD.replace('    "title": "Euler, Karras, 10 steps",\n', '');
      assert.equal(apply(noTitle, setMetadata(noTitle, { title: 'Back' })), GOOD.replace('Euler, Karras, 10 steps', 'Back'));
    });
  });

  describe('messages and helpers', () => {
    it('parseGraphOp accepts each op and names what is wrong', () => {
      for (const op of [
        { op: 'addNode', type: 'sample', position: { x: 1, y: 2 } }, { op: 'removeNodes', ids: ['a'] },
        { op: 'connect', from: 'a.b', to: 'c.d', replace: true }, { op: 'disconnect', to: 'c.d' },
        { op: 'setParam', node: 'a', param: 'steps', value: 3 }, { op: 'setParam', node: 'a', param: 'steps' },
        { op: 'moveNodes', moves: [{ id: 'a', x: 1, y: 2 }] }, { op: 'renameNode', from: 'a', to: 'b' }, { op: 'setMetadata', title: null },
      ]) assert.deepEqual(parseGraphOp(op), { ok: true, op });
      assert.deepEqual(parseGraphOp({ op: 'explode' }), { ok: false, reason: 'unknown op "explode"; ops: addNode, removeNodes, connect, disconnect, setParam, moveNodes, renameNode, setMetadata' });
      assert.deepEqual(parseGraphOp({ op: 'connect', from: 'a.b' }), { ok: false, reason: 'connect: "from" and "to" must be strings "nodeId.port"' });
      assert.deepEqual(parseGraphOp({ op: 'setParam', node: 'a', param: 'p', value: {} }), { ok: false, reason: 'setParam: "value" must be a number, boolean, string or list of numbers' });
      assert.deepEqual(parseGraphOp({ op: 'removeNodes', ids: [], extra: 1 }), { ok: false, reason: 'removeNodes: unknown field extra; allowed: ids' });
    });
    it('applyGraphOp refuses text that is not valid JSON rather than rewriting it', () => {
      refused(applyGraphOp('{"dpipe": 1, "nodes": [', R, { op: 'addNode', type: 'sample' }), 'E_JSON', 'fix it in the text editor first');
    });
    it('layoutNeeded when some node has no position; readPipelineLenient reads without a schema', () => {
      assert.equal(layoutNeeded(loads(GOOD).doc!), false);
      const lenient = readPipelineLenient(HAND);
      assert.ok('doc' in lenient);
      assert.equal(layoutNeeded(lenient.doc), true);
      assert.deepEqual(lenient.doc.nodes.map((n) => n.id), ['a', 'b']);
    });
    it('CRLF files keep CRLF', () => {
      const crlf = HAND.replace(/\n/g, '\r\n');
      const out = apply(crlf, connect(crlf, R, 'a.sigmas', 'b.sigmas'));
      assert.ok(!/[^\r]\n/.test(out), 'no bare LF');
      assert.ok(out.includes('"edges": [\r\n        { "from": "a.sigmas", "to": "b.sigmas" }\r\n    ]'));
    });
  });
});
