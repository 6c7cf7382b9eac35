/** Category icons (codicons) and accent colours, shared by the palette and the nodes. */
import { CATEGORIES, type Category, type NodeTypeInfo } from '../../../src/engine/registry/types';
import { portStyle } from '../../shared/ports';

export { CATEGORIES };

export const CATEGORY_ICON: Readonly<Record<Category, string>> = {
  Model: 'circuit-board',
  Conditioning: 'tag',
  Noise: 'graph-scatter',
  Schedule: 'graph-line',
  Solver: 'symbol-method',
  Corrector: 'sync',
  Guidance: 'compass',
  Latent: 'layers',
  Sample: 'play-circle',
  Output: 'file-media',
};

/** The accent of a block: the colour of its first output's type (LATENT for blocks without outputs). */
export function categoryColor(info: NodeTypeInfo | undefined): string {
  if (!info) return 'var(--dp-error)';
  const t = info.outputs[0]?.type ?? info.inputs.find((p) => p.type === 'LATENT')?.type ?? 'LATENT';
  return portStyle(t).color;
}
