/**
 * Interoperability with ComfyUI, AUTOMATIC1111/Forge and diffusers: importing their files as pipelines and exporting
 * pipelines back (see the README's "Coming from ComfyUI, A1111 or diffusers").
 */
export { importBytes, importText, IMPORT_KIND_NAMES, type ImportKind, type ImportOptions, type ImportResult } from './importFile';
export { importComfyGraph, type ComfyImportOptions, type ComfyImportResult } from './comfyImport';
export { readApiPrompt, readWorkflow, isApiPrompt, isWorkflow, type ComfyGraph, type ComfyNode } from './comfyGraph';
export { COMFY_SAMPLERS, COMFY_SCHEDULERS } from './comfyNames';
export { exportComfyApi, type ApiPrompt, type ComfyExportResult } from './comfyExport';
export { parseInfotext, importInfotext, exportInfotext, A1111_SAMPLERS, A1111_SCHEDULES } from './a1111';
export { schedulerBlocks, importSchedulerConfig, SCHEDULER_CLASSES, type SchedulerBlocks } from './diffusersScheduler';
export { exportDiffusersPython, type DiffusersExport, type DiffusersExportOptions } from './diffusersExport';
export { evaluateSigmas, DocBuilder } from './doc';
export type { InteropIssue } from './issues';
