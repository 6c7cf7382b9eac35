/**
 * The browser-safe part of the format's public surface: no file system, no default registry (so no onnxruntime in a
 * webview bundle). Note that `loadPipelineText` compiles a JSON Schema with ajv, which generates code at run time;
 * a webview under a strict CSP (no `unsafe-eval`) should receive problems from the host instead of loading itself.
 * `index.ts` re-exports all of this and adds the Node.js conveniences (real registry, file checks).
 */
export * from './types';
export { loadPipelineText, hasErrors, locateProblems, tooDeepAt, MAX_JSON_DEPTH, type LoadTextOptions } from './load';
export { serializePipeline, orderedParamNames, LINE_WIDTH, type SerializeOptions } from './serialize';
export { MIGRATIONS, migrateDocument, type Migration, type MigrateResult } from './migrate';
export {
  COMPOSE_RULES, correctorNeedsSupport, correctorFollows, adaptiveNeedsEnds, zeroEndDefined, cfgppNeedsDdimStep, modelKindSupported, iidNoiseForCorrector,
  torchNoiseOrderOptions, resolveEdges, scheduleShape, modelKind, sampleWirings, Wiring,
  type ComposeRule, type ComposeContext, type ComposeFinding, type ResolvedEdge, type ScheduleShape, type SampleWiring, type Block, type Feed,
} from './rules';
export {
  asRegistry, paramsWithDefaults, checkParamValue, describeParam, describePorts, closestNames, findParam, findPort,
  type BlockRegistry,
} from './registry';
export { buildSchema, structuralSchema, schemaText, SCHEMA_ID, type JsonSchema } from './schema';
export { pointerOf, pathOf } from './locate';
