/**
 * Named presets of a block (`preset`: "custom" | "k-diffusion" | "diffusers" | "repo"): each fixes the options that
 * make the block reproduce one reference implementation. A solver entry (`defineSolver`) declares its presets, and
 * the `preset` parameter, its documentation and the reading of a preset's options all come from that table.
 */
import { DpipeError } from '../core/errors';
import { readParams } from './params';
import type { Params, ParamSpec, ParamValue } from './types';

/**
 * A named preset of a solver block: the solver-level options it fixes so that the block reproduces one
 * reference implementation (`doc` names it). Model- and schedule-level conventions (timestep rounding, time
 * interpolation, spacing, final σ, start scaling) cannot be set from a solver; `examples/presets/*.dpipe`
 * set every level.
 */
export interface SolverPreset<O = Readonly<Record<string, ParamValue>>> {
  readonly doc: string;
  /** The options it fixes, typed from the block's parameter specs. */
  readonly sets: Partial<O>;
}

/** The presets of a block as the registry keeps them: each with the option values it sets. */
export type NamedPresets = Readonly<Record<string, { readonly doc: string; readonly sets: Params }>>;

/** Presets of one block by name ("k-diffusion", "diffusers", "repo"); "custom" is implicit. */
export type PresetTable<O = Readonly<Record<string, ParamValue>>> = Readonly<Record<string, SolverPreset<O>>>;

export const PRESET_CUSTOM = 'custom';

const fmtValue = (v: ParamValue): string => JSON.stringify(v);
const sameValue = (a: ParamValue | undefined, b: ParamValue | undefined): boolean => JSON.stringify(a) === JSON.stringify(b);

/** What a preset sets, as text: `lowerOrderFinal "below15", eulerAtFinal false`. */
export function describePresetSets(p: NamedPresets[string]): string {
  const e = Object.entries(p.sets);
  return e.length === 0 ? 'fixes no option (dpipe\'s block already is this implementation at the solver level)' : `sets ${e.map(([k, v]) => `${k} ${fmtValue(v)}`).join(', ')}`;
}

/**
 * The `preset` parameter of a solver: "custom" (default: the options as set) or one of `presets`, each
 * documented with exactly the options it sets.
 */
export function presetParam(presets: NamedPresets): ParamSpec & { readonly name: 'preset'; readonly type: 'enum' } {
  const optionDocs: Record<string, string> = { [PRESET_CUSTOM]: 'the options exactly as set on the block.' };
  for (const [name, p] of Object.entries(presets)) optionDocs[name] = `${p.doc} ${describePresetSets(p)}.`;
  return {
    name: 'preset',
    type: 'enum',
    default: PRESET_CUSTOM,
    options: [PRESET_CUSTOM, ...Object.keys(presets)],
    optionDocs,
    doc:
      'Reproduce a reference implementation: a preset other than "custom" fixes the solver options listed for it. An option left at its ' +
      'default takes the preset\'s value; an option set to a value other than both its default and the preset\'s is an error ' +
      '(E_PARAM_VALUE), since it contradicts the preset. Model- and schedule-level conventions (timestep rounding, time ' +
      'interpolation, spacing, final σ) are set on those blocks: see examples/presets.',
  };
}

/**
 * {@link readParams} for a block with a `preset` parameter (`specs` includes it): reads and validates every
 * parameter, then applies the chosen preset. An option whose value differs from both its default and the preset's
 * value can only have been written on purpose against the preset: E_PARAM_VALUE naming both.
 */
export function readPresetParams(block: string, specs: readonly ParamSpec[], params: Params | undefined, presets: NamedPresets): Record<string, ParamValue> {
  const o: Record<string, ParamValue> = { ...readParams(block, specs, params) };
  const name = o.preset;
  const preset = typeof name === 'string' ? presets[name] : undefined;
  if (!preset) return o; // "custom", or a block without presets
  for (const [k, v] of Object.entries(preset.sets)) {
    const spec = specs.find((s) => s.name === k);
    if (!spec) throw new DpipeError('E_INTERNAL', `${block}: preset "${String(name)}" sets unknown option ${k}`);
    if (!sameValue(o[k], v) && !sameValue(o[k], spec.default)) {
      throw new DpipeError(
        'E_PARAM_VALUE',
        `${block}: preset "${String(name)}" sets ${k} to ${fmtValue(v)}, but the block sets ${k} to ${fmtValue(o[k])}. Remove ${k} (or set it to ${fmtValue(v)}), or use preset "custom" to combine options freely.`,
      );
    }
    o[k] = v;
  }
  return o;
}
