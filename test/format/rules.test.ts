/**
 * Composition rules on the real registry: one small pipeline per rule → the exact E_COMPOSE problem (code,
 * pointer, message naming both blocks by id, type and title, and why), the neighbouring combination that is
 * fine, and `canConnect` refusing the edge that completes a bad combination. Plus the static facts the rules
 * rely on: schedule lengths from params (against every schedule block run for real) and the model kind from
 * prediction/time (against the model loader).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Problem } from '../../src/engine/core/errors';
import { loadPipeline, paramsWithDefaults, type LoadOptions } from '../../src/engine/format/index';
import { modelKind, scheduleShape } from '../../src/engine/format/rules';
import type { PipelineDoc } from '../../src/engine/format/types';
import { canConnect } from '../../src/engine/graph/index';
import { DEFAULT_DISCRETE, discreteSigmas, makeModelSchedule, TIME_KINDS } from '../../src/engine/model/schedule';
import { PREDICTIONS } from '../../src/engine/model/params';
import { scheduleFor, type ModelConfig } from '../../src/engine/model/wrap';
import { nodeTypes, registryInfo } from '../../src/engine/registry/index';
import type { ModelValue, NodeTypeInfo, ParamValue } from '../../src/engine/registry/types';

type Node = { id: string; type: string; params?: Record<string, ParamValue> };

/**
 * model → guider.basic → sample ← solver, schedule, noise; sample → output. `patch` replaces nodes by id (or adds
 * them) and appends edges, so each test states only what differs.
 */
function pipeline(patch: { nodes?: Node[]; edges?: [string, string][] } = {}): string {
  const nodes: Node[] = [
    { id: 'model', type: 'model.onnx', params: { path: 'm.onnx', prediction: 'edm', time: 'sigma' } },
    { id: 'guider', type: 'guider.basic' },
    { id: 'sched', type: 'schedule.karras', params: { steps: 10 } },
    { id: 'solver', type: 'solver.euler' },
    { id: 'noise', type: 'noise.seeded' },
    { id: 'sample', type: 'sample' },
    { id: 'out', type: 'output.latent' },
  ];
  for (const n of patch.nodes ?? []) {
    const k = nodes.findIndex((m) => m.id === n.id);
    if (k >= 0) nodes[k] = n;
    else nodes.push(n);
  }
  const edges: [string, string][] = [
    ['model.model', 'guider.model'],
    ['guider.guider', 'sample.guider'],
    ['solver.sampler', 'sample.sampler'],
    ['sched.sigmas', 'sample.sigmas'],
    ['noise.noise', 'sample.noise'],
    ['sample.latent', 'out.latent'],
    ...(patch.edges ?? []),
  ];
  return JSON.stringify({ dpipe: 1, nodes: nodes.map((n) => ({ params: {}, ...n })), edges: edges.map(([from, to]) => ({ from, to })) }, null, 2);
}

function composeProblems(text: string, opts: LoadOptions = {}): Problem[] {
  const r = loadPipeline(text, { checkFiles: false, ...opts });
  assert.ok(r.doc, JSON.stringify(r.problems));
  const other = r.problems.filter((p) => p.severity === 'error' && p.code !== 'E_COMPOSE');
  assert.deepEqual(other, [], 'the pipelines of this test have no other errors');
  return r.problems.filter((p) => p.code === 'E_COMPOSE');
}

function only(text: string, opts: LoadOptions = {}, severity: 'error' | 'warning' = 'error'): Problem {
  const ps = composeProblems(text, opts);
  assert.equal(ps.length, 1, JSON.stringify(ps, null, 1));
  assert.equal(ps[0].severity, severity);
  return ps[0];
}

function clean(text: string, opts: LoadOptions = {}): void {
  assert.deepEqual(composeProblems(text, opts), []);
}

/** Builds the document without its last edge, then asks canConnect about that edge. */
function connectLast(text: string, registry: readonly NodeTypeInfo[] = registryInfo()) {
  const doc = JSON.parse(text) as PipelineDoc;
  const last = doc.edges[doc.edges.length - 1];
  return canConnect(registry, { ...doc, metadata: {}, edges: doc.edges.slice(0, -1) }, last.from, last.to);
}

describe('format/rules: composition rules at validation', () => {
  it('a plain pipeline raises no composition problem', () => {
    clean(pipeline());
  });

  describe('correctorNeedsSupport', () => {
    it('a corrector on a solver without acceptsCorrector', () => {
      const p = only(pipeline({ nodes: [{ id: 'solver', type: 'solver.heun' }, { id: 'fix', type: 'corrector.unic' }], edges: [['fix.corrector', 'solver.corrector']] }));
      assert.equal(p.pointer, '/edges/6');
      assert.equal(p.nodeId, 'solver');
      assert.equal(
        p.message,
        'corrector "fix" (corrector.unic) cannot attach to solver "solver" (solver.heun): Heun (EDM) does not accept a corrector ' +
          '(its registry info has no acceptsCorrector), so UniC has no step to correct; use a solver that does (solver.euler, solver.dpmpp_2m, ' +
          'solver.dpmpp_3m, solver.dpm_multistep, solver.res_multistep, solver.ddpm, …), or remove the edge',
      );
    });
  });

  describe('correctorFollows', () => {
    it('a corrector for deterministic solvers (follows "deterministic") on a stochastic solver', () => {
      const text = pipeline({ nodes: [{ id: 'solver', type: 'solver.dpmpp_2m_sde' }, { id: 'fix', type: 'corrector.unic' }], edges: [['fix.corrector', 'solver.corrector']] });
      const p = only(text);
      assert.equal(p.pointer, '/edges/6');
      assert.equal(p.nodeId, 'solver');
      assert.equal(
        p.message,
        'corrector "fix" (corrector.unic) cannot follow solver "solver" (solver.dpmpp_2m_sde): UniC follows deterministic (ODE) solvers only — ' +
          'it rebuilds the step from the data-prediction history, which drops the fresh noise of a stochastic step — and DPM-Solver++(2M) SDE is stochastic; ' +
          'attach it to a deterministic solver that accepts correctors (solver.euler, solver.dpmpp_2m, solver.dpmpp_3m, solver.dpm_multistep, solver.res_multistep), ' +
          'or use a corrector that follows any solver (corrector.langevin)',
      );
      const c = connectLast(text);
      assert.ok(!c.ok && c.code === 'E_COMPOSE' && c.reason === p.message);
    });
    it('the same corrector on a deterministic solver, and Langevin (follows "any") on the stochastic one, are fine', () => {
      clean(pipeline({ nodes: [{ id: 'solver', type: 'solver.dpmpp_2m' }, { id: 'fix', type: 'corrector.sa' }], edges: [['fix.corrector', 'solver.corrector']] }));
      clean(pipeline({ nodes: [{ id: 'solver', type: 'solver.dpmpp_2m_sde' }, { id: 'fix', type: 'corrector.langevin' }], edges: [['fix.corrector', 'solver.corrector']] }));
    });
  });

  describe('adaptiveNeedsEnds', () => {
    it('an adaptive solver fed a schedule with interior points; the problem sits on the schedule\'s steps', () => {
      const text = pipeline({ nodes: [{ id: 'solver', type: 'solver.gotta_go_fast' }] });
      const p = only(text);
      assert.equal(p.pointer, '/nodes/2/params/steps');
      assert.equal(p.nodeId, 'sched');
      assert.equal(
        p.message,
        'schedule "sched" (schedule.karras) cannot drive solver "solver" (solver.gotta_go_fast) in sample "sample" (sample): ' +
          'Gotta Go Fast (adaptive SDE) is adaptive — it picks its own steps and uses only the schedule\'s ends [σ_max, σ_min] (a final 0 adds a denoising step) — ' +
          'but Karras (ρ) gives 11 σ values (steps 10, final "zero"): 8 interior points between σ_max and σ_min; ' +
          'connect schedule.explicit with two values [σ_max, σ_min], or a σ-range schedule with steps 2 and final "zero" ' +
          '(schedule.karras, schedule.exponential, schedule.polyexponential, schedule.vp, schedule.time_uniform, schedule.cosine, schedule.logsnr_uniform)',
      );
    });
    it('DPM-Solver-adaptive: a bounded-below length (steps without final) and a one-step schedule without σ_min', () => {
      const normal = only(pipeline({ nodes: [{ id: 'solver', type: 'solver.dpm_adaptive' }, { id: 'sched', type: 'schedule.normal', params: { steps: 5 } }], edges: [['model.model', 'sched.model']] }));
      assert.match(normal.message, /^schedule "sched" \(schedule\.normal\) cannot drive solver "solver" \(solver\.dpm_adaptive\) in sample "sample" \(sample\): DPM-Solver-adaptive/);
      assert.match(normal.message, /gives at least 6 σ values \(steps 5\): at least 3 interior points between σ_max and σ_min;/);
      const one = only(pipeline({ nodes: [{ id: 'solver', type: 'solver.dpm_adaptive' }, { id: 'sched', type: 'schedule.karras', params: { steps: 1 } }] }));
      assert.match(one.message, /gives 2 σ values \(steps 1, final "zero"\): no σ_min above 0 after σ_max;/);
    });
    it('the schedules it can take: two explicit values (± a final 0), a σ-range schedule at steps 2; canConnect refuses the completing edge', () => {
      for (const final of ['zero', 'none']) {
        clean(pipeline({ nodes: [{ id: 'solver', type: 'solver.gotta_go_fast' }, { id: 'sched', type: 'schedule.explicit', params: { values: [80, 0.002], final } }] }));
      }
      clean(pipeline({ nodes: [{ id: 'solver', type: 'solver.dpm_adaptive' }, { id: 'sched', type: 'schedule.karras', params: { steps: 2 } }] }));
      // Drawing the sampler edge last: the text below has it last.
      const text = pipeline({ nodes: [{ id: 'solver', type: 'solver.gotta_go_fast' }] }).replace(
        /\{\s*"from": "solver.sampler",\s*"to": "sample.sampler"\s*\},\s*/,
        '',
      ).replace(/\]\s*\}\s*$/, ',\n    { "from": "solver.sampler", "to": "sample.sampler" }\n  ]\n}\n');
      const c = connectLast(text);
      assert.ok(!c.ok && c.code === 'E_COMPOSE' && /is adaptive/.test(c.reason), JSON.stringify(c));
    });
  });

  describe('zeroEndDefined', () => {
    it('UniPC with B(h) = h (bh1, zeroFinal "error") on a schedule ending at 0: a warning on the solver\'s variant (the run stops at its last step)', () => {
      const p = only(pipeline({ nodes: [{ id: 'solver', type: 'solver.unipc', params: { variant: 'bh1' } }] }), {}, 'warning');
      assert.equal(p.pointer, '/nodes/3/params/variant');
      assert.equal(p.nodeId, 'sched');
      assert.equal(
        p.message,
        'schedule "sched" (schedule.karras) cannot end the run of solver "solver" (solver.unipc) in sample "sample" (sample): ' +
          'UniPC with variant "bh1", zeroFinal "error" has no defined step to σ = 0, and Karras (ρ) ends at 0 (final "zero"); ' +
          'the run will stop with an error at its last step; end the schedule above 0 (final "sigma_min" or "none"), or change variant or zeroFinal on the solver',
      );
    });
    it('DC-Solver at its defaults (bh1) with a written final "zero": the problem sits on final; σ_min ends and bh2 are fine', () => {
      const p = only(pipeline({ nodes: [{ id: 'solver', type: 'solver.dc_solver' }, { id: 'sched', type: 'schedule.karras', params: { steps: 10, final: 'zero' } }] }), {}, 'warning');
      assert.equal(p.pointer, '/nodes/2/params/final');
      assert.match(p.message, /^schedule "sched" \(schedule\.karras\) cannot end the run of solver "solver" \(solver\.dc_solver\) in sample "sample" \(sample\): DC-Solver \(UniPC \+ dynamic compensation\) with variant "bh1" has no defined step/);
      clean(pipeline({ nodes: [{ id: 'solver', type: 'solver.dc_solver' }, { id: 'sched', type: 'schedule.karras', params: { steps: 10, final: 'sigma_min' } }] }));
      clean(pipeline({ nodes: [{ id: 'solver', type: 'solver.unipc', params: { variant: 'bh1', zeroFinal: 'ddim' } }] }));
      clean(pipeline({ nodes: [{ id: 'solver', type: 'solver.unipc' }] }));
    });
  });

  describe('cfgppNeedsDdimStep', () => {
    const cfgpp = (solver: Node, extra: Partial<{ nodes: Node[]; edges: [string, string][] }> = {}) =>
      pipeline({
        nodes: [{ id: 'guider', type: 'guider.cfgpp' }, { id: 'pos', type: 'cond.class', params: { label: 3 } }, solver, ...(extra.nodes ?? [])],
        edges: [['pos.conditioning', 'guider.positive'], ...(extra.edges ?? [])],
      });
    it('CFG++ with a solver that does not take the DDIM/Euler step (Heun: the guider would refuse its second stage mid-run)', () => {
      const p = only(cfgpp({ id: 'solver', type: 'solver.heun' }));
      assert.equal(p.pointer, '/edges/2');
      assert.equal(p.nodeId, 'solver');
      assert.equal(
        p.message,
        'guider "guider" (guider.cfgpp) is not exact with solver "solver" (solver.heun) in sample "sample" (sample): CFG++ rewrites the first-order step ' +
          'x_next = D + (σ_next/σ)·(x − D) with one model evaluation at each schedule σ, and Heun (EDM) does not take that step; ' +
          'use solver.euler with sChurn = 0 or solver.ddim_eta with eta = 0, or guider.cfg',
      );
    });
    it('CFG++ with Euler and churn: the problem sits on sChurn', () => {
      const p = only(cfgpp({ id: 'solver', type: 'solver.euler', params: { sChurn: 0.5 } }));
      assert.equal(p.pointer, '/nodes/3/params/sChurn');
      assert.match(p.message, /, which Euler \(DDIM\) takes only with sChurn = 0 \(here sChurn = 0\.5\); use solver\.euler with sChurn = 0 or solver\.ddim_eta with eta = 0, or guider\.cfg$/);
    });
    it('CFG++ through thresholding, with DDIM-η at its default η = 1 and with a corrector on Euler', () => {
      const wrapped = pipeline({
        nodes: [{ id: 'inner', type: 'guider.cfgpp' }, { id: 'guider', type: 'guider.threshold' }, { id: 'pos', type: 'cond.class' }, { id: 'solver', type: 'solver.ddim_eta' }],
        edges: [['model.model', 'inner.model'], ['pos.conditioning', 'inner.positive'], ['inner.guider', 'guider.guider']],
      }).replace('{\n      "from": "model.model",\n      "to": "guider.model"\n    },\n    ', '');
      const p = only(wrapped);
      assert.match(p.message, /^guider "inner" \(guider\.cfgpp\) is not exact with solver "solver" \(solver\.ddim_eta\) in sample "sample" \(sample\): .*, which DDIM \(η\) takes only with eta = 0 \(here eta = 1\);/);
      const c = only(cfgpp({ id: 'solver', type: 'solver.euler' }, { nodes: [{ id: 'fix', type: 'corrector.unic' }], edges: [['fix.corrector', 'solver.corrector']] }));
      assert.equal(c.pointer, '/edges/7');
      assert.match(c.message, /, and corrector "fix" \(corrector\.unic\) attached to it evaluates the model again at σ_next, off that step; remove the corrector;/);
    });
    it('CFG++ with Euler (no churn) and with DDIM η = 0 is fine', () => {
      clean(cfgpp({ id: 'solver', type: 'solver.euler' }));
      clean(cfgpp({ id: 'solver', type: 'solver.ddim_eta', params: { eta: 0 } }));
    });
  });

  describe('modelKindSupported', () => {
    // No library solver restricts the model kind today; a registry with one that runs on discrete-time models only.
    const vpOnly: NodeTypeInfo = { ...registryInfo().find((t) => t.type === 'solver.euler')!, type: 'test.vp_euler', title: 'VP-only Euler', solver: { order: 1, nfePerStep: 1, stochastic: false, supports: ['discrete'] } };
    const registry = [...registryInfo(), vpOnly];
    const text = (modelParams: Record<string, ParamValue>) => pipeline({ nodes: [{ id: 'model', type: 'model.onnx', params: { path: 'm.onnx', ...modelParams } }, { id: 'solver', type: 'test.vp_euler' }] });

    it('a solver whose supports excludes the kind given by the model\'s params; the problem sits on "time"', () => {
      const p = only(text({ prediction: 'edm', time: 'sigma' }), { registry });
      assert.equal(p.pointer, '/nodes/0/params/time');
      assert.equal(p.nodeId, 'solver');
      assert.equal(
        p.message,
        'solver "solver" (test.vp_euler) cannot run on model "model" (model.onnx) in sample "sample" (sample): VP-only Euler supports discrete models only, ' +
          'and ONNX model is an edm model (prediction "edm" on the node, time "sigma" on the node); use a solver that supports edm models ' +
          '(solver.euler, solver.euler_ancestral, solver.heun, solver.lms, solver.dpmpp_2m, solver.dpmpp_3m, …)',
      );
      clean(text({ prediction: 'epsilon', time: 'discrete' }), { registry });
      clean(text({}), { registry }); // auto, no sidecar: the ONNX tensor names decide at load time
    });
    it('the kind from the sidecar beside the model file (read without loading the ONNX)', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpipe-rules-'));
      try {
        fs.writeFileSync(path.join(dir, 'm.onnx'), '');
        fs.writeFileSync(path.join(dir, 'm.onnx.json'), JSON.stringify({ prediction: 'flow', time: 'flow' }));
        const p = only(text({}), { registry, baseDir: dir, checkFiles: true });
        assert.equal(p.pointer, '/edges/2');
        assert.match(p.message, /and ONNX model is a flow model \(prediction "flow" in its sidecar m\.onnx\.json, time "flow" in its sidecar m\.onnx\.json\); use a solver that supports flow models/);
        clean(text({ time: 'discrete' }), { registry, baseDir: dir, checkFiles: true }); // the node's param wins over the sidecar
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
    it('the kind is the model loader\'s for every prediction × time', () => {
      for (const prediction of PREDICTIONS) {
        for (const time of TIME_KINDS) {
          const config = { prediction, time, discrete: time === 'discrete' ? DEFAULT_DISCRETE : undefined } as unknown as ModelConfig;
          assert.equal(modelKind(prediction, time), scheduleFor(config).kind, `${prediction} × ${time}`);
        }
      }
      assert.equal(modelKind(undefined, 'sigma'), undefined);
      assert.equal(modelKind(undefined, 'discrete'), 'discrete');
      assert.equal(modelKind('edm', undefined), undefined);
    });
  });

  describe('iidNoiseForCorrector', () => {
    const text = (noise: string) => pipeline({
      nodes: [{ id: 'solver', type: 'solver.ddpm' }, { id: 'fix', type: 'corrector.langevin' }, { id: 'noise', type: noise }],
      edges: [['fix.corrector', 'solver.corrector']],
    });
    it('Langevin correction with Brownian-tree noise: the problem sits on the noise edge', () => {
      const p = only(text('noise.brownian'));
      assert.equal(p.pointer, '/edges/4');
      assert.equal(p.nodeId, 'noise');
      assert.equal(
        p.message,
        'corrector "fix" (corrector.langevin) on solver "solver" (solver.ddpm) cannot use noise "noise" (noise.brownian) in sample "sample" (sample): ' +
          'Langevin corrector draws fresh noise at a fixed σ after every step, and Brownian-tree noise gives increments of one Brownian path, ' +
          'which are 0 over a zero-length interval; feed the sample i.i.d. noise (noise.seeded, noise.npy, noise.torch)',
      );
      const c = connectLast(text('noise.brownian'));
      assert.ok(!c.ok && c.code === 'E_COMPOSE' && c.reason === p.message);
    });
    it('with seeded noise it is fine', () => {
      clean(text('noise.seeded'));
    });
  });
});

describe('format/rules: schedule lengths from params', () => {
  const models = [
    makeModelSchedule({ kind: 'discrete', discreteSigmas: discreteSigmas(DEFAULT_DISCRETE) }),
    makeModelSchedule({ kind: 'edm', sigmaMin: 0.002, sigmaMax: 80 }),
  ];
  it('every schedule block the rules can size gives a σ list within the bounds, ending as declared', async () => {
    let checked = 0;
    const sized = new Set<string>();
    for (const node of nodeTypes().values()) {
      if (node.category !== 'Schedule') continue;
      const finalSpec = node.params.find((p) => (p.name === 'final' || p.name === 'end') && p.type === 'enum');
      const finals = finalSpec?.type === 'enum' ? finalSpec.options : [undefined];
      for (const model of models) {
        for (const steps of [1, 2, 3, 5, 8, 13, 21]) {
          for (const final of finals) {
            const written: Record<string, ParamValue> = { steps };
            if (final) written[finalSpec!.name] = final;
            if (node.params.some((p) => p.name === 'values')) written.values = [40, 20, 9, 5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.03, 0.02, 0.01].slice(0, Math.max(2, Math.min(13, steps)));
            const params = paramsWithDefaults(node, written);
            const shape = scheduleShape(node, params);
            if (!shape) continue;
            let sigmas: Float64Array;
            try {
              sigmas = (await node.evaluate({ nodeId: 's', baseDir: '.', services: {} as never }, { model: { schedule: model } as unknown as ModelValue }, params)).sigmas as Float64Array;
            } catch {
              continue; // e.g. a discrete-only schedule on the EDM model
            }
            const what = `${node.type} ${JSON.stringify(written)}: ${sigmas.length} values`;
            assert.ok(shape.minPoints <= sigmas.length && sigmas.length <= shape.maxPoints, `${what}, bounds ${shape.minPoints}..${shape.maxPoints}`);
            if (shape.end) assert.equal(sigmas[sigmas.length - 1] === 0, shape.end === 'zero', what);
            sized.add(node.type);
            checked++;
          }
        }
      }
    }
    assert.ok(checked > 300, `${checked} cases`);
    for (const t of ['schedule.karras', 'schedule.explicit', 'schedule.gits', 'schedule.ays', 'schedule.ddim_uniform', 'schedule.time_uniform', 'schedule.dpm_solver']) assert.ok(sized.has(t), t);
    for (const t of ['schedule.split', 'schedule.truncate', 'schedule.flip', 'schedule.concat']) assert.equal(scheduleShape(nodeTypes().get(t)!, {}), undefined, t);
  });
});

describe('compose rule: vpOutputNeedsSigmas', () => {
  it('output.latent in VP coordinates without the schedule wired is an error on its space param', () => {
    const text = pipeline({ nodes: [{ id: 'out', type: 'output.latent', params: { space: 'vp' } }] });
    const ps = composeProblems(text);
    assert.equal(ps.length, 1, JSON.stringify(ps));
    assert.equal(ps[0].code, 'E_COMPOSE');
    assert.equal(ps[0].nodeId, 'out');
    assert.equal(ps[0].pointer, '/nodes/6/params/space');
    assert.match(ps[0].message, /block "out" \(output\.latent, .*\) writes VP coordinates .*connect the schedule .* "sigmas" input, or set space to "ve"/);
  });

  it('is fine with the schedule wired, and in VE coordinates without it', () => {
    const wired = pipeline({ nodes: [{ id: 'out', type: 'output.latent', params: { space: 'vp' } }], edges: [['sched.sigmas', 'out.sigmas']] });
    assert.deepEqual(composeProblems(wired), []);
    assert.deepEqual(composeProblems(pipeline()), []);
  });
});

describe('compose rule: torchNoiseOrderOptions', () => {
  it('an option of one tool\'s order on noise.torch with another order is an error on that param', () => {
    const cases = [
      ['variationStrength', 0.3, 'comfyui', 'a1111'], ['seedResizeFrom', [6, 10], 'diffusers', 'a1111'], ['ensd', 31337, 'diffusers-per-item', 'a1111'],
      ['batchIndex', [1, 0], 'a1111', 'comfyui'],
    ] as const;
    for (const [param, value, order, needs] of cases) {
      const text = pipeline({ nodes: [{ id: 'noise', type: 'noise.torch', params: { order, [param]: value as ParamValue } }] });
      const ps = composeProblems(text);
      assert.equal(ps.length, 1, JSON.stringify(ps));
      assert.equal(ps[0].code, 'E_COMPOSE');
      assert.equal(ps[0].nodeId, 'noise');
      assert.equal(ps[0].pointer, `/nodes/4/params/${param}`);
      assert.match(ps[0].message, new RegExp(`block "noise" \\(noise\\.torch, .*\\) sets ${param}, an? (A1111|ComfyUI) option .* with order "${order}", whose tool has no such option; set order to "${needs}" or remove ${param}`));
    }
  });

  it('is fine with the option\'s own order, and with the options at their off values', () => {
    const a = pipeline({ nodes: [{ id: 'noise', type: 'noise.torch', params: { order: 'a1111', variationSeed: 7, variationStrength: 0.3, seedResizeFrom: [6, 10], ensd: 31337 } }] });
    assert.deepEqual(composeProblems(a), []);
    const c = pipeline({ nodes: [{ id: 'noise', type: 'noise.torch', params: { order: 'comfyui', batchIndex: [2, 0] } }] });
    assert.deepEqual(composeProblems(c), []);
    const off = pipeline({ nodes: [{ id: 'noise', type: 'noise.torch', params: { order: 'diffusers', variationSeed: 7, variationStrength: 0, seedResizeFrom: [], ensd: 0, batchIndex: [] } }] });
    assert.deepEqual(composeProblems(off), []);
  });
});
