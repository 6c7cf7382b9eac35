/**
 * What a block computes, independent of node ids and layout: its type, its params with the registry's defaults
 * filled in, and — recursively — what feeds each of its inputs. Two documents compute the same thing at a block when
 * the signatures agree. The exporters write a file for the other tool, import it back, and compare signatures, so an
 * export is only ever written when importing it gives the same pipeline; where they differ, the deepest block that
 * differs is the one with no equivalent.
 */
import type { PipelineDoc, PipelineNode } from '../format/types';
import type { ParamValue } from '../registry/types';
import { fullParams } from './doc';

/** Params that only say where a file is or how a block is shown, not what it computes. */
const COSMETIC = new Set(['path', 'file', 'name', 'scale', 'grid', 'gridColumns', 'threads', 'provider', 'fallbackToCpu', 'keepLoaded', 'preview', 'previewDecoder', 'previewDecoderRange', 'tiling', 'tileSize', 'overlap']);

function cosmetic(node: PipelineNode, key: string): boolean {
  if (node.type === 'guider.cfg' || node.type === 'guider.apg') return false;
  return COSMETIC.has(key);
}

function canon(v: ParamValue): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(+v.toPrecision(12));
  return JSON.stringify(v);
}

export class Signatures {
  private readonly memo = new Map<string, string>();
  private readonly byId: Map<string, PipelineNode>;

  constructor(readonly doc: PipelineDoc) {
    this.byId = new Map(doc.nodes.map((n) => [n.id, n]));
  }

  /** The block's own part: type and params (defaults filled, presets as written). */
  own(node: PipelineNode): string {
    const p = fullParams(node);
    return `${node.type}{${Object.keys(p).sort().filter((k) => !cosmetic(node, k)).map((k) => `${k}:${canon(p[k])}`).join(',')}}`;
  }

  /** The block and everything upstream of it. */
  of(id: string): string {
    const hit = this.memo.get(id);
    if (hit !== undefined) return hit;
    const node = this.byId.get(id)!;
    this.memo.set(id, '(cycle)');
    const ins = this.doc.edges
      .filter((e) => e.to.startsWith(`${id}.`))
      .map((e) => {
        const [src, port] = e.from.split('.');
        return `${e.to.slice(id.length + 1)}<-${port}:${this.of(src)}`;
      })
      .sort();
    const sig = `${this.own(node)}(${ins.join(';')})`;
    this.memo.set(id, sig);
    return sig;
  }

  node(id: string): PipelineNode | undefined {
    return this.byId.get(id);
  }
}

/**
 * The blocks of `want` (upstream of `roots`) that `got` does not compute, deepest first: a block whose inputs all
 * have matches in `got` but which has none itself. With the best same-type block of `got` for a params diff.
 */
export function differences(want: PipelineDoc, roots: readonly string[], got: PipelineDoc): { node: PipelineNode; closest?: PipelineNode }[] {
  const a = new Signatures(want);
  const b = new Signatures(got);
  const have = new Set(got.nodes.map((n) => b.of(n.id)));
  const out: { node: PipelineNode; closest?: PipelineNode }[] = [];
  const seen = new Set<string>();
  const visit = (id: string): boolean => {
    if (seen.has(id)) return have.has(a.of(id));
    seen.add(id);
    const ups = want.edges.filter((e) => e.to.startsWith(`${id}.`)).map((e) => e.from.split('.')[0]);
    const upsOk = ups.map(visit).every(Boolean);
    const ok = have.has(a.of(id));
    if (!ok && upsOk) {
      const node = a.node(id)!;
      out.push({ node, closest: got.nodes.find((n) => n.type === node.type) });
    }
    return ok;
  };
  for (const r of roots) visit(r);
  return out;
}

/** "sigmaMin 0.03 here, 0 there" for two blocks of the same type. */
export function paramDiff(node: PipelineNode, other: PipelineNode | undefined): string {
  if (!other || other.type !== node.type) return '';
  const p = fullParams(node);
  const q = fullParams(other);
  const keys = Object.keys(p).filter((k) => !cosmetic(node, k) && canon(p[k]) !== canon(q[k]));
  return keys.map((k) => `${k} ${canon(p[k])} (the other tool's: ${canon(q[k])})`).join(', ');
}
