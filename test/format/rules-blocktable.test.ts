/**
 * docs/blocks.md (the block table written by scripts/block-table.mjs) is current, and the run → block map behind
 * its "reference runs reproduced" column covers every golden-run fixture and agrees with the parity tests' own
 * case tables (test/helpers/cases.ts: each case names the block that reproduces its run).
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { NAN_RUNS, OUT, blockTable, blocksOfRun, fixtureRuns, runsByBlock, shortPaper } from '../../scripts/block-table.mjs';
import { registryInfo } from '../../src/engine/registry/index';
import { PARITY_CASES, PARITY_CASES_2, PARITY_CASES_3, PARITY_CASES_KDVP } from '../helpers/cases';

describe('docs/blocks.md: the block table', () => {
  it('is current (else run `node --import tsx scripts/block-table.mjs --write` and commit it)', () => {
    const committed = readFileSync(OUT, 'utf8');
    assert.ok(committed === blockTable(), 'docs/blocks.md is stale: run `node --import tsx scripts/block-table.mjs --write` and commit it');
  });

  it('lists every block of the registry once, under its category', () => {
    const text = blockTable();
    for (const t of registryInfo()) assert.equal(text.split(`| \`${t.type}\` |`).length, 2, t.type);
    assert.match(text, /\| `solver\.heun` \| Heun \(EDM\) \| Karras et al\. 2022, “Elucidating the Design Space of Diffusion-Bas…” \| 2 \| 2 \| no \| df_heun, kd_edm_heun_exponential, /);
  });

  it('every golden-run fixture maps to registered solver blocks (and deterministic ones to a schedule block)', () => {
    const runs = fixtureRuns();
    assert.ok(runs.deterministic.length >= 60 && runs.stochastic.length >= 20, JSON.stringify(runs).slice(0, 200));
    const types = new Set(registryInfo().map((t) => t.type));
    for (const [kind, list] of [['deterministic', runs.deterministic], ['stochastic', runs.stochastic]] as const) {
      for (const run of list) {
        const b = blocksOfRun(run, { deterministic: kind === 'deterministic' });
        assert.ok(b.solvers.length > 0, `${run} maps to no solver`);
        for (const s of [...b.solvers, ...b.schedules]) assert.ok(types.has(s), `${run} → ${s}, not a registered block`);
        if (kind === 'deterministic' && !(run in NAN_RUNS)) assert.equal(b.schedules.length, 1, `${run} maps to no schedule`);
      }
    }
  });

  it('agrees with the parity tests: each case\'s block is mapped, and each deterministic fixture is a parity case (or a NaN run)', () => {
    const cases = [...PARITY_CASES, ...PARITY_CASES_2, ...PARITY_CASES_KDVP, ...PARITY_CASES_3];
    for (const c of cases) assert.ok(blocksOfRun(c.run).solvers.includes(c.block), `${c.run}: the parity test runs ${c.block}, the map says ${blocksOfRun(c.run).solvers.join(', ')}`);
    const inCases = new Set(cases.map((c) => c.run));
    for (const run of fixtureRuns().deterministic) assert.ok(inCases.has(run) || run in NAN_RUNS, `${run} has a fixture but no parity case`);
    const byBlock = runsByBlock(fixtureRuns());
    assert.ok(byBlock.get('solver.ddim_eta')?.has('df_ddim_n10'), 'stochastic fixtures count too (DDIM η = 0 on df_ddim)');
    assert.ok(!byBlock.get('schedule.karras')?.has('kd_edm_dpmpp_sde_karras_n10'), 'stochastic runs replay the reference σs: no schedule claim');
  });

  it('short paper citations: first author, year, title up to its colon', () => {
    assert.equal(shortPaper('Lu, Zhou, Bao, Chen, Li & Zhu 2022, "DPM-Solver++: Fast Solver for Guided Sampling", Algorithm 2.'), 'Lu et al. 2022, “DPM-Solver++”');
    assert.equal(shortPaper('Ho & Salimans 2022, "Classifier-Free Diffusion Guidance", Eq. 6'), 'Ho & Salimans 2022, “Classifier-Free Diffusion Guidance”');
    assert.equal(shortPaper('ComfyUI simple_scheduler.'), 'ComfyUI simple_scheduler.');
    assert.equal(shortPaper(undefined), '—');
  });
});
