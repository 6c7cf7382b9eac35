/**
 * Palette, canvas and inspector around one loaded document. The canvas is a projection of the document; every
 * user change becomes graph ops sent to the host, and the new document comes back as `documentChanged`. Local
 * UI state — selection, viewport, sizes, a node being dragged — survives those updates.
 */
import {
  Background,
  BackgroundVariant,
  Controls,
  MiniMap,
  Panel,
  ReactFlow,
  applyEdgeChanges,
  applyNodeChanges,
  useReactFlow,
  type Connection,
  type EdgeChange,
  type FinalConnectionState,
  type IsValidConnection,
  type NodeChange,
  type OnBeforeDelete,
  type Viewport,
} from '@xyflow/react';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { Problem } from '../../src/engine/core/errors';
import type { BlockRegistry } from '../../src/engine/format/registry';
import type { PipelineDoc, PipelineEdge } from '../../src/engine/format/types';
import { canConnect } from '../../src/engine/graph';
import type { ParamSpec, ParamValue } from '../../src/engine/registry/types';
import { PORT_STYLE } from '../shared/ports';
import { copySelection, freshId, parseClipboard, planPaste, type ClipboardPayload } from './clipboard';
import { edgeId, problemsByNode, projectEdges, projectNodes, unplaced, unplacedShown, type BlockFlowEdge, type BlockFlowNode } from './graphView';
import { Inspector } from './Inspector';
import { estimateSize, layoutDoc, placeNear } from './layout';
import { nodeTypes } from './nodes';
import { categoryColor } from './nodes/categories';
import { ops, type Op } from './ops';
import { BLOCK_MIME, Palette } from './Palette';

export interface WorkspaceProps {
  doc: PipelineDoc;
  problems: readonly Problem[];
  registry: BlockRegistry;
  /** Sends ops as one undoable edit. */
  send: (ops: Op[], label: string) => void;
  /** Asks the host for a file; resolves to a path relative to the .dpipe, or null. */
  pickFile: (spec: ParamSpec & { type: 'file' }) => Promise<string | null>;
  notify: (kind: 'info' | 'error', text: string) => void;
  initialViewport?: Viewport;
  saveViewport: (v: Viewport) => void;
  /** Filled with the actions the toolbar triggers. */
  actionsRef?: React.MutableRefObject<WorkspaceActions | null>;
}

export interface WorkspaceActions {
  layout(): void;
  fit(): void;
}

type XY = { x: number; y: number };

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || !el.tagName) return false;
  const tag = el.tagName.toLowerCase();
  return tag === 'input' || tag === 'textarea' || tag === 'select' || el.isContentEditable || tag.startsWith('vscode-');
}

export function Workspace(p: WorkspaceProps) {
  const { doc, registry, send, notify } = p;
  const rf = useReactFlow<BlockFlowNode, BlockFlowEdge>();
  const [nodes, setNodes] = useState<BlockFlowNode[]>([]);
  const [edges, setEdges] = useState<BlockFlowEdge[]>([]);
  const [fallback, setFallback] = useState<ReadonlyMap<string, XY>>(new Map());
  const fallbackRef = useRef(fallback);
  fallbackRef.current = fallback;
  const wrapper = useRef<HTMLDivElement>(null);
  const nodesRef = useRef(nodes);
  nodesRef.current = nodes;
  const docRef = useRef(doc);
  docRef.current = doc;
  /** Ids to select once they appear in the document (just added or pasted). */
  const pendingSelect = useRef<Set<string> | null>(null);
  const clipboard = useRef<ClipboardPayload | undefined>(undefined);
  const lastKeyPaste = useRef(0);
  const laidOut = useRef(new Set<string>());
  const fitAfterLayout = useRef(!p.initialViewport);

  // ---- projection: document → React Flow nodes/edges, keeping local UI state
  useLayoutEffect(() => {
    setNodes((prev) => {
      const pending = pendingSelect.current;
      const present = pending && [...pending].some((id) => doc.nodes.some((n) => n.id === id));
      const selected = present ? pending : new Set(prev.filter((n) => n.selected).map((n) => n.id));
      if (present) pendingSelect.current = null;
      const next = projectNodes(doc, { registry, problems: p.problems, selectedNodes: selected, selectedEdges: new Set(), fallbackPositions: fallback, previous: prev });
      // A node being dragged keeps its local position until the drag ends.
      const dragging = new Map(prev.filter((n) => n.dragging).map((n) => [n.id, n]));
      return dragging.size ? next.map((n) => (dragging.has(n.id) ? { ...n, position: dragging.get(n.id)!.position, dragging: true } : n)) : next;
    });
    setEdges((prev) => projectEdges(doc, registry, new Set(prev.filter((e) => e.selected).map((e) => e.id))));
  }, [doc, p.problems, registry, fallback]);

  // ---- auto-layout for nodes the file does not place: drawn, not written. Opening a file never edits it; the
  // positions go into the file with the first edit that writes positions (see withUnplaced) or an explicit Auto-layout.
  useEffect(() => {
    const missing = unplaced(doc).filter((id) => !laidOut.current.has(id));
    if (missing.length === 0) return;
    for (const id of missing) laidOut.current.add(id);
    let cancelled = false;
    let done = false;
    (async () => {
      const all = missing.length === doc.nodes.length;
      let pos: Map<string, XY>;
      if (all) {
        pos = await layoutDoc(doc, registry, measuredSizes(nodesRef.current));
      } else {
        // Placed nodes where the file puts them, earlier unplaced ones where they are drawn.
        const shown = new Map(nodesRef.current.map((n) => [n.id, n.position] as const));
        const known = new Map<string, XY>();
        for (const n of doc.nodes) {
          const at = n.position ?? (missing.includes(n.id) ? undefined : shown.get(n.id));
          if (at) known.set(n.id, at);
        }
        pos = placeNear(doc, registry, missing, known);
      }
      if (cancelled) return;
      done = true;
      setFallback((f) => new Map([...f, ...pos]));
      if (fitAfterLayout.current) {
        fitAfterLayout.current = false;
        requestAnimationFrame(() => rf.fitView({ padding: 0.15 }));
      }
    })().catch((e) => notify('error', `Auto-layout failed: ${String(e)}`));
    return () => {
      cancelled = true;
      if (!done) for (const id of missing) laidOut.current.delete(id);
    };
  }, [doc, registry]);

  /** `ops` preceded by a move that writes the shown positions of every node the file does not place yet. */
  const withUnplaced = useCallback((rest: Op[]): Op[] => {
    const place = unplacedShown(docRef.current, new Map(nodesRef.current.map((n) => [n.id, n.position] as const)));
    return place.size ? [ops.moveNodes(place), ...rest] : rest;
  }, []);

  const relayoutAll = useCallback(async () => {
    const pos = await layoutDoc(docRef.current, registry, measuredSizes(nodesRef.current));
    send([ops.moveNodes(pos)], 'Auto-layout');
    requestAnimationFrame(() => rf.fitView({ padding: 0.15, duration: 200 }));
  }, [registry, send, rf]);

  useEffect(() => {
    if (!p.actionsRef) return;
    p.actionsRef.current = { layout: () => void relayoutAll(), fit: () => void rf.fitView({ padding: 0.15, duration: 200 }) };
    return () => {
      if (p.actionsRef) p.actionsRef.current = null;
    };
  }, [p.actionsRef, relayoutAll, rf]);

  // ---- React Flow callbacks
  const onNodesChange = useCallback((changes: NodeChange<BlockFlowNode>[]) => {
    setNodes((nds) => applyNodeChanges(changes.filter((c) => c.type !== 'remove' && c.type !== 'add' && c.type !== 'replace'), nds));
  }, []);
  const onEdgesChange = useCallback((changes: EdgeChange<BlockFlowEdge>[]) => {
    setEdges((eds) => applyEdgeChanges(changes.filter((c) => c.type === 'select'), eds));
  }, []);

  const onNodeDragStop = useCallback(
    (_e: unknown, _n: BlockFlowNode, dragged: BlockFlowNode[]) => {
      const moved = new Map<string, XY>();
      const d = docRef.current;
      for (const n of dragged) {
        // A node the file does not place counts as moved only when it left the place it was drawn at.
        const old = d.nodes.find((x) => x.id === n.id)?.position ?? fallbackRef.current.get(n.id);
        if (!old || Math.round(old.x) !== Math.round(n.position.x) || Math.round(old.y) !== Math.round(n.position.y)) moved.set(n.id, n.position);
      }
      if (moved.size === 0) return;
      // One op: the nodes the file does not place yet get their shown positions, the moved ones their new ones.
      const all = unplacedShown(d, new Map(nodesRef.current.map((n) => [n.id, n.position] as const)));
      for (const [id, p] of moved) all.set(id, p);
      send([ops.moveNodes(all)], moved.size === 1 ? 'Move node' : `Move ${moved.size} nodes`);
    },
    [send],
  );

  const deleteItems = useCallback(
    (nodeIds: readonly string[], edgeIds: readonly string[]) => {
      const gone = new Set(nodeIds);
      const d = docRef.current;
      const out: Op[] = [];
      for (const e of d.edges) {
        const id = edgeId(e.from, e.to);
        if (edgeIds.includes(id) && !gone.has(e.from.split('.')[0]) && !gone.has(e.to.split('.')[0])) out.push(ops.disconnect(e));
      }
      if (nodeIds.length) out.push(ops.removeNodes(nodeIds));
      if (out.length) send(out, nodeIds.length ? `Delete ${nodeIds.length} node${nodeIds.length === 1 ? '' : 's'}` : 'Delete edge');
    },
    [send],
  );

  const onBeforeDelete: OnBeforeDelete<BlockFlowNode, BlockFlowEdge> = useCallback(
    async ({ nodes: ns, edges: es }) => {
      deleteItems(
        ns.map((n) => n.id),
        es.map((e) => e.id),
      );
      return false;
    },
    [deleteItems],
  );

  const check = useCallback(
    (c: { source: string; sourceHandle?: string | null; target: string; targetHandle?: string | null }) =>
      canConnect(registry, docRef.current, `${c.source}.${c.sourceHandle ?? ''}`, `${c.target}.${c.targetHandle ?? ''}`, { replace: true }),
    [registry],
  );

  const isValidConnection: IsValidConnection<BlockFlowEdge> = useCallback((c) => check(c).ok, [check]);

  const onConnect = useCallback(
    (c: Connection) => {
      const r = check(c);
      if (!r.ok) {
        notify('error', `Cannot connect: ${r.reason}`);
        return;
      }
      const edge: PipelineEdge = { from: `${c.source}.${c.sourceHandle}`, to: `${c.target}.${c.targetHandle}` };
      send([ops.connect(edge, true)], r.replaces.length ? 'Replace connection' : 'Connect');
    },
    [check, send, notify],
  );

  const onConnectEnd = useCallback(
    (_e: MouseEvent | TouchEvent, s: FinalConnectionState) => {
      if (s.isValid || !s.fromHandle || !s.toHandle) return;
      const a = s.fromHandle;
      const b = s.toHandle;
      const [src, dst] = a.type === 'source' ? [a, b] : [b, a];
      const r = check({ source: src.nodeId, sourceHandle: src.id, target: dst.nodeId, targetHandle: dst.id });
      if (!r.ok) notify('error', `Cannot connect: ${r.reason}`);
    },
    [check, notify],
  );

  // ---- adding, copying, pasting
  const viewCenter = useCallback((): XY => {
    const r = wrapper.current?.getBoundingClientRect();
    if (!r) return { x: 0, y: 0 };
    return rf.screenToFlowPosition({ x: r.left + r.width / 2, y: r.top + r.height / 2 });
  }, [rf]);

  const addBlock = useCallback(
    (type: string, at?: XY) => {
      const d = docRef.current;
      const id = freshId(type, new Set(d.nodes.map((n) => n.id)));
      const size = estimateSize(registry, type);
      const c = at ?? viewCenter();
      const pos = at ?? freeSpot({ x: c.x - size.width / 2, y: c.y - size.height / 2 }, size, nodesRef.current, registry);
      pendingSelect.current = new Set([id]);
      send(withUnplaced([ops.addNode({ id, type, params: {}, position: { x: Math.round(pos.x), y: Math.round(pos.y) } })]), `Add ${registry.get(type)?.title ?? type}`);
    },
    [registry, send, viewCenter, withUnplaced],
  );

  const selectedIds = useCallback(() => new Set(nodesRef.current.filter((n) => n.selected).map((n) => n.id)), []);

  const copy = useCallback((): ClipboardPayload | undefined => {
    const positions = new Map(nodesRef.current.map((n) => [n.id, n.position] as const));
    const clip = copySelection(docRef.current, selectedIds(), positions);
    if (!clip) return undefined;
    clipboard.current = clip;
    // Also on the system clipboard, so a copy can be pasted into another .dpipe editor.
    navigator.clipboard?.writeText(JSON.stringify(clip)).catch(() => undefined);
    return clip;
  }, [selectedIds]);

  const paste = useCallback(
    (clip: ClipboardPayload | undefined, label = 'Paste') => {
      if (!clip || clip.nodes.length === 0) return;
      const plan = planPaste(docRef.current, clip, { x: 40, y: 40 });
      pendingSelect.current = new Set(plan.nodes.map((n) => n.id));
      send(withUnplaced([...plan.nodes.map((n) => ops.addNode(n)), ...plan.edges.map((e) => ops.connect(e, false))]), `${label} ${plan.nodes.length} node${plan.nodes.length === 1 ? '' : 's'}`);
      // The next paste of the same clipboard lands further along.
      clipboard.current = { ...clip, nodes: clip.nodes.map((n) => ({ ...n, position: n.position && { x: n.position.x + 40, y: n.position.y + 40 } })) };
    },
    [send, withUnplaced],
  );

  const selectAll = useCallback((on: boolean) => {
    setNodes((nds) => nds.map((n) => (n.selected === on ? n : { ...n, selected: on })));
    setEdges((eds) => eds.map((e) => (e.selected === on ? e : { ...e, selected: on })));
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target) || e.defaultPrevented) return;
      const mod = e.ctrlKey || e.metaKey;
      const k = e.key.toLowerCase();
      if (mod && k === 'a') {
        selectAll(true);
      } else if (mod && k === 'c') {
        if (!copy()) return;
      } else if (mod && k === 'x') {
        const ids = [...selectedIds()];
        if (!copy()) return;
        deleteItems(ids, []);
      } else if (mod && k === 'v') {
        lastKeyPaste.current = Date.now();
        paste(clipboard.current);
      } else if (mod && k === 'd') {
        const clip = copySelection(docRef.current, selectedIds(), new Map(nodesRef.current.map((n) => [n.id, n.position] as const)));
        paste(clip, 'Duplicate');
      } else if (!mod && !e.altKey && k === 'f') {
        rf.fitView({ padding: 0.15, duration: 200 });
      } else if (!mod && e.shiftKey && k === 'l') {
        void relayoutAll();
      } else if (k === 'escape') {
        selectAll(false);
      } else {
        return;
      }
      e.preventDefault();
    };
    // A paste that did not come from our own shortcut (VS Code's Edit ▸ Paste, or another editor's copy).
    const onPaste = (e: ClipboardEvent) => {
      if (isTyping(e.target) || Date.now() - lastKeyPaste.current < 500) return;
      const clip = parseClipboard(e.clipboardData?.getData('text/plain') ?? '');
      if (clip) {
        e.preventDefault();
        paste(clip);
      }
    };
    const onCopy = (e: ClipboardEvent) => {
      if (isTyping(e.target)) return;
      const positions = new Map(nodesRef.current.map((n) => [n.id, n.position] as const));
      const clip = copySelection(docRef.current, selectedIds(), positions);
      if (clip && e.clipboardData) {
        clipboard.current = clip;
        e.clipboardData.setData('text/plain', JSON.stringify(clip));
        e.preventDefault();
      }
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('paste', onPaste);
    document.addEventListener('copy', onCopy);
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('paste', onPaste);
      document.removeEventListener('copy', onCopy);
    };
  }, [copy, paste, deleteItems, selectAll, selectedIds, relayoutAll, rf]);

  // ---- inspector
  const selected = nodes.filter((n) => n.selected);
  const inspected = selected.length === 1 ? doc.nodes.find((n) => n.id === selected[0].id) : undefined;
  const inspectedProblems = useMemo(() => (inspected ? problemsByNode(doc, p.problems).get(inspected.id) ?? [] : []), [doc, p.problems, inspected]);
  const onSetParam = useCallback((nodeId: string, name: string, value: ParamValue) => send([ops.setParam(nodeId, name, value)], `Set ${nodeId}.${name}`), [send]);
  const onPickFile = useCallback(
    (nodeId: string, spec: ParamSpec & { type: 'file' }) => {
      p.pickFile(spec).then(
        (path) => {
          if (path !== null) send([ops.setParam(nodeId, spec.name, path)], `Set ${nodeId}.${spec.name}`);
        },
        (e) => notify('error', `Could not pick a file: ${e instanceof Error ? e.message : String(e)}`),
      );
    },
    [p.pickFile, send, notify],
  );

  const onDrop = useCallback(
    (e: React.DragEvent) => {
      const type = e.dataTransfer.getData(BLOCK_MIME);
      if (!type) return;
      e.preventDefault();
      const at = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      addBlock(type, at);
    },
    [rf, addBlock],
  );

  return (
    <>
      <Palette blocks={registry.all} onAdd={addBlock} />
      <div
        className="dp-canvas"
        ref={wrapper}
        data-testid="canvas"
        onDragOver={(e) => {
          if (e.dataTransfer.types.includes(BLOCK_MIME)) {
            e.preventDefault();
            e.dataTransfer.dropEffect = 'copy';
          }
        }}
        onDrop={onDrop}
      >
        <ReactFlow<BlockFlowNode, BlockFlowEdge>
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          onNodesChange={onNodesChange}
          onEdgesChange={onEdgesChange}
          onNodeDragStop={onNodeDragStop}
          onSelectionDragStop={(_e, dragged) => onNodeDragStop(_e, dragged[0], dragged)}
          onBeforeDelete={onBeforeDelete}
          onConnect={onConnect}
          onConnectEnd={onConnectEnd}
          isValidConnection={isValidConnection}
          deleteKeyCode={['Delete', 'Backspace']}
          multiSelectionKeyCode={['Control', 'Meta', 'Shift']}
          selectionKeyCode="Shift"
          defaultViewport={p.initialViewport}
          fitView={!p.initialViewport}
          fitViewOptions={{ padding: 0.15 }}
          onMoveEnd={(_e, v) => p.saveViewport(v)}
          minZoom={0.1}
          maxZoom={3}
          proOptions={{ hideAttribution: true }}
          colorMode={document.body.classList.contains('vscode-light') || document.body.classList.contains('vscode-high-contrast-light') ? 'light' : 'dark'}
        >
          <Background variant={BackgroundVariant.Dots} gap={20} size={1} />
          <Controls showInteractive={false} />
          <MiniMap pannable zoomable nodeColor={(n) => categoryColor(registry.get((n.data as { blockType: string }).blockType))} ariaLabel="Mini map" />
          <Panel position="top-right">
            <Legend />
          </Panel>
        </ReactFlow>
        {doc.nodes.length === 0 && (
          <div className="dp-empty-canvas" data-testid="empty-canvas">
            This pipeline has no blocks yet — drag one from the palette.
          </div>
        )}
      </div>
      <Inspector node={inspected} info={inspected && registry.get(inspected.type)} selectionSize={selected.length} problems={inspectedProblems} onSetParam={onSetParam} onPickFile={onPickFile} />
    </>
  );
}

/**
 * The free place nearest to `want` (searched on rings of a 30 px grid) where a block of `size` overlaps no
 * node, so a block added with a click never lands on top of another.
 */
function freeSpot(want: XY, size: { width: number; height: number }, nodes: readonly BlockFlowNode[], registry: BlockRegistry): XY {
  const rects = nodes.map((n) => {
    const est = estimateSize(registry, n.data.blockType);
    return { x: n.position.x, y: n.position.y, w: n.measured?.width ?? est.width, h: n.measured?.height ?? est.height };
  });
  const free = (q: XY) => !rects.some((r) => q.x < r.x + r.w + 16 && q.x + size.width + 16 > r.x && q.y < r.y + r.h + 16 && q.y + size.height + 16 > r.y);
  for (let ring = 0; ring <= 40; ring++) {
    for (let dx = -ring; dx <= ring; dx++) {
      for (let dy = -ring; dy <= ring; dy++) {
        if (Math.max(Math.abs(dx), Math.abs(dy)) !== ring) continue;
        const q = { x: want.x + dx * 30, y: want.y + dy * 30 };
        if (free(q)) return q;
      }
    }
  }
  return want;
}

function measuredSizes(nodes: readonly BlockFlowNode[]): Map<string, { width: number; height: number }> {
  const m = new Map<string, { width: number; height: number }>();
  for (const n of nodes) if (n.measured?.width && n.measured.height) m.set(n.id, { width: n.measured.width, height: n.measured.height });
  return m;
}

function Legend() {
  return (
    <div className="dp-legend" data-testid="legend" aria-label="Port types">
      <div className="dp-legend-title">Port types</div>
      {Object.entries(PORT_STYLE).map(([t, s]) => (
        <div className="dp-legend-entry" key={t} title={s.label}>
          <span className="dp-legend-dot" style={{ background: s.color }} />
          {t}
        </div>
      ))}
    </div>
  );
}
