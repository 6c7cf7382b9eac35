/** Grids: every combination of axis values run as its own cell, the labelled image grid, shard records and merge. */
export { parseAxisArg, splitValues, resolveAxes, planCell, cellCount, coordsOf, cellLabel, parseSeeds, validateCell } from './plan';
export type { AxisArg, GridAxis, GridCell } from './plan';
export { planGrid, runGridCells, cellDirName, makeCellFolder, DOPRI5_GRID_DEFAULTS } from './run';
export type { GridSpec, GridPlan, GridRunOptions, GridCellResult, GridShardRun, GridProgress, GridScore, GridReferenceError } from './run';
export { writeGrid, writeGridShard, mergeGrid, readGridFile, readImage8, axisInfo, GRID_FILE, GRID_IMAGE } from './result';
export type { GridFile, GridShardFile, GridAxisInfo } from './result';
export { gridImage, textWidth, fitText, drawable } from './image';
export type { Tile, TileBox, GridImage, GridImageAxis, GridImageOptions } from './image';
