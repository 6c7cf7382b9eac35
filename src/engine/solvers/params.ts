/**
 * Where the solver families used to read their options and presets; both now live in the registry: the parameter
 * codec (`registry/params.ts`, `readParams` typed from the spec list) and the presets (`registry/presets.ts`).
 * Kept so that existing imports keep working.
 */
export { readParams } from '../registry/params';
export { presetParam, readPresetParams, describePresetSets, PRESET_CUSTOM, type NamedPresets, type PresetTable, type SolverPreset } from '../registry/presets';
