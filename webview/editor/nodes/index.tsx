/**
 * One memo'd component per block category, collected in the module-level `nodeTypes` React Flow needs (a new
 * object per render would remount every node). Node data is plain JSON (graphView.ts); run pictures come from
 * the run store, so a preview re-renders only the node that shows it.
 */
import { memo } from 'react';
import type { Node, NodeProps, NodeTypes } from '@xyflow/react';
import type { Category } from '../../../src/engine/registry/types';
import { BlockFrame } from './BlockNode';
import { useEditor } from '../context';
import { isActive, useRun } from '../../shared/runStore';
import { ProgressBar } from '../../shared/elements';
import type { BlockNodeData } from '../graphView';

export type BlockNode = Node<BlockNodeData>;
type Props = NodeProps<BlockNode>;

const Plain = (p: Props) => <BlockFrame id={p.id} data={p.data} />;

const ModelNode = memo(function ModelNode(p: Props) {
  return <Plain {...p} />;
});
const ConditioningNode = memo(function ConditioningNode(p: Props) {
  return <Plain {...p} />;
});
const NoiseNode = memo(function NoiseNode(p: Props) {
  return <Plain {...p} />;
});
const ScheduleNode = memo(function ScheduleNode(p: Props) {
  return <Plain {...p} />;
});
const CorrectorNode = memo(function CorrectorNode(p: Props) {
  return <Plain {...p} />;
});
const GuidanceNode = memo(function GuidanceNode(p: Props) {
  return <Plain {...p} />;
});
const LatentNode = memo(function LatentNode(p: Props) {
  return <Plain {...p} />;
});
const UnknownNode = memo(function UnknownNode(p: Props) {
  return <Plain {...p} />;
});

/** A solver shows its order, NFE per step and whether it is stochastic. */
const SolverNode = memo(function SolverNode(p: Props) {
  const { registry } = useEditor();
  const s = registry.get(p.data.blockType)?.solver;
  return (
    <BlockFrame id={p.id} data={p.data}>
      {s && (
        <div className="dp-node-body dp-preview-caption" title="Convergence order · model evaluations per step · stochastic">
          order {s.order} · {s.nfePerStep} NFE/step{s.stochastic ? ' · SDE' : ''}
        </div>
      )}
    </BlockFrame>
  );
});

/** The Sample node: the live x̂0 preview with step and σ, and the run's progress while it evaluates. */
const SampleNode = memo(function SampleNode(p: Props) {
  const { run } = useEditor();
  const preview = useRun(run, (v) => v.previews[p.id]);
  const phase = useRun(run, (v) => v.phase);
  const here = useRun(run, (v) => v.nodeId === p.id);
  const done = useRun(run, (v) => v.nfeDone);
  const total = useRun(run, (v) => v.nfeTotal);
  const active = isActive(phase) && here;
  return (
    <BlockFrame id={p.id} data={p.data}>
      {(preview || active) && (
        <div className="dp-node-body dp-preview">
          {active && <ProgressBar value={total ? (done ?? 0) : undefined} max={total || 1} testId={`progress-${p.id}`} label="Sampling progress" />}
          {preview && (
            <>
              <img
                src={preview.image}
                alt={`x̂0 preview at step ${preview.step + 1}`}
                data-testid={`preview-${p.id}`}
                style={{ aspectRatio: `${preview.width} / ${preview.height}` }}
              />
              <div className="dp-preview-caption" data-testid={`preview-caption-${p.id}`}>
                x̂0 · step {preview.step + 1} · σ = {formatSigma(preview.sigma)}
              </div>
            </>
          )}
        </div>
      )}
    </BlockFrame>
  );
});

/** Thumbnails an Output node shows at most when its run wrote no grid. */
const MAX_OUTPUT_THUMBS = 4;

/** The Output node: the final images with NFE and time; a click asks the host to open the file. */
const OutputNode = memo(function OutputNode(p: Props) {
  const { run, openFile } = useEditor();
  const out = useRun(run, (v) => v.outputs[p.id]);
  const pngs = out?.files.filter((f) => f.kind === 'png') ?? [];
  // A batch writes one PNG per item plus a grid: show the grid (it holds them all) so the node stays compact and
  // does not grow over its neighbours; otherwise the first few images. The caption counts the rest.
  const grids = pngs.filter((f) => /-grid\.png$/.test(f.path));
  const shown = grids.length ? grids : pngs.slice(0, MAX_OUTPUT_THUMBS);
  const hidden = pngs.length - shown.length;
  return (
    <BlockFrame id={p.id} data={p.data}>
      {out && (
        <div className="dp-node-body" data-testid={`outputs-${p.id}`}>
          {pngs.length > 0 && (
            <div className="dp-outputs">
              {shown.map((f, i) => (
                <button key={f.path} className="nodrag" title={`${f.path}\nClick to open`} onClick={() => openFile(f.path)} data-testid={`output-image-${p.id}-${i}`}>
                  <img src={f.uri} alt={`output ${i}`} />
                </button>
              ))}
            </div>
          )}
          <div className="dp-preview-caption">
            {out.nfe} NFE · {formatMs(out.ms)}
            {hidden > 0 && ` · ${pngs.length} images`}
            {pngs.length === 0 && out.files.length > 0 && (
              <>
                {' · '}
                <button className="dp-link nodrag" onClick={() => openFile(out.files[0].path)}>
                  {out.files[0].path.slice(out.files[0].path.lastIndexOf('/') + 1)}
                </button>
              </>
            )}
          </div>
        </div>
      )}
    </BlockFrame>
  );
});

export function formatSigma(s: number): string {
  return s === 0 ? '0' : s >= 100 ? s.toFixed(1) : s >= 0.01 ? s.toPrecision(3) : s.toExponential(2);
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export const nodeTypes: NodeTypes & Record<Category | 'Unknown', unknown> = {
  Model: ModelNode,
  Conditioning: ConditioningNode,
  Noise: NoiseNode,
  Schedule: ScheduleNode,
  Solver: SolverNode,
  Corrector: CorrectorNode,
  Guidance: GuidanceNode,
  Latent: LatentNode,
  Sample: SampleNode,
  Output: OutputNode,
  Unknown: UnknownNode,
};
