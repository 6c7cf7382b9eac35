/**
 * The inspector: the selected node's documentation, paper, problems, and one control per parameter, chosen by
 * the parameter's spec: a number field with its range and a validation message, a choice, a checkbox, a file
 * picked through the host, a seed with a randomize button, a list of numbers as text. Text is read and checked by
 * the parameter codec the loader and `--set` use (`parseParamText`) before it is sent, so the host only ever
 * receives valid edits.
 */
import { memo, useEffect, useState } from 'react';
import { describeParam, formatParamText, parseParamText } from '../../src/engine/registry/params';
import type { PipelineNode } from '../../src/engine/format/types';
import type { NodeTypeInfo, ParamSpec, ParamValue } from '../../src/engine/registry/types';
import { randomSeed } from './fields';
import { Button, Checkbox, Codicon, SingleSelect, TextArea, TextField } from '../shared/elements';
import type { NodeProblem } from './graphView';
import { CATEGORY_ICON } from './nodes/categories';

export interface InspectorProps {
  node: PipelineNode | undefined;
  info: NodeTypeInfo | undefined;
  /** How many nodes are selected (the inspector edits one). */
  selectionSize: number;
  problems: readonly NodeProblem[];
  onSetParam: (nodeId: string, name: string, value: ParamValue) => void;
  onPickFile: (nodeId: string, spec: ParamSpec & { type: 'file' }) => void;
}

export const Inspector = memo(function Inspector(p: InspectorProps) {
  const [showAdvanced, setShowAdvanced] = useState(false);
  if (!p.node) {
    return (
      <aside className="dp-inspector" data-testid="inspector">
        <div className="dp-inspector-empty" data-testid="inspector-empty">
          {p.selectionSize > 1 ? (
            <p>{p.selectionSize} nodes selected. Select one node to edit its parameters.</p>
          ) : (
            <>
              <p>Select a node to edit its parameters.</p>
              <p>
                Add blocks from the palette (drag or click). Drag from an output port to an input port of the same colour to connect them.
              </p>
              <p>
                <kbd>Del</kbd> delete · <kbd>Ctrl+A</kbd> select all · <kbd>Ctrl+C</kbd>/<kbd>Ctrl+V</kbd> copy/paste · <kbd>Ctrl+D</kbd> duplicate · <kbd>F</kbd> fit view ·{' '}
                <kbd>Shift+L</kbd> auto-layout · <kbd>Esc</kbd> clear selection
              </p>
            </>
          )}
        </div>
      </aside>
    );
  }
  const { node, info } = p;
  if (!info) {
    return (
      <aside className="dp-inspector" data-testid="inspector">
        <h3>
          <Codicon name="question" /> {node.type}
        </h3>
        <div className="dp-inspector-type">{node.id}</div>
        <ProblemList problems={p.problems} />
        <p className="dp-doc">This block type is not in the registry of this dpipe build. Its parameters are kept as written; edit them in the text editor.</p>
      </aside>
    );
  }
  const basic = info.params.filter((s) => !s.advanced);
  const advanced = info.params.filter((s) => s.advanced);
  const field = (s: ParamSpec) => (
    <ParamField
      key={`${node.id}/${s.name}`}
      spec={s}
      value={node.params[s.name]}
      onSet={(v) => p.onSetParam(node.id, s.name, v)}
      onPickFile={() => p.onPickFile(node.id, s as ParamSpec & { type: 'file' })}
    />
  );
  return (
    <aside className="dp-inspector" data-testid="inspector" data-node-id={node.id}>
      <h3>
        <Codicon name={CATEGORY_ICON[info.category] ?? 'symbol-misc'} /> {info.title}
      </h3>
      <div className="dp-inspector-type" data-testid="inspector-title">
        {node.id} · {info.type}
      </div>
      <ProblemList problems={p.problems} />
      <div className="dp-doc" data-testid="inspector-doc">
        {info.doc}
      </div>
      {info.paper && (
        <div className="dp-paper" data-testid="inspector-paper">
          <Codicon name="book" /> <span>{info.paper}</span>
        </div>
      )}
      {info.solver && (
        <div className="dp-doc">
          Order {info.solver.order} · {info.solver.nfePerStep} model evaluation{info.solver.nfePerStep === 1 ? '' : 's'} per step · {info.solver.stochastic ? 'stochastic (SDE)' : 'deterministic (ODE)'}
        </div>
      )}
      {info.params.length === 0 && <p className="dp-doc">This block has no parameters.</p>}
      {basic.map(field)}
      {advanced.length > 0 && (
        <>
          <div className="dp-section" role="button" tabIndex={0} onClick={() => setShowAdvanced(!showAdvanced)} data-testid="inspector-advanced">
            <Codicon name={showAdvanced ? 'chevron-down' : 'chevron-right'} /> Advanced ({advanced.length})
          </div>
          {showAdvanced && advanced.map(field)}
        </>
      )}
    </aside>
  );
});

function ProblemList({ problems }: { problems: readonly NodeProblem[] }) {
  if (problems.length === 0) return null;
  return (
    <ul className="dp-problem-list" data-testid="inspector-problems">
      {problems.map((q, i) => (
        <li key={i} className={q.severity}>
          <Codicon name={q.severity} />
          <span>
            [{q.code}] {q.message}
          </span>
        </li>
      ))}
    </ul>
  );
}

interface FieldProps {
  spec: ParamSpec;
  /** Value written in the file; undefined means the default applies. */
  value: ParamValue | undefined;
  onSet: (v: ParamValue) => void;
  onPickFile: () => void;
}

function ParamField({ spec, value, onSet, onPickFile }: FieldProps) {
  const effective = value ?? spec.default;
  const text = formatParamText(spec, effective);
  const [error, setError] = useState<string | undefined>();
  useEffect(() => setError(undefined), [text]);
  const tid = `param-${spec.name}`;
  const commit = (t: string) => {
    const r = parseParamText(spec, t);
    if (!r.ok) {
      setError(r.error);
      return;
    }
    setError(undefined);
    if (JSON.stringify(r.value) !== JSON.stringify(effective)) onSet(r.value);
  };
  const validateLive = (t: string) => {
    const r = parseParamText(spec, t);
    setError(r.ok ? undefined : r.error);
  };
  let control;
  switch (spec.type) {
    case 'number':
    case 'integer':
      control = (
        <TextField
          type="number"
          value={text}
          min={spec.min}
          max={spec.max}
          step={spec.type === 'integer' ? 1 : spec.step ?? 'any'}
          invalid={!!error}
          onInput={validateLive}
          onChange={commit}
          testId={tid}
          ariaLabel={spec.label ?? spec.name}
        />
      );
      break;
    case 'seed':
      control = (
        <div className="dp-field-row">
          <TextField type="number" value={text} min={0} step={1} invalid={!!error} onInput={validateLive} onChange={commit} testId={tid} ariaLabel={spec.label ?? spec.name} />
          <Button icon="sync" secondary title="New random seed" testId={`${tid}-randomize`} onClick={() => onSet(randomSeed())}>
            Random
          </Button>
        </div>
      );
      break;
    case 'enum':
      control = <SingleSelect value={String(effective)} options={spec.options} optionDocs={spec.optionDocs} onChange={(v) => commit(v)} testId={tid} />;
      break;
    case 'boolean':
      control = <Checkbox checked={effective === true} label={spec.label ?? spec.name} onChange={(c) => onSet(c)} testId={tid} />;
      break;
    case 'file':
      control = (
        <div className="dp-field-row">
          <TextField value={text} placeholder={spec.directory ? 'folder' : spec.extensions.length ? `*${spec.extensions.join(', *')}` : 'path'} invalid={!!error} onInput={validateLive} onChange={commit} testId={tid} ariaLabel={spec.label ?? spec.name} />
          <Button icon="folder-opened" secondary title={spec.directory ? 'Choose a folder' : 'Choose a file'} testId={`${tid}-browse`} onClick={onPickFile}>
            Browse…
          </Button>
        </div>
      );
      break;
    case 'numberList':
      control = <TextField value={text} placeholder="e.g. 14.6, 7.0, 2.9, 0" invalid={!!error} onInput={validateLive} onChange={commit} testId={tid} ariaLabel={spec.label ?? spec.name} />;
      break;
    case 'string':
      control = spec.multiline
        ? <TextArea value={text} invalid={!!error} onChange={commit} testId={tid} ariaLabel={spec.label ?? spec.name} placeholder="Ctrl+Enter or leave the field to apply" />
        : <TextField value={text} invalid={!!error} onChange={commit} testId={tid} ariaLabel={spec.label ?? spec.name} />;
      break;
  }
  const optionDoc = spec.type === 'enum' ? spec.optionDocs?.[String(effective)] : undefined;
  return (
    <div className="dp-field" data-testid={`field-${spec.name}`}>
      {spec.type !== 'boolean' && (
        <div className="dp-field-label">
          {spec.label ?? spec.name}
          {spec.label && <span className="dp-field-name">{spec.name}</span>}
        </div>
      )}
      {control}
      {error && (
        <div className="dp-field-error" role="alert" data-testid={`${tid}-error`}>
          {error}
        </div>
      )}
      <div className="dp-field-doc">
        {spec.doc}
        {optionDoc && <div>{optionDoc}</div>}
        <div className="dp-field-default">
          {describeParam(spec)} · default {formatParamText(spec, spec.default) || '(none)'}
          {value === undefined ? ' (not set in the file)' : ''}
        </div>
      </div>
    </div>
  );
}
