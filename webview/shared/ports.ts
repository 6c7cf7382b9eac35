/**
 * Port-type colours. Every colour is a VS Code theme variable (charts / terminal palette), so it follows the
 * user's theme, light, dark or high contrast; the fallback after the comma is only for pages outside VS Code.
 * Each type also has a short glyph, so ports can be told apart without colour.
 */
import type { PortType } from '../../src/engine/registry/types';

export interface PortStyle {
  readonly color: string;
  readonly glyph: string;
  readonly label: string;
}

export const PORT_STYLE: Readonly<Record<PortType, PortStyle>> = {
  MODEL: { color: 'var(--vscode-charts-purple, #b180d7)', glyph: 'M', label: 'Model' },
  CONDITIONING: { color: 'var(--vscode-charts-yellow, #cca700)', glyph: 'C', label: 'Conditioning' },
  GUIDER: { color: 'var(--vscode-charts-orange, #d18616)', glyph: 'G', label: 'Guided model' },
  NOISE: { color: 'var(--vscode-terminal-ansiCyan, #11a8cd)', glyph: 'N', label: 'Noise' },
  SIGMAS: { color: 'var(--vscode-charts-green, #89d185)', glyph: 'σ', label: 'Sigmas' },
  SAMPLER: { color: 'var(--vscode-charts-red, #f14c4c)', glyph: 'S', label: 'Sampler' },
  CORRECTOR: { color: 'var(--vscode-terminal-ansiMagenta, #bc3fbc)', glyph: 'K', label: 'Corrector' },
  LATENT: { color: 'var(--vscode-charts-blue, #3794ff)', glyph: 'L', label: 'Latent' },
  TEXT_ENCODER: { color: 'var(--vscode-terminal-ansiBrightYellow, #e5e510)', glyph: 'T', label: 'Text encoder' },
  VAE: { color: 'var(--vscode-terminal-ansiBrightBlue, #3b8eea)', glyph: 'V', label: 'VAE' },
};

const UNKNOWN: PortStyle = { color: 'var(--vscode-descriptionForeground, #999)', glyph: '?', label: 'Unknown' };

export function portStyle(t: string): PortStyle {
  return (PORT_STYLE as Record<string, PortStyle>)[t] ?? UNKNOWN;
}
