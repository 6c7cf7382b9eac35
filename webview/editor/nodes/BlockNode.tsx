/**
 * The frame every block is drawn in: a header (category icon, title, id, problem badge), one row per port pair
 * with typed, coloured handles, a short summary of the parameters, and an optional body (previews, outputs).
 * Category components (nodes/index.tsx) fill the body.
 */
import { Handle, Position } from '@xyflow/react';
import type { ReactNode } from 'react';
import type { NodeTypeInfo, ParamSpec, ParamValue, PortSpec } from '../../../src/engine/registry/types';
import { portStyle } from '../../shared/ports';
import { Codicon } from '../../shared/elements';
import type { BlockNodeData, NodeProblem } from '../graphView';
import { CATEGORY_ICON, categoryColor } from './categories';
import { useEditor } from '../context';

export interface BlockFrameProps {
  id: string;
  data: BlockNodeData;
  children?: ReactNode;
}

export function BlockFrame({ id, data, children }: BlockFrameProps) {
  const { registry } = useEditor();
  const info = registry.get(data.blockType);
  const problems = data.problems;
  const errors = problems.filter((p) => p.severity === 'error');
  const warnings = problems.filter((p) => p.severity === 'warning');
  const inputs = info?.inputs ?? data.danglingInputs.map((name) => ({ name, type: 'UNKNOWN', doc: '' }) as unknown as PortSpec);
  const outputs = info?.outputs ?? data.danglingOutputs.map((name) => ({ name, type: 'UNKNOWN', doc: '' }) as unknown as PortSpec);
  const rows = Math.max(inputs.length, outputs.length);
  const cls = `dp-node${errors.length ? ' dp-has-error' : warnings.length ? ' dp-has-warning' : ''}`;
  return (
    <div className={cls} data-testid={`node-${id}`} data-type={data.blockType} style={{ ['--dp-cat-color' as string]: categoryColor(info) }}>
      <div className="dp-node-header" title={info?.doc ?? `Unknown block type ${data.blockType}`}>
        <Codicon name={info ? CATEGORY_ICON[info.category] : 'question'} />
        <span className="dp-node-title">{info?.title ?? data.blockType}</span>
        <span className="dp-node-id">{id}</span>
        {errors.length > 0 && <ProblemBadge id={id} severity="error" problems={errors} />}
        {errors.length === 0 && warnings.length > 0 && <ProblemBadge id={id} severity="warning" problems={warnings} />}
      </div>
      {rows > 0 && (
        <div className="dp-node-ports">
          {Array.from({ length: rows }, (_, i) => (
            <div className="dp-port-row" key={i}>
              {inputs[i] ? <InPort nodeId={id} port={inputs[i]} /> : <span />}
              {outputs[i] ? <OutPort nodeId={id} port={outputs[i]} /> : <span />}
            </div>
          ))}
        </div>
      )}
      {info && <ParamSummary info={info} params={data.params} />}
      {children}
    </div>
  );
}

function portTitle(p: PortSpec, dir: 'input' | 'output'): string {
  return `${p.name}: ${p.type}${p.optional ? ' (optional)' : ''} ${dir}${p.doc ? `\n${p.doc}` : ''}`;
}

function InPort({ nodeId, port }: { nodeId: string; port: PortSpec }) {
  const s = portStyle(port.type);
  return (
    <span className="dp-port dp-port-in" title={portTitle(port, 'input')}>
      <Handle
        type="target"
        position={Position.Left}
        id={port.name}
        data-testid={`port-${nodeId}-in-${port.name}`}
        data-port-type={port.type}
        style={{ background: s.color }}
      />
      <span className={`dp-port-name${port.optional ? ' optional' : ''}`}>{port.name}</span>
      <span className="dp-port-type">{s.glyph}</span>
    </span>
  );
}

function OutPort({ nodeId, port }: { nodeId: string; port: PortSpec }) {
  const s = portStyle(port.type);
  return (
    <span className="dp-port dp-port-out" title={portTitle(port, 'output')}>
      <span className="dp-port-type">{s.glyph}</span>
      <span className="dp-port-name">{port.name}</span>
      <Handle
        type="source"
        position={Position.Right}
        id={port.name}
        data-testid={`port-${nodeId}-out-${port.name}`}
        data-port-type={port.type}
        style={{ background: s.color }}
      />
    </span>
  );
}

function ProblemBadge({ id, severity, problems }: { id: string; severity: 'error' | 'warning'; problems: readonly NodeProblem[] }) {
  const title = problems.map((p) => `[${p.code}] ${p.message}`).join('\n');
  return (
    <span className={`dp-node-problem ${severity}`} title={title} data-testid={`node-problem-${id}`} role="img" aria-label={title}>
      <Codicon name={severity === 'error' ? 'error' : 'warning'} />
      {problems.length}
    </span>
  );
}

const SUMMARY_MAX = 4;

export function formatParamValue(spec: ParamSpec | undefined, v: ParamValue): string {
  if (Array.isArray(v)) return v.length > 4 ? `[${v.slice(0, 3).join(', ')}, … ${v.length}]` : `[${v.join(', ')}]`;
  if (spec?.type === 'file') {
    const s = String(v);
    return s === '' ? '—' : s.slice(s.lastIndexOf('/') + 1);
  }
  if (typeof v === 'number' && !Number.isInteger(v)) return String(Number(v.toPrecision(6)));
  return String(v);
}

function ParamSummary({ info, params }: { info: NodeTypeInfo; params: Readonly<Record<string, ParamValue>> }) {
  const shown = info.params.filter((p) => !p.advanced).slice(0, SUMMARY_MAX);
  if (shown.length === 0) return null;
  return (
    <div className="dp-node-summary">
      {shown.map((p) => {
        const v = params[p.name] ?? p.default;
        return (
          <div key={p.name} title={`${p.label ?? p.name} = ${formatParamValue(p, v)}`}>
            {p.name} = {formatParamValue(p, v)}
          </div>
        );
      })}
    </div>
  );
}
