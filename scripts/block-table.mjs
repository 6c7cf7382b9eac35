// The block table (docs/blocks.md): every block of the registry grouped by category, with its paper, order,
// NFE per step, whether it is stochastic, and the golden reference runs it reproduces (derived from the run
// fixtures under test/fixtures/golden*/ and the run-name → block map below).
//   node --import tsx scripts/block-table.mjs           # print the Markdown
//   node --import tsx scripts/block-table.mjs --write   # (re)write docs/blocks.md
//   node --import tsx scripts/block-table.mjs --check   # exit 1 if the committed file is stale
// test/format/rules-blocktable.test.ts fails while docs/blocks.md differs from a fresh generation, when a fixture
// run maps to no block, and when the map disagrees with the parity tests' own tables (test/helpers/cases.ts).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registryInfo } from '../src/engine/registry/index.ts';
import { CATEGORIES } from '../src/engine/registry/types.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const OUT = join(ROOT, 'docs', 'blocks.md');

/**
 * Golden runs with fixtures in the repository: `test/fixtures/golden/runs/<run>.npy` (deterministic runs, whose
 * σ lists the parity tests build with dpipe's schedule functions) and `test/fixtures/golden-sde/<run>.x_final.npy`
 * (stochastic runs, replayed on the reference's own σ list and per-step noise).
 */
export function fixtureRuns(root = ROOT) {
  const list = (dir, suffix) => (existsSync(join(root, dir)) ? readdirSync(join(root, dir)).filter((f) => f.endsWith(suffix)).map((f) => f.slice(0, -suffix.length)) : []);
  return {
    deterministic: list('test/fixtures/golden/runs', '.npy').sort(),
    stochastic: list('test/fixtures/golden-sde', '.x_final.npy').sort(),
  };
}

/** Runs whose reference output is NaN: the block reports a clear error instead (the parity claim is the error). */
export const NAN_RUNS = { df_unipc_bh1_o2_n10: 'E_NAN', df_unipc_bh1_o3_n10: 'E_NAN' };

/** Run-name prefix → the solver block(s) reproducing the run's final state (first match wins). */
const SOLVER_PREFIXES = [
  ['df_euler_a_', ['solver.euler_ancestral']],
  ['df_euler_', ['solver.euler']],
  ['df_heun_', ['solver.heun']],
  ['df_lms_', ['solver.lms']],
  ['df_ddim_', ['solver.euler', 'solver.ddim_eta']], // DDIM η = 0: deterministic DDIM is Euler; both are checked
  ['df_dpmpp_2m_', ['solver.dpmpp_2m']],
  ['df_dpmpp_3m_', ['solver.dpmpp_3m']],
  ['df_dpm_2m_', ['solver.dpm_multistep']],
  ['df_dpm_single_', ['solver.dpm_singlestep']],
  ['df_deis_', ['solver.deis']],
  ['df_pndm_', ['solver.pndm']],
  ['df_unipc_', ['solver.unipc']],
  ['df_sde_dpmpp_2m_', ['solver.dpmpp_2m_sde']],
  ['df_sasolver_', ['solver.sa_solver']],
  ['dpms_dpmpp_multistep_o2_', ['solver.dpmpp_2m']],
  ['dpms_dpmpp_multistep_o3_', ['solver.dpmpp_3m']],
  ['dpms_dpm_singlestep_', ['solver.dpm_singlestep']],
  ['unipc_', ['solver.unipc']],
];

/** k-diffusion runs name the sampler and the schedule: kd_edm_<sampler>_<schedule>_nN, kdvp_<sampler>_<schedule>_nN. */
const KD_RUN = /^kd(?:_edm|vp)_(.+)_(karras|exponential|polyexponential|tuniform)_n\d+$/;
const KD_SCHEDULES = { karras: 'schedule.karras', exponential: 'schedule.exponential', polyexponential: 'schedule.polyexponential', tuniform: 'schedule.normal' };

/** The solver and schedule blocks a run exercises (schedules only for deterministic runs that are not NaN runs). */
export function blocksOfRun(run, { deterministic = true } = {}) {
  let solvers = [];
  let schedule;
  const kd = KD_RUN.exec(run);
  if (kd) {
    solvers = [`solver.${kd[1]}`];
    schedule = KD_SCHEDULES[kd[2]];
  } else {
    const hit = SOLVER_PREFIXES.find(([prefix]) => run.startsWith(prefix));
    if (hit) solvers = hit[1];
    if (run.startsWith('dpms_') || run.startsWith('unipc_')) schedule = 'schedule.dpm_solver';
    else if (run.startsWith('df_')) schedule = /_karras_/.test(run) ? 'schedule.karras' : 'schedule.time_uniform';
  }
  const schedules = deterministic && schedule && !(run in NAN_RUNS) ? [schedule] : [];
  return { solvers, schedules };
}

/** `Karras et al. 2022, "Elucidating the Design Space…"` from a block's paper citation. */
export function shortPaper(paper) {
  if (!paper) return '—';
  const m = /^([^"(;]*?)\s(\d{4}),?\s*"([^"]+)"/.exec(paper);
  if (!m) {
    const head = paper.split(/;/)[0].trim();
    return head.length > 60 ? `${head.slice(0, 57).trimEnd()}…` : head;
  }
  const authors = m[1].replace(/[,\s]+$/, '');
  const first = authors.split(/[,&]|\set al\./)[0].trim();
  const who = /,|\bet al\./.test(authors) ? `${first} et al.` : authors.includes('&') ? authors.replace(/\s+/g, ' ') : first;
  const title = m[3].includes(':') ? m[3].slice(0, m[3].indexOf(':')) : m[3].length > 48 ? `${m[3].slice(0, 45).trimEnd()}…` : m[3];
  return `${who} ${m[2]}, “${title}”`;
}

function cell(s) {
  return String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function nfeCell(info) {
  if (info.solver) return info.solver.adaptive ? `adaptive (nominal ${info.solver.nfePerStep})` : String(info.solver.nfePerStep);
  if (info.corrector) {
    const steps = info.params.find((p) => p.name === 'steps' && p.type === 'integer');
    return steps ? `+${info.corrector.nfePerStep} × steps (default ${steps.default})` : `+${info.corrector.nfePerStep}`;
  }
  return '—';
}

/** Blocks → the runs they reproduce, from the fixture runs. */
export function runsByBlock(runs) {
  const out = new Map();
  const add = (block, run) => {
    if (!out.has(block)) out.set(block, new Set());
    out.get(block).add(run);
  };
  for (const [kind, list] of [['deterministic', runs.deterministic], ['stochastic', runs.stochastic]]) {
    for (const run of list) {
      const { solvers, schedules } = blocksOfRun(run, { deterministic: kind === 'deterministic' });
      for (const b of [...solvers, ...schedules]) add(b, run);
    }
  }
  return out;
}

function runsCell(set) {
  if (!set || set.size === 0) return '—';
  return [...set].sort().map((r) => `${r.replace(/_n10$/, '')}${NAN_RUNS[r] ? ` (NaN → ${NAN_RUNS[r]})` : ''}`).join(', ');
}

/** The whole docs/blocks.md text. */
export function blockTable(infos = registryInfo(), runs = fixtureRuns()) {
  const byBlock = runsByBlock(runs);
  const total = new Set([...runs.deterministic, ...runs.stochastic]).size;
  const lines = [
    '# Blocks',
    '',
    `Every block of the registry (${infos.length}), by category. Generated by \`node --import tsx scripts/block-table.mjs --write\`;`,
    '`test/format/rules-blocktable.test.ts` fails while this file is stale.',
    '',
    '- **order**: theoretical convergence order of an ODE solver (strong order for SDE solvers), from the registry.',
    '- **NFE/step**: model evaluations per step (`nfePerStep`). Two-stage solvers take one on a step to σ = 0, Restart',
    '  adds its restarts, adaptive solvers pick their own steps; a corrector adds its count on every step that does',
    '  not end at σ = 0; guidance adds none (one batched call per evaluation). Each run reports its exact count (`nfe`',
    '  in run.json; announced at the start, exactly unless the solver is adaptive).',
    `- **reference runs reproduced**: the golden reference runs with fixtures in this repository (${total} runs under`,
    '  `test/fixtures/golden*/`; names without `_n10`). Solvers: the final state within 1e-4 max-abs through the',
    '  real ONNX path (`test/solvers/parity.*`, `test/stochastic/parity.onnx`); runs whose reference is NaN are',
    '  reproduced as a clear error. Schedules: the σ list of the deterministic runs, built by the block\'s function.',
    '',
  ];
  for (const category of CATEGORIES) {
    const blocks = infos.filter((t) => t.category === category);
    if (blocks.length === 0) continue;
    lines.push(`## ${category}`, '');
    lines.push('| block | title | paper | order | NFE/step | stochastic | reference runs reproduced |');
    lines.push('|---|---|---|---|---|---|---|');
    for (const t of blocks) {
      const order = t.solver ? String(t.solver.order) : '—';
      const stochastic = t.solver ? (t.solver.stochastic ? 'yes' : 'no') : '—';
      lines.push(`| \`${t.type}\` | ${cell(t.title)} | ${cell(shortPaper(t.paper))} | ${order} | ${cell(nfeCell(t))} | ${stochastic} | ${cell(runsCell(byBlock.get(t.type)))} |`);
    }
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

function main(argv) {
  const text = blockTable();
  if (argv.includes('--check')) {
    const current = existsSync(OUT) ? readFileSync(OUT, 'utf8') : '';
    if (current !== text) {
      process.stderr.write(`${OUT} is stale: run \`node --import tsx scripts/block-table.mjs --write\`\n`);
      process.exitCode = 1;
      return;
    }
    process.stdout.write(`${OUT} is up to date\n`);
  } else if (argv.includes('--write')) {
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, text);
    process.stdout.write(`wrote ${OUT} (${registryInfo().length} blocks)\n`);
  } else {
    process.stdout.write(text);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
