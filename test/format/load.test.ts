import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Problem } from '../../src/engine/core/errors';
import { FORMAT_VERSION, closestNames, hasErrors, loadPipeline, type LoadOptions, type Migration } from '../../src/engine/format/index';
import { FAKE_REGISTRY } from './fake-registry';

const DIR = path.join(__dirname, '..', 'fixtures', 'pipelines');
const GOOD_FILE = path.join(DIR, 'good.dpipe');
const GOOD = readFileSync(GOOD_FILE, 'utf8');

function load(text: string, opts: LoadOptions = {}) {
  return loadPipeline(text, { file: GOOD_FILE, registry: FAKE_REGISTRY, ...opts });
}

/** The good fixture with each `[from, to]` replaced; each `from` must occur exactly once. */
function variant(...subs: [string, string][]): string {
  let t = GOOD;
  for (const [a, b] of subs) {
    assert.equal(t.split(a).length, 2, `fixture must contain ${JSON.stringify(a)} exactly once`);
    t = t.replace(a, b);
  }
  return t;
}

/** The single problem with this code (fails if there are none or several). */
function one(problems: Problem[], code: string): Problem {
  const hits = problems.filter((p) => p.code === code);
  assert.equal(hits.length, 1, `expected one ${code}, got: ${JSON.stringify(problems, null, 1)}`);
  return hits[0];
}

function expectAt(p: Problem, pointer: string, line: number, column: number, ...phrases: string[]): void {
  assert.equal(p.pointer, pointer, p.message);
  assert.equal(p.line, line, `line of ${p.message}`);
  assert.equal(p.column, column, `column of ${p.message}`);
  for (const s of phrases) assert.ok(p.message.includes(s), `message ${JSON.stringify(p.message)} lacks ${JSON.stringify(s)}`);
}

/** The text a problem's offset/length covers. */
function covered(text: string, p: Problem): string {
  return text.slice(p.offset, (p.offset ?? 0) + (p.length ?? 0));
}

describe('format/load', () => {
  it('loads a good pipeline with no problems, params as written', () => {
    const r = load(GOOD);
    assert.deepEqual(r.problems, []);
    assert.ok(r.doc);
    assert.equal(r.doc.dpipe, FORMAT_VERSION);
    assert.equal(r.doc.metadata.title, 'Euler, Karras, 10 steps');
    assert.deepEqual(r.doc.nodes.map((n) => n.id), ['model', 'guide', 'sched', 'solver', 'noise', 'sample', 'out']);
    assert.deepEqual(r.doc.nodes[2], { id: 'sched', type: 'schedule.karras', params: { steps: 10, rho: 7 }, position: { x: 240, y: 160 } });
    assert.deepEqual(r.doc.edges[4], { from: 'sched.sigmas', to: 'sample.sigmas' });
    assert.equal(r.migratedFrom, undefined);
  });

  it('defaults: missing params, metadata, edges and position are allowed', () => {
    const r = load('{"dpipe": 1, "nodes": [{"id": "s", "type": "schedule.explicit"}]}');
    assert.deepEqual(r.problems.map((p) => p.code), ['W_UNUSED']);
    assert.deepEqual(r.doc, { dpipe: 1, metadata: {}, nodes: [{ id: 's', type: 'schedule.explicit', params: {} }], edges: [] });
  });

  it('a byte-order mark is allowed and offsets still index the text', () => {
    const t = '\uFEFF' + variant(['"batch": 4', '"batch": 0']);
    const p = one(load(t).problems, 'E_PARAM_VALUE');
    expectAt(p, '/nodes/5/params/batch', 41, 28);
    assert.equal(covered(t, p), '0');
  });

  describe('malformed JSON (E_JSON)', () => {
    it('a missing comma, located at the next token', () => {
      const t = variant(['"type": "guider.cfg",', '"type": "guider.cfg"']);
      const r = load(t);
      assert.equal(r.doc, undefined);
      const p = one(r.problems, 'E_JSON');
      assert.equal(p.pointer, undefined);
      assert.equal(p.line, 17);
      assert.equal(p.column, 7);
      assert.match(p.message, /expected ',' between items/);
      assert.equal(covered(t, p), '"params"');
    });
    it('a trailing comma', () => {
      const p = one(load(variant(['{ "scale": 3.5 }', '{ "scale": 3.5, }'])).problems, 'E_JSON');
      assert.equal(p.line, 17);
      assert.equal(p.column, 33);
      assert.match(p.message, /trailing comma before '}'/);
    });
    it('a comment', () => {
      const p = one(load(variant(['"params": { "batch": 4 },', '"params": { "batch": 4 }, // four'])).problems, 'E_JSON');
      assert.equal(p.line, 41);
      assert.equal(p.column, 33);
      assert.match(p.message, /comments are not allowed/);
    });
    it('an empty file', () => {
      const p = one(load('  \n').problems, 'E_JSON');
      assert.equal(p.line, 1);
      assert.match(p.message, /the file is empty/);
    });
  });

  describe('structure (E_FORMAT, ajv)', () => {
    it('an unknown key in a node, marked on the key, listing the allowed keys', () => {
      const t = variant(['"position": { "x": 240, "y": 0 }', '"pos": { "x": 240, "y": 0 }']);
      const r = load(t);
      assert.equal(r.doc, undefined);
      const p = one(r.problems, 'E_FORMAT');
      expectAt(p, '/nodes/1/pos', 18, 7, 'node "guide" has an unknown key "pos"', 'allowed keys: id, type, params, position');
      assert.equal(covered(t, p), '"pos"');
      assert.equal(p.nodeId, 'guide');
    });
    it('a missing required key, marked at the start of its object', () => {
      const p = one(load(variant(['"type": "solver.euler",\n', ''])).problems, 'E_FORMAT');
      expectAt(p, '/nodes/3', 26, 5, 'node "solver" is missing "type"', 'dpipe blocks');
      assert.equal(p.length, 1);
    });
    it('a value of the wrong JSON type', () => {
      const p = one(load(variant(['"position": { "x": 240, "y": 480 }', '"position": { "x": "240", "y": 480 }'])).problems, 'E_FORMAT');
      expectAt(p, '/nodes/4/position/x', 36, 26, 'node "noise" position.x must be a number, got the string "240"');
    });
    it('a duplicate key, marked on the second one (the document is still read)', () => {
      const t = variant(['"params": { "batch": 4 },', '"params": { "batch": 4, "batch": 5 },']);
      const r = load(t);
      const p = one(r.problems, 'E_FORMAT');
      expectAt(p, '/nodes/5/params/batch', 41, 31, 'duplicate key "batch" in node "sample" params', 'may appear once');
      assert.equal(covered(t, p), '"batch"');
      assert.ok(r.doc);
    });
    it('not an object at all', () => {
      const p = one(load('[1, 2]').problems, 'E_FORMAT');
      expectAt(p, '', 1, 1, 'a .dpipe file is a JSON object', 'an array');
    });
  });

  describe('format version (E_VERSION)', () => {
    it('a newer version gives exactly one clear problem and no document', () => {
      const r = load(variant(['"dpipe": 1', '"dpipe": 7']));
      assert.equal(r.doc, undefined);
      assert.equal(r.problems.length, 1);
      expectAt(r.problems[0], '/dpipe', 2, 12, 'format version 7', 'newer dpipe', `up to ${FORMAT_VERSION}`, 'Update dpipe');
      assert.equal(r.problems[0].code, 'E_VERSION');
    });
    it('a version with no migration path', () => {
      const p = one(load(variant(['"dpipe": 1', '"dpipe": 0'])).problems, 'E_VERSION');
      expectAt(p, '/dpipe', 2, 12, 'version 0 is not supported', 'versions 1 to 1');
    });
  });

  describe('migration', () => {
    // A fictitious format 2 that renamed karras' `rho` to `karras_rho`: the table migrates v1 files on load.
    const v2Registry = FAKE_REGISTRY.map((t) => t.type !== 'schedule.karras' ? t : {
      ...t,
      params: t.params.map((p) => (p.name === 'rho' ? { ...p, name: 'karras_rho' } : p)),
    });
    const toV2: Migration = {
      from: 1,
      note: 'schedule.karras: rho → karras_rho',
      migrate: (doc) => ({
        ...doc,
        nodes: (doc.nodes as { type: string; params?: Record<string, unknown> }[]).map((n) => {
          if (n.type !== 'schedule.karras' || !n.params || !('rho' in n.params)) return n;
          const { rho, ...rest } = n.params;
          return { ...n, params: { ...rest, karras_rho: rho } };
        }),
      }),
    };
    it('applies vN → vN+1 functions in order and reports where it came from', () => {
      const r = load(GOOD, { registry: v2Registry, migrations: [toV2], currentVersion: 2 });
      assert.deepEqual(r.problems, []);
      assert.equal(r.migratedFrom, 1);
      assert.equal(r.doc?.dpipe, 2);
      assert.deepEqual(r.doc?.nodes[2].params, { steps: 10, karras_rho: 7 });
    });
    it('chains several migrations', () => {
      const bump: Migration = { from: 2, note: 'adds a metadata note', migrate: (doc) => ({ ...doc, metadata: { ...(doc.metadata as object), note: 'migrated' } }) };
      const r = load(GOOD, { registry: v2Registry, migrations: [bump, toV2], currentVersion: 3 });
      assert.deepEqual(r.problems, []);
      assert.equal(r.doc?.dpipe, 3);
      assert.equal(r.doc?.metadata.note, 'migrated');
      assert.deepEqual(r.doc?.nodes[2].params, { steps: 10, karras_rho: 7 });
    });
    it('without the migration the old file is refused', () => {
      const p = one(load(GOOD, { registry: v2Registry, migrations: [], currentVersion: 2 }).problems, 'E_VERSION');
      assert.match(p.message, /version 1 is not supported; this build reads versions 2 to 2/);
    });
  });

  it('unknown node type (E_NODE_TYPE) suggests the closest names', () => {
    const p = one(load(variant(['"guider.cfg"', '"guider.cgf"'])).problems, 'E_NODE_TYPE');
    expectAt(p, '/nodes/1/type', 16, 15, 'unknown node type "guider.cgf"', 'did you mean "guider.cfg"?', 'known types: model.onnx');
    assert.equal(p.nodeId, 'guide');
  });

  it('unknown parameter (E_PARAM) lists the allowed ones, marked on the key', () => {
    const t = variant(['"steps": 10', '"stpes": 10']);
    const p = one(load(t).problems, 'E_PARAM');
    expectAt(p, '/nodes/2/params/stpes', 23, 19, 'has no parameter "stpes"', 'did you mean "steps"?', 'allowed: steps, rho, sigma_min');
    assert.equal(covered(t, p), '"stpes"');
  });

  describe('parameter values (E_PARAM_VALUE) name the range or options', () => {
    const cases: [string, [string, string], string, number, number, string][] = [
      ['out of range', ['"steps": 10', '"steps": 0'], '/nodes/2/params/steps', 23, 28, 'must be an integer in [1, 1000], got 0'],
      ['not an integer', ['"steps": 10', '"steps": 2.5'], '/nodes/2/params/steps', 23, 28, 'must be an integer in [1, 1000], got 2.5'],
      ['exclusive minimum', ['"rho": 7', '"rho": 0'], '/nodes/2/params/rho', 23, 39, 'must be a number > 0, got 0'],
      ['wrong type', ['"scale": 3.5', '"scale": "3.5"'], '/nodes/1/params/scale', 17, 28, 'must be a number in [0, 30], got "3.5"'],
      ['not an option', ['"prediction": "v_prediction"', '"prediction": "v"'], '/nodes/0/params/prediction', 11, 55, 'must be one of "epsilon", "v_prediction", "sample", got "v"'],
      ['negative seed', ['"seed": 42', '"seed": -1'], '/nodes/4/params/seed', 35, 27, 'must be an integer in [0, 9007199254740991], got -1'],
      ['file extension', ['"path": "model.onnx"', '"path": "model.pt"'], '/nodes/0/params/path', 11, 27, 'must be a path relative to the .dpipe file, ending in .onnx, got "model.pt"'],
    ];
    for (const [what, sub, pointer, line, column, phrase] of cases) {
      it(what, () => {
        const p = one(load(variant(sub)).problems, 'E_PARAM_VALUE');
        expectAt(p, pointer, line, column, phrase);
      });
    }
    it('a number list item out of range', () => {
      const t = '{"dpipe": 1, "nodes": [{"id": "s", "type": "schedule.explicit", "params": {"sigmas": [3, -1, 0]}}]}';
      const p = one(load(t).problems, 'E_PARAM_VALUE');
      expectAt(p, '/nodes/0/params/sigmas', 1, 86, 'must be a list of numbers ≥ 0', 'item 1 is -1');
    });
  });

  it('ports of the wrong type (E_PORT_TYPE) name both types', () => {
    const t = variant(['{ "from": "noise.noise", "to": "sample.noise" }', '{ "from": "sched.sigmas", "to": "sample.noise" }']);
    const p = one(load(t).problems, 'E_PORT_TYPE');
    expectAt(p, '/edges/5', 57, 5, 'edge sched.sigmas → sample.noise connects SIGMAS to NOISE', 'same type');
    assert.equal(p.nodeId, 'sample');
    assert.equal(covered(t, p), '{ "from": "sched.sigmas", "to": "sample.noise" }');
  });

  it('missing required input (E_INPUT_MISSING) names the port and what could feed it', () => {
    const r = load(variant(['    { "from": "solver.sampler", "to": "sample.sampler" },\n', '']));
    const p = one(r.problems, 'E_INPUT_MISSING');
    expectAt(p, '/nodes/5/id', 39, 13, 'node "sample" (sample): required input "sampler" (SAMPLER) is not connected', 'outputs of type SAMPLER here: solver.sampler');
    assert.equal(p.nodeId, 'sample');
    const w = one(r.problems, 'W_UNUSED');
    assert.equal(w.severity, 'warning');
    expectAt(w, '/nodes/3/id', 27, 13, 'node "solver" (solver.euler): its outputs (sampler) are not connected');
  });

  it('an input with two edges (E_INPUT_MULTI) names the first', () => {
    const t = variant(['    { "from": "sample.latent", "to": "out.latent" }\n', '    { "from": "sample.latent", "to": "out.latent" },\n    { "from": "model.model", "to": "sched.model" }\n']);
    const p = one(load(t).problems, 'E_INPUT_MULTI');
    expectAt(p, '/edges/7/to', 59, 36, 'input sched.model has more than one edge (already fed by model.model, edges[1])');
  });

  it('cycles (E_CYCLE) name the nodes along the cycle', () => {
    const t = `{
  "dpipe": 1,
  "nodes": [
    { "id": "a", "type": "latent.scale" },
    { "id": "b", "type": "latent.scale" },
    { "id": "c", "type": "latent.scale" }
  ],
  "edges": [
    { "from": "a.latent", "to": "b.latent" },
    { "from": "b.latent", "to": "c.latent" },
    { "from": "c.latent", "to": "a.latent" }
  ]
}`;
    const r = load(t);
    assert.ok(r.doc, 'a cyclic graph still yields the document for the editor');
    const p = one(r.problems, 'E_CYCLE');
    expectAt(p, '/nodes/0/id', 4, 13, 'the graph has a cycle: a → b → c → a');
    assert.equal(r.problems.length, 1);
  });

  describe('dangling edges (E_EDGE)', () => {
    it('an unknown node, with a suggestion', () => {
      const p = one(load(variant(['{ "from": "noise.noise"', '{ "from": "nosie.noise"'])).problems, 'E_EDGE');
      expectAt(p, '/edges/5/from', 57, 15, 'there is no node "nosie"', 'did you mean "noise"?', 'nodes: model, guide');
    });
    it('an unknown port lists the node\'s ports', () => {
      const p = one(load(variant(['"to": "sample.noise"', '"to": "sample.nois"'])).problems, 'E_EDGE');
      expectAt(p, '/edges/5/to', 57, 36, 'node "sample" (sample) has no input "nois"', 'did you mean "noise"?', 'its inputs: guider (GUIDER), sampler (SAMPLER), sigmas (SIGMAS), noise (NOISE)');
      assert.equal(p.nodeId, 'sample');
    });
    it('an input used as a source', () => {
      const p = one(load(variant(['{ "from": "sample.latent", "to": "out.latent" }', '{ "from": "sample.sigmas", "to": "out.latent" }'])).problems, 'E_EDGE');
      expectAt(p, '/edges/6/from', 58, 15, '"sample.sigmas" is an input; "from" must name an output', 'sample outputs: latent (LATENT)');
    });
    it('an endpoint that is not node.port', () => {
      const p = one(load(variant(['"to": "out.latent"', '"to": "out"'])).problems, 'E_EDGE');
      expectAt(p, '/edges/6/to', 58, 38, 'edge endpoint "out" must be "nodeId.port"');
    });
  });

  describe('node ids (E_NODE_ID)', () => {
    it('a duplicate id', () => {
      const p = one(load(variant(['"id": "out"', '"id": "noise"'])).problems.filter((x) => x.code === 'E_NODE_ID'), 'E_NODE_ID');
      expectAt(p, '/nodes/6/id', 45, 13, 'node id "noise" is used twice (also nodes[4])');
    });
    it('an id that breaks the pattern', () => {
      const r = load('{"dpipe": 1, "nodes": [{"id": "2x", "type": "schedule.explicit"}]}');
      const p = one(r.problems, 'E_NODE_ID');
      expectAt(p, '/nodes/0/id', 1, 31, 'node id "2x" is not allowed', 'starts with a letter or _');
      assert.ok(r.doc, 'id problems do not hide the document');
    });
  });

  describe('files (E_FILE_MISSING), relative to the .dpipe', () => {
    it('an existing file passes; a missing one is reported with the resolved path', () => {
      assert.deepEqual(load(GOOD).problems, []);
      const p = one(load(variant(['"path": "model.onnx"', '"path": "../nowhere/missing.onnx"'])).problems, 'E_FILE_MISSING');
      expectAt(p, '/nodes/0/params/path', 11, 27, 'file "../nowhere/missing.onnx" (parameter "path") does not exist', path.resolve(DIR, '../nowhere/missing.onnx'));
    });
    it('resolves against baseDir, and checkFiles: false skips the check', () => {
      assert.equal(one(load(GOOD, { baseDir: path.join(DIR, '..') }).problems, 'E_FILE_MISSING').code, 'E_FILE_MISSING');
      assert.deepEqual(load(GOOD, { baseDir: '/nonexistent', checkFiles: false }).problems, []);
    });
  });

  describe('composition rules (E_COMPOSE)', () => {
    const withCorrector = (solverType: string) => variant(
      ['"type": "solver.euler"', `"type": "${solverType}"`],
      ['    { "from": "sample.latent", "to": "out.latent" }\n', '    { "from": "sample.latent", "to": "out.latent" },\n    { "from": "fix.corrector", "to": "solver.corrector" }\n'],
      ['  ],\n  "edges"', '    ,{ "id": "fix", "type": "corrector.unic" }\n  ],\n  "edges"'],
    );
    it('a corrector on a solver without acceptsCorrector names both blocks and why', () => {
      const r = load(withCorrector('solver.euler'));
      const p = one(r.problems, 'E_COMPOSE');
      expectAt(p, '/edges/7', 60, 5, 'corrector "fix" (corrector.unic) cannot attach to solver "solver" (solver.euler)', 'does not accept a corrector');
      assert.equal(p.nodeId, 'solver');
      assert.equal(r.problems.filter((x) => x.code === 'E_EDGE').length, 0, 'the rule explains the edge; no "no such port" on top');
    });
    it('a solver with acceptsCorrector takes it', () => {
      assert.deepEqual(load(withCorrector('solver.unipc')).problems.filter((p) => p.severity === 'error'), []);
    });
    it('rules are a list the caller can extend', () => {
      const r = load(GOOD, { rules: [({ doc }) => doc.nodes.filter((n) => n.type === 'guider.cfg').map((n) => ({ nodeId: n.id, message: 'no CFG today', severity: 'warning' as const }))] });
      const p = one(r.problems, 'E_COMPOSE');
      expectAt(p, '/nodes/1/id', 15, 13, 'no CFG today');
      assert.equal(p.severity, 'warning');
    });
  });

  it('reports every problem at once, in document order', () => {
    const t = variant(
      ['"guider.cfg"', '"guider.cgf"'],
      ['"steps": 10', '"stpes": 10'],
      ['"batch": 4', '"batch": 99'],
      ['"to": "sample.noise"', '"to": "sample.nois"'],
      ['"path": "model.onnx"', '"path": "gone.onnx"'],
    );
    const r = load(t);
    assert.deepEqual(r.problems.map((p) => p.code), ['E_FILE_MISSING', 'E_NODE_TYPE', 'E_PARAM', 'E_INPUT_MISSING', 'E_PARAM_VALUE', 'E_EDGE']);
    assert.ok(hasErrors(r.problems));
    assert.ok(r.problems.every((p) => p.file === GOOD_FILE));
    const offsets = r.problems.map((p) => p.offset ?? -1);
    assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b));
  });
});

describe('format/registry closestNames', () => {
  it('keeps only the nearest names; same last segment and prefixes count as near', () => {
    assert.deepEqual(closestNames('solvers.dpmpp_2m', ['solver.dpmpp_2m', 'solver.dpmpp_3m', 'solver.dpmpp_sde']), ['solver.dpmpp_2m']);
    assert.deepEqual(closestNames('karras', ['schedule.karras', 'schedule.exponential']), ['schedule.karras']);
    assert.deepEqual(closestNames('schedule', ['model', 'sched', 'solver']), ['sched']);
    assert.deepEqual(closestNames('stpes', ['steps', 'rho']), ['steps']);
    assert.deepEqual(closestNames('zzz', ['steps', 'rho']), []);
  });
});
