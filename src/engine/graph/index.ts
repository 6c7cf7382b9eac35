/**
 * Public surface of the graph logic (React-free, browser-safe): structure queries over a `PipelineDoc`, the
 * live connection check, and text-level graph edits for the webview and the extension host.
 */
export { parseEndpoint, formatEndpoint, incomingEdges, findCycles, topologicalOrder, canConnect, type ConnectCheck, type ConnectOptions } from './analyze';
export {
  applyGraphOp, applyTextEdits, parseGraphOp, layoutNeeded, freshNodeId, readPipelineLenient,
  addNode, removeNodes, connect, disconnect, setParam, moveNodes, renameNode, setMetadata,
  type GraphOp, type GraphOpName, type TextEdit, type EditResult, type EditOptions,
} from './edit';
