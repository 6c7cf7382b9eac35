/**
 * Property-based fuzzing of validation and runs over the whole block registry (fast-check), issues 13 and 14:
 * documents generated from the registry (every block type, parameters valid and hostile, wiring mostly by port type),
 * the reference pipelines mutated (types swapped within a category, parameters set to hostile values, edges dropped
 * and added, ids renamed), and their text mutated (cut, spliced, nested 5,000 deep) go through `dpipe validate`'s
 * code path; each document that validates then runs briefly (stopped after three model evaluations) on the
 * mixture models. The properties:
 *
 * - zero internal errors: validation never throws, and a run ends completed, stopped, or with a DpipeError;
 * - every rejection is located: each problem has a known code, a message, a line and a column; a run's error
 *   names its node;
 * - what validates starts: no run that validated fails before its first model evaluation.
 *
 * `npm test` runs DPIPE_FUZZ_RUNS documents (default 1,500, about a minute on 2 cores); DPIPE_FUZZ_RUNS=10000 runs
 * the full count of the issue. DPIPE_FUZZ_SEED replays a run.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { DpipeError, ERROR_CODES, isAbort, type Problem } from '../../src/engine/core/errors';
import { parseNpy } from '../../src/engine/core/npy';
import { hasErrors } from '../../src/engine/format/index';
import { releaseAll } from '../../src/engine/model/onnx';
import { registryInfo } from '../../src/engine/registry/index';
import type { NodeTypeInfo, ParamSpec } from '../../src/engine/registry/types';
import { runPipeline } from '../../src/engine/run/runner';
import { validatePipeline } from '../../src/engine/run/validate';

const ROOT = path.resolve(__dirname, '../..');
/** Documents are validated as if they sat here: `../golden/models/*.onnx` are the 8-component mixture models. */
const BASE = path.join(ROOT, 'test', 'fixtures', 'golden-pipelines');
const RUNS = Number(process.env.DPIPE_FUZZ_RUNS ?? 1500);
const SEED = process.env.DPIPE_FUZZ_SEED !== undefined ? Number(process.env.DPIPE_FUZZ_SEED) : undefined;
const BUDGET = { memoryBytes: 4e8, trajectoryBytes: 0 };

const REGISTRY = registryInfo();
const TYPES = REGISTRY.map((t) => t.type);
const byType = new Map(REGISTRY.map((t) => [t.type, t]));
const sameCategory = (t: NodeTypeInfo) => REGISTRY.filter((o) => o.category === t.category).map((o) => o.type);

const FILES: Record<string, string[]> = {
  '.onnx': ['../golden/models/gmm_eps_vp.onnx', '../golden/models/gmm_edm.onnx', '../../../models/mnist_gmm.onnx', 'missing.onnx', '../../../models/mnist_heldout.npy'],
  '.npy': ['../../../examples/digit3.npy', '../../../models/mnist_heldout_labels.npy', 'missing.npy', '../golden/models/gmm_edm.onnx'],
};

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const HOSTILE: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(1e308, -1e308, 2 ** 53, -(2 ** 53), 1.5, -1, 0, -0, 1e-300, 'text', '', true, null, [], {}, [1, 'a'], [1e308], 'a'.repeat(300), '../../etc/passwd'),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -1e6, max: 1e9 }),
);

function validValue(spec: ParamSpec): fc.Arbitrary<Json> {
  switch (spec.type) {
    case 'number':
      return fc.double({ min: spec.min ?? -100, max: Math.min(spec.max ?? 100, 1e6), noNaN: true, noDefaultInfinity: true });
    case 'integer':
      // Mostly small (runs stay short), sometimes the block's own maximum (huge batches and sizes).
      return fc.oneof({ weight: 9, arbitrary: fc.integer({ min: spec.min ?? -5, max: Math.min(spec.max ?? 60, 60) }) }, { weight: 1, arbitrary: fc.constant(spec.max ?? 2 ** 31) });
    case 'boolean':
      return fc.boolean();
    case 'enum':
      return fc.constantFrom(...spec.options);
    case 'string':
      return fc.constantFrom('', 'image', 'x_1', 'a.b', '../x', 'sample', 'timestep');
    case 'file':
      return fc.constantFrom('', ...(spec.extensions.flatMap((e) => FILES[e.startsWith('.') ? e : `.${e}`] ?? [])));
    case 'seed':
      return fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.constant(Number.MAX_SAFE_INTEGER));
    case 'numberList':
      return fc.array(fc.double({ min: spec.min ?? -10, max: spec.max ?? 10, noNaN: true, noDefaultInfinity: true }), { maxLength: 8 });
  }
}

const paramValue = (spec: ParamSpec): fc.Arbitrary<Json> => fc.oneof({ weight: 6, arbitrary: validValue(spec) }, { weight: 1, arbitrary: HOSTILE });

/** One node of a type: some of its parameters set (valid or hostile), sometimes an unknown one. */
function nodeOf(type: string): fc.Arbitrary<{ type: string; params: Record<string, Json> }> {
  const info = byType.get(type)!;
  const params = info.params.length
    ? fc.subarray([...info.params], { maxLength: Math.min(4, info.params.length) }).chain((specs) => fc.tuple(...specs.map((s) => paramValue(s))).map((vals) => Object.fromEntries(specs.map((s, i) => [s.name, vals[i]]))))
    : fc.constant({} as Record<string, Json>);
  return fc.tuple(params, fc.oneof({ weight: 19, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom('bogus', 'steps') })).map(([p, extra]) => ({ type, params: extra ? { ...p, [extra]: 1 } : p }));
}

/**
 * A document from the registry: blocks of random types (a model, a schedule, a solver, noise, a Sample block and an
 * output most of the time), each input wired from a random earlier block with an output of its type (else left
 * open or wired wrongly), driven by a stream of choices.
 */
const generated: fc.Arbitrary<Json> = fc
  .tuple(
    fc.array(fc.constantFrom(...TYPES), { maxLength: 5 }),
    fc.boolean(),
    fc.array(fc.nat(), { minLength: 48, maxLength: 48 }),
  )
  .chain(([extra, skeleton, choices]) => {
    const pick = (cat: string) => REGISTRY.filter((t) => t.category === cat).map((t) => t.type);
    const base = skeleton ? [pick('Model')[0], pick('Schedule')[choices[0] % pick('Schedule').length], pick('Solver')[choices[1] % pick('Solver').length], 'noise.seeded', 'guider.basic', 'sample', 'output.latent'] : [];
    const types = [...base, ...extra];
    return fc.tuple(fc.constant(types), fc.tuple(...types.map(nodeOf)), fc.constant(choices));
  })
  .map(([types, nodes, choices]) => {
    let c = 2;
    const next = () => choices[c++ % choices.length];
    const ids = types.map((t, i) => `${t.slice(t.lastIndexOf('.') + 1).replace(/[^A-Za-z0-9_]/g, '_')}${i}`);
    const edges: Json[] = [];
    types.forEach((t, j) => {
      for (const port of byType.get(t)!.inputs) {
        const r = next();
        if (port.optional && r % 3 === 0) continue;
        const sources = types.flatMap((s, i) => (i === j ? [] : byType.get(s)!.outputs.filter((o) => o.type === port.type || r % 17 === 0).map((o) => `${ids[i]}.${o.name}`)));
        if (sources.length) edges.push({ from: sources[r % sources.length], to: `${ids[j]}.${port.name}` });
      }
    });
    if (next() % 11 === 0 && edges.length) edges.push(edges[next() % edges.length]);
    return { dpipe: 1, nodes: nodes.map((n, i) => ({ id: ids[i], ...n })), edges };
  });

/** The reference pipelines (82 golden runs and the examples), with their folders' relative paths rebased here. */
const REFERENCE: Json[] = [
  ...fs.readdirSync(BASE).filter((f) => f.endsWith('.dpipe')).map((f) => JSON.parse(fs.readFileSync(path.join(BASE, f), 'utf8')) as Json),
  ...fs.readdirSync(path.join(ROOT, 'examples')).filter((f) => f.endsWith('.dpipe')).map((f) => {
    const text = fs.readFileSync(path.join(ROOT, 'examples', f), 'utf8').replace(/"\.\.\/models\//g, '"../../../models/').replace(/"digit3\.npy"/g, '"../../../examples/digit3.npy"');
    return JSON.parse(text) as Json;
  }),
];

type Doc = { nodes: { id: string; type: string; params: Record<string, Json> }[]; edges: { from: string; to: string }[] };
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** A reference pipeline after a few mutations. */
const mutated: fc.Arbitrary<Json> = fc
  .tuple(fc.constantFrom(...REFERENCE), fc.array(fc.tuple(fc.nat(8), fc.nat(), fc.nat(), HOSTILE), { maxLength: 3 }))
  .chain(([ref, muts]) => {
    const d = clone(ref) as unknown as Doc;
    const steps: fc.Arbitrary<unknown>[] = [];
    for (const [kind, a, b, hostile] of muts) {
      if (!Array.isArray(d.nodes) || !Array.isArray(d.edges)) break; // an earlier mutation replaced them
      const n = d.nodes[a % Math.max(1, d.nodes.length)];
      if (n === null || typeof n !== 'object' || Array.isArray(n)) continue;
      if (typeof n.params !== 'object' || n.params === null) n.params = {};
      const info = n && byType.get(n.type);
      switch (kind) {
        case 0: // another block of the same category, its parameters dropped
          if (info) {
            const others = sameCategory(info);
            n.type = others[b % others.length];
            n.params = {};
          }
          break;
        case 1: // a hostile parameter value
          if (info?.params.length) n.params[info.params[b % info.params.length].name] = hostile;
          break;
        case 2: // a valid but random parameter value (steps, batch, sizes…)
          if (info?.params.length) {
            const params = n.params;
            const name = info.params[b % info.params.length].name;
            steps.push(validValue(info.params[b % info.params.length]).map((v) => (params[name] = v)));
          }
          break;
        case 3:
          d.edges.splice(b % Math.max(1, d.edges.length), 1);
          break;
        case 4: {
          const from = d.nodes[b % d.nodes.length];
          const out = from && byType.get(from.type)?.outputs[0];
          const inp = info?.inputs[b % Math.max(1, info.inputs.length)];
          if (out && inp) d.edges.push({ from: `${from.id}.${out.name}`, to: `${n.id}.${inp.name}` });
          break;
        }
        case 5: // rename a node (its edges keep the old id: dangling)
          if (n) n.id = b % 2 ? `${n.id}_x` : 'a'.repeat(70);
          break;
        case 6: // duplicate a node
          if (n) d.nodes.push(clone(n));
          break;
        case 7:
          if (n) delete (n as { params?: unknown }).params;
          break;
        default:
          (d as unknown as Record<string, Json>)[['nodes', 'edges', 'dpipe', 'metadata'][b % 4]] = hostile;
      }
    }
    return steps.length ? fc.tuple(...steps).map(() => d as unknown as Json) : fc.constant(d as unknown as Json);
  });

/** Text of a document, sometimes cut, spliced or nested deep. */
const asText = (doc: fc.Arbitrary<Json>): fc.Arbitrary<string> =>
  fc.tuple(doc, fc.nat(20), fc.nat(), fc.nat(), fc.constantFrom('{', '}', '[', ']', '"', ',', ':', '1e999', '\u0000', '\\', '\ufeff')).map(([d, op, a, b, ins]) => {
    const text = JSON.stringify(d, null, 2);
    const i = a % (text.length + 1);
    const j = b % (text.length + 1);
    switch (op) {
      case 0:
        return text.slice(0, Math.min(i, j)) + text.slice(Math.max(i, j));
      case 1:
        return text.slice(0, i) + ins + text.slice(i);
      case 2:
        return text.slice(0, i) + text.slice(Math.min(i, j), Math.max(i, j)) + text.slice(i);
      case 3:
        return `{"dpipe": 1, "metadata": {"deep": ${'['.repeat(5000)}${']'.repeat(5000)}}, "nodes": [], "edges": []}`;
      default:
        return text;
    }
  });

interface Tally {
  docs: number;
  valid: number;
  ran: number;
  stopped: number;
  runErrors: number;
  failedBeforeFirstEval: string[];
  internal: string[];
  unlocated: string[];
  codes: Map<string, number>;
}

function checkProblems(ps: readonly Problem[], t: Tally, text: string): void {
  for (const p of ps) {
    t.codes.set(p.code, (t.codes.get(p.code) ?? 0) + 1);
    if (!(p.code in ERROR_CODES) || !p.message || !(p.line! >= 1) || !(p.column! >= 1)) t.unlocated.push(`${JSON.stringify(p)}\n${text.slice(0, 400)}`);
  }
}

async function property(text: string, t: Tally): Promise<void> {
  t.docs++;
  let res: Awaited<ReturnType<typeof validatePipeline>>;
  try {
    res = await validatePipeline(text, { file: 'fuzz.dpipe', baseDir: BASE, budget: BUDGET });
  } catch (e) {
    t.internal.push(`validate threw ${(e as Error)?.stack ?? e}\n${text.slice(0, 600)}`);
    return;
  }
  checkProblems(res.problems, t, text);
  if (!res.doc || hasErrors(res.problems)) return;
  t.valid++;
  const stop = new AbortController();
  let evals = 0;
  try {
    const r = await runPipeline(res.doc, {
      baseDir: BASE, budget: BUDGET, trajectory: { record: false }, signal: stop.signal,
      onEval: () => {
        if (++evals >= 3) stop.abort();
      },
    });
    if (r.status === 'aborted') t.stopped++;
    else t.ran++;
  } catch (e) {
    if (!(e instanceof DpipeError)) {
      t.internal.push(`run threw ${(e as Error)?.stack ?? e}\n${text.slice(0, 600)}`);
      return;
    }
    if (isAbort(e)) {
      t.stopped++;
      return;
    }
    t.runErrors++;
    if (evals === 0 && e.code !== 'E_NAN') t.failedBeforeFirstEval.push(`[${e.code}] ${e.message}\n${text.slice(0, 300)}`);
    if (!e.problems.some((p) => p.nodeId !== undefined || p.pointer !== undefined) && !/node "/.test(e.message)) t.unlocated.push(`run error without its node: [${e.code}] ${e.message}`);
  }
}

describe('fuzz: .npy headers (fast-check)', () => {
  it('any header is read or refused with E_NPY, never another error', () => {
    const header = fc.record({
      descr: fc.constantFrom("'<f4'", "'<f8'", "'>f4'", "'|u1'", "'<c8'", "'O'", '1', "'<f4"),
      fortran: fc.constantFrom('False', 'True', 'maybe', ''),
      shape: fc.array(fc.oneof(fc.integer({ min: -3, max: 40 }), fc.constantFrom('1.5', '1e9', '-0', 'None', '2L', '', ' ')), { maxLength: 5 }),
      extra: fc.constantFrom('', ' ', '}', "'shape': (9,),"),
      body: fc.nat(4096),
    });
    fc.assert(
      fc.property(header, ({ descr, fortran, shape, extra, body }) => {
        const h = `{'descr': ${descr}, 'fortran_order': ${fortran}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), ${extra}}\n`;
        const bytes = new Uint8Array(10 + h.length + body);
        bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
        new DataView(bytes.buffer).setUint16(8, h.length, true);
        for (let i = 0; i < h.length; i++) bytes[10 + i] = h.charCodeAt(i) & 0xff;
        try {
          const a = parseNpy(bytes, 'x.npy');
          return a.shape.every((d) => Number.isInteger(d) && d >= 0) && a.data.length === a.shape.reduce((x, y) => x * y, 1);
        } catch (e) {
          return e instanceof DpipeError && e.code === 'E_NPY';
        }
      }),
      { numRuns: Math.min(RUNS * 2, 20_000) },
    );
  });
});

describe('fuzz: validation and short runs over the registry (fast-check)', function () {
  this.timeout(Math.max(300_000, RUNS * 200));
  after(() => releaseAll());

  it(`${RUNS} generated, mutated and cut documents: zero internal errors, every rejection located, what validates starts`, async () => {
    const t: Tally = { docs: 0, valid: 0, ran: 0, stopped: 0, runErrors: 0, failedBeforeFirstEval: [], internal: [], unlocated: [], codes: new Map() };
    const t0 = Date.now();
    const arb = fc.oneof({ weight: 3, arbitrary: asText(generated) }, { weight: 4, arbitrary: asText(mutated) }, { weight: 2, arbitrary: mutated.map((d) => JSON.stringify(d, null, 2)) });
    await fc.assert(
      fc.asyncProperty(arb, async (text) => {
        await property(text, t);
        return true;
      }),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}), endOnFailure: true },
    );
    const s = ((Date.now() - t0) / 1000).toFixed(1);
    const top = [...t.codes].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([c, n]) => `${c} ${n}`).join(', ');
    console.log(`      ${t.docs} documents in ${s} s: ${t.valid} valid (${t.ran} ran to the end, ${t.stopped} stopped after 3 evaluations, ${t.runErrors} failed during the run); internal errors ${t.internal.length}; unlocated ${t.unlocated.length}; problems: ${top}`);
    if (process.env.DPIPE_FUZZ_REPORT) fs.writeFileSync(process.env.DPIPE_FUZZ_REPORT, JSON.stringify({ internal: t.internal, unlocated: t.unlocated, failedBeforeFirstEval: t.failedBeforeFirstEval }, null, 1));
    assert.deepEqual(t.internal.slice(0, 3), [], `${t.internal.length} internal errors`);
    assert.deepEqual(t.unlocated.slice(0, 3), [], `${t.unlocated.length} rejections without a place`);
    assert.deepEqual(t.failedBeforeFirstEval.slice(0, 3), [], `${t.failedBeforeFirstEval.length} validated documents failed before their first model evaluation`);
    assert.ok(t.valid >= t.docs * 0.1, `only ${t.valid} of ${t.docs} documents validated: the generator explores too little`);
  });
});
