/** `dpipe blocks [--json] [TYPE…]`: the block registry with parameters, defaults and ranges. */
import { DpipeError } from '../../engine/core/errors';
import { closestNames } from '../../engine/format/registry';
import { describeParam, showParamValue } from '../../engine/registry/params';
import { registryInfo } from '../../engine/registry/index';
import type { NodeTypeInfo, PortSpec } from '../../engine/registry/types';
import { EXIT, options, defineCommand } from '../command';

const USAGE = `Usage: dpipe blocks [TYPE…] [--json]

Lists every block (or the given ones) by category: ports, parameters with their defaults and allowed values,
and for solvers the order, model evaluations per step and whether they are stochastic.

Options:
  --json       the registry as JSON (what the editor's palette is built from)
  -h, --help   this text`;

function ports(list: readonly PortSpec[]): string {
  return list.length ? list.map((p) => `${p.name}: ${p.type}${p.optional ? '?' : ''}`).join(', ') : '—';
}

export function blockText(b: NodeTypeInfo): string {
  const lines = [`  ${b.type} — ${b.title}`];
  lines.push(`      in: ${ports(b.inputs)}   out: ${ports(b.outputs)}`);
  if (b.solver) lines.push(`      solver: order ${b.solver.order}, ${b.solver.nfePerStep} model evaluation(s) per step, ${b.solver.stochastic ? 'stochastic' : 'deterministic'}`);
  if (b.paper) lines.push(`      paper: ${b.paper}`);
  const w = Math.max(0, ...b.params.map((p) => p.name.length));
  for (const p of b.params) {
    lines.push(`      ${p.name.padEnd(w)}  ${p.type}, default ${showParamValue(p.default)}; ${describeParam(p)}${p.doc ? ` — ${p.doc}` : ''}`);
  }
  return lines.join('\n');
}

export const blocksCommand = defineCommand({
  name: 'blocks',
  summary: 'list every block with its parameters, defaults and ranges (--json for the registry)',
  usage: USAGE,
  options: options([], ['json']),
  async run({ values, positionals }, io) {
    const all = registryInfo();
    let list = all;
    if (positionals.length) {
      list = positionals.map((t) => {
        const b = all.find((x) => x.type === t);
        if (!b) {
          const near = closestNames(t, all.map((x) => x.type));
          throw new DpipeError('E_NODE_TYPE', `no block "${t}"${near.length ? `; did you mean ${near.join(', ')}?` : ''} (dpipe blocks lists them all)`);
        }
        return b;
      });
    }
    if (values.json) {
      io.out(JSON.stringify(list, null, 2) + '\n');
      return EXIT.OK;
    }
    const cats = [...new Set(list.map((b) => b.category))];
    const text = cats.map((c) => `${c}\n${list.filter((b) => b.category === c).map(blockText).join('\n')}`).join('\n\n');
    io.out(text + '\n');
    return EXIT.OK;
  },
});
