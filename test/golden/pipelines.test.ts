/**
 * Every golden reference run (k-diffusion, diffusers, LuChengTHU/dpm-solver, wl-zhao/UniPC; 82 runs) as a
 * user-runnable `.dpipe` pipeline (test/fixtures/golden-pipelines, written by its make.ts), run through
 * `runPipeline` on the real ONNX path: the golden float32 ONNX models, noise.npy with the golden z and per-step
 * draws, the schedule, the solver with its named preset, sample and output.latent (float64; space "vp", i.e.
 * x/√(1+σ_end²) with σ_end from the schedule, for the runs whose reference returns VP samples). The written latent
 * must lie within 1e-4 max-abs of the reference's float64 x_final as written, with the reference's NFE. Where the
 * reference yields NaN, the pipeline must stop with E_NAN and a message naming the cause.
 *
 * DPIPE_REPORT=1 prints the max-abs per run.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { DpipeError } from '../../src/engine/core/errors';
import { parseNpy } from '../../src/engine/core/npy';
import { hasErrors, loadPipelineFile } from '../../src/engine/format/index';
import type { PipelineDoc } from '../../src/engine/format/types';
import { nodeTypes } from '../../src/engine/registry/index';
import { runPipeline } from '../../src/engine/run/index';
import { maxAbs } from '../helpers/fixtures';

const FIX = path.join(__dirname, '..', 'fixtures');
const DIR = path.join(FIX, 'golden-pipelines');
const FILES = fs.readdirSync(DIR).filter((f) => f.endsWith('.dpipe')).sort();

interface GoldenMeta {
  readonly run: string;
  readonly nfe: number;
  readonly outputSpace: 've' | 'vp';
  readonly expectError?: string;
}

/** The reference x_final (float64), from the golden fixtures already in the repository. */
function reference(run: string): Float64Array {
  const candidates = [path.join(FIX, 'golden', 'runs', `${run}.npy`), path.join(FIX, 'golden-sde', `${run}.x_final.npy`)];
  const file = candidates.find((f) => fs.existsSync(f));
  if (!file) throw new Error(`no reference x_final for ${run}`);
  return parseNpy(fs.readFileSync(file), file).data;
}

function load(file: string): { doc: PipelineDoc; meta: GoldenMeta } {
  const { doc, problems } = loadPipelineFile(path.join(DIR, file));
  assert.ok(doc && !hasErrors(problems), `${file}: ${JSON.stringify(problems)}`);
  return { doc, meta: doc.metadata.golden as GoldenMeta };
}

const run = (doc: PipelineDoc) => runPipeline(doc, { baseDir: DIR, trajectory: { record: false } });

const ERRORS: Record<string, number | string> = {};

describe('golden runs as .dpipe pipelines (runPipeline, real ONNX path)', function () {
  this.timeout(120000);

  it('one pipeline per golden run: all 82, every one with its run named in the metadata', () => {
    assert.equal(FILES.length, 82);
    for (const f of FILES) assert.equal(load(f).meta.run, f.replace(/\.dpipe$/, ''));
  });

  it('every solver entry has golden runs for each of its presets, or says why not (and no reason is stale)', () => {
    /** Per solver type: the presets its golden pipelines use ("custom" when they set none). */
    const used = new Map<string, Set<string>>();
    for (const f of FILES) {
      for (const n of load(f).doc.nodes) {
        if (!n.type.startsWith('solver.')) continue;
        const preset = typeof n.params.preset === 'string' ? n.params.preset : 'custom';
        used.set(n.type, (used.get(n.type) ?? new Set()).add(preset));
      }
    }
    let checked = 0;
    for (const node of nodeTypes().values()) {
      const e = node.solverEntry;
      if (!e) continue;
      const runs = used.get(node.type);
      const { noGolden, presetsWithoutGolden = {} } = e.tests;
      if (noGolden !== undefined) {
        assert.equal(runs, undefined, `${node.type} says it has no golden run ("${noGolden}"), but golden pipelines use it`);
        assert.ok(noGolden.length > 20, node.type);
        continue;
      }
      assert.ok(runs, `${node.type} has no golden pipeline; add its reference run (test/fixtures/golden-pipelines/make.ts) or say why in tests.noGolden`);
      for (const preset of Object.keys(e.presets)) {
        const why = presetsWithoutGolden[preset];
        if (why === undefined) assert.ok(runs.has(preset), `${node.type} preset "${preset}" has no golden run; add one or say why in tests.presetsWithoutGolden`);
        else assert.ok(!runs.has(preset) && why.length > 20, `${node.type} preset "${preset}": the reason given for having no golden run is stale`);
        checked++;
      }
      for (const preset of Object.keys(presetsWithoutGolden)) assert.ok(preset in e.presets, `${node.type}: presetsWithoutGolden names "${preset}", which is not one of its presets`);
    }
    assert.ok(checked >= 25, `${checked} presets`);
  });

  for (const f of FILES) {
    const name = f.replace(/\.dpipe$/, '');
    it(name, async () => {
      const { doc, meta } = load(f);
      // The output block writes the reference's coordinates itself; VP needs σ_end, wired from the Sample's schedule.
      const save = doc.nodes.find((n) => n.type === 'output.latent')!;
      assert.equal(save.params.space ?? 've', meta.outputSpace, 'output.latent space');
      const feeding = (port: string) => doc.edges.find((e) => e.to === port)?.from;
      const sampleId = doc.nodes.find((n) => n.type === 'sample')!.id;
      assert.equal(feeding(`${save.id}.sigmas`), meta.outputSpace === 'vp' ? feeding(`${sampleId}.sigmas`) : undefined, 'σ_end from the Sample block\'s schedule');
      if (meta.expectError) {
        await assert.rejects(run(doc), (e: unknown) => {
          assert.ok(e instanceof DpipeError, String(e));
          assert.equal(e.code, meta.expectError);
          assert.match(e.message, /B\(h\) = h .*σ = 0/);
          return true;
        });
        ERRORS[name] = meta.expectError;
        return;
      }
      const res = await run(doc);
      assert.equal(res.outputs.length, 1);
      const out = parseNpy(res.outputs[0].bytes!, res.outputs[0].file);
      assert.deepEqual(out.shape, [4, 3, 8, 8]);
      const err = maxAbs(out.data, reference(meta.run));
      ERRORS[name] = err;
      assert.ok(err < 1e-4, `max-abs ${err}`);
      assert.equal(res.record.nfe, meta.nfe, 'NFE');
    });
  }

  after(() => {
    if (!process.env.DPIPE_REPORT) return;
    const nums = Object.values(ERRORS).filter((v): v is number => typeof v === 'number');
    const lines = Object.entries(ERRORS).map(([k, v]) => `${k.padEnd(48)} ${typeof v === 'number' ? v.toExponential(2) : v}`);
    process.stdout.write(`${lines.join('\n')}\nreproduced ${nums.length}, worst max-abs ${Math.max(...nums).toExponential(2)}\n`);
  });
});
