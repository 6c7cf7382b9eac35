/**
 * docs/blocks.md (the block table written by scripts/block-table.mjs) is current, lists every block once, and
 * takes its "reference runs reproduced" column from the golden pipelines (test/fixtures/golden-pipelines), each
 * naming a run that has a reference fixture and using only registered blocks.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { OUT, ROOT, blockTable, goldenPipelines, runsByBlock, shortPaper } from '../../scripts/block-table.mjs';
import { registryInfo } from '../../src/engine/registry/index';

describe('docs/blocks.md: the block table', () => {
  it('is current (else run `node --import tsx scripts/block-table.mjs --write` and commit it)', () => {
    const committed = readFileSync(OUT, 'utf8');
    assert.ok(committed === blockTable(), 'docs/blocks.md is stale: run `node --import tsx scripts/block-table.mjs --write` and commit it');
  });

  it('lists every block of the registry once, with the runs grouped by solver preset', () => {
    const text = blockTable();
    for (const t of registryInfo()) assert.equal(text.split(`| \`${t.type}\` |`).length, 2, t.type);
    assert.match(text, /\n\| `solver\.heun` \| Heun \(EDM\) \| Karras et al\. 2022, “Elucidating the Design Space of Diffusion-Bas…” \| 2 \| 2 \| no \| diffusers: df_heun; k-diffusion: kd_edm_heun_exponential, /);
    assert.match(text, /\n\| `solver\.unipc` \|[^\n]*df_unipc_bh1_o2 \(NaN → E_NAN\)/);
    assert.match(text, /\n\| `model\.onnx` \|[^\n]*\| all 82 \|\n/);
  });

  it('the golden pipelines: one per reference run with a fixture, registered blocks only', () => {
    const pipelines = goldenPipelines();
    assert.equal(pipelines.length, 82);
    const types = new Set(registryInfo().map((t) => t.type));
    for (const p of pipelines) {
      assert.equal(p.file, `${p.run}.dpipe`);
      const fixture = [`test/fixtures/golden/runs/${p.run}.npy`, `test/fixtures/golden-sde/${p.run}.x_final.npy`].some((f) => existsSync(path.join(ROOT, f)));
      assert.ok(fixture, `${p.run}: no reference fixture`);
      for (const b of p.blocks) assert.ok(types.has(b.type), `${p.file}: ${b.type} is not registered`);
    }
    const byBlock = runsByBlock(pipelines);
    assert.deepEqual(byBlock.get('solver.ddim_eta')?.get('df_ddim_n10'), { preset: 'diffusers', expectError: undefined });
    assert.equal(byBlock.get('solver.unipc')?.get('df_unipc_bh1_o3_n10')?.expectError, 'E_NAN');
  });

  it('short paper citations: first author, year, title up to its colon', () => {
    assert.equal(shortPaper('Lu, Zhou, Bao, Chen, Li & Zhu 2022, "DPM-Solver++: Fast Solver for Guided Sampling", Algorithm 2.'), 'Lu et al. 2022, “DPM-Solver++”');
    assert.equal(shortPaper('Ho & Salimans 2022, "Classifier-Free Diffusion Guidance", Eq. 6'), 'Ho & Salimans 2022, “Classifier-Free Diffusion Guidance”');
    assert.equal(shortPaper('Ho et al. 2020 (DDPM) / Song et al. 2021 (DDIM) uniform timesteps; spacings from Lin et al. 2024, "Common"'), 'Ho et al. 2020 (DDPM) / Song et al. 2021 (DDIM) uniform t…');
    assert.equal(shortPaper('ComfyUI simple_scheduler.'), 'ComfyUI simple_scheduler.');
    assert.equal(shortPaper(undefined), '—');
  });
});
