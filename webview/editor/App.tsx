/**
 * The editor's root: talks to the host, keeps the latest document (text, loaded doc, problems), and draws the
 * toolbar, banners, and either the graph workspace or — when the text does not parse — a message with the
 * error's location and an "Open as text" button. Never a blank page.
 */
import { ReactFlowProvider, type Viewport } from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Problem } from '../../src/engine/core/errors';
import { asRegistry, type BlockRegistry } from '../../src/engine/format/registry';
import type { PipelineDoc } from '../../src/engine/format/types';
import type { NodeTypeInfo, ParamSpec } from '../../src/engine/registry/types';
import type { EditorCommand, EditorSettings, GraphOpWire, ToWebview } from '../../src/protocol/editor';
import { Button, Codicon } from '../shared/elements';
import type { HostClient } from '../shared/host';
import { RunStore } from '../shared/runStore';
import { EditorContext, type EditorServices } from './context';
import type { Op } from './ops';
import { Toolbar } from './Toolbar';
import { Workspace, type WorkspaceActions } from './Workspace';

interface DocState {
  readonly fileName: string;
  readonly text: string;
  readonly version: number;
  readonly doc: PipelineDoc | null;
  readonly problems: readonly Problem[];
  readonly registry: BlockRegistry;
  readonly trusted: boolean;
  readonly untrustedReason?: string;
  readonly settings: EditorSettings;
}

interface PersistedState {
  readonly viewport?: Viewport;
}

/** The host sends the loaded document as JSON; check the shape the editor relies on before using it. */
export function asDoc(v: unknown): PipelineDoc | null {
  if (typeof v !== 'object' || v === null) return null;
  const d = v as PipelineDoc;
  if (!Array.isArray(d.nodes) || !Array.isArray(d.edges)) return null;
  if (!d.nodes.every((n) => n && typeof n.id === 'string' && typeof n.type === 'string')) return null;
  if (!d.edges.every((e) => e && typeof e.from === 'string' && typeof e.to === 'string')) return null;
  return { ...d, nodes: d.nodes.map((n) => ({ ...n, params: n.params && typeof n.params === 'object' ? n.params : {} })) };
}

function reduce(s: DocState | null, m: ToWebview): DocState | null {
  switch (m.type) {
    case 'init':
      return {
        fileName: m.fileName,
        text: m.text,
        version: m.version,
        doc: asDoc(m.doc),
        problems: m.problems,
        registry: asRegistry(m.registry as NodeTypeInfo[]),
        trusted: m.trusted,
        untrustedReason: m.untrustedReason,
        settings: m.settings,
      };
    case 'documentChanged':
      if (!s || m.version < s.version) return s;
      return { ...s, text: m.text, version: m.version, doc: asDoc(m.doc), problems: m.problems };
    case 'problems':
      return s && m.version === s.version ? { ...s, problems: m.problems } : s;
    case 'trust':
      return s && { ...s, trusted: m.trusted, untrustedReason: m.untrustedReason };
    case 'settings':
      return s && { ...s, settings: m.settings };
    default:
      return s;
  }
}

interface Toast {
  readonly kind: 'info' | 'error';
  readonly text: string;
  readonly seq: number;
}

export function App({ client }: { client: HostClient }) {
  const run = useMemo(() => new RunStore((runId, seq) => client.post({ type: 'previewAck', runId, seq })), [client]);
  const [state, setState] = useState<DocState | null>(null);
  const [toast, setToast] = useState<Toast | undefined>();
  const actions = useRef<WorkspaceActions | null>(null);
  const persisted = useMemo(() => client.getState<PersistedState>() ?? {}, [client]);

  useEffect(() => {
    const off = client.subscribe((m) => {
      switch (m.type) {
        case 'runState':
          run.runState(m);
          if (m.phase === 'failed' && m.message) notifyRef.current('error', m.message);
          return;
        case 'preview':
          run.preview(m);
          return;
        case 'runFinished':
          run.finished(m);
          if (!m.ok && !m.stopped && m.error) notifyRef.current('error', `Run failed: [${m.error.code}] ${m.error.message}`);
          return;
        default:
          setState((s) => reduce(s, m));
      }
    });
    client.ready();
    return off;
  }, [client, run]);

  const notify = useCallback((kind: 'info' | 'error', text: string) => {
    setToast((t) => ({ kind, text, seq: (t?.seq ?? 0) + 1 }));
    if (kind === 'error') client.log('info', `editor: ${text}`);
  }, [client]);
  const notifyRef = useRef(notify);
  notifyRef.current = notify;
  useEffect(() => {
    if (!toast) return;
    const t = setTimeout(() => setToast((cur) => (cur?.seq === toast.seq ? undefined : cur)), 8000);
    return () => clearTimeout(t);
  }, [toast]);

  const send = useCallback(
    (ops: Op[], label: string) => {
      client.applyOps(ops as unknown as GraphOpWire[], label).catch((e: unknown) => notifyRef.current('error', `${label}: ${e instanceof Error ? e.message : String(e)}`));
    },
    [client],
  );
  const command = useCallback((c: EditorCommand) => client.post({ type: 'command', command: c }), [client]);
  const pickFile = useCallback(
    async (spec: ParamSpec & { type: 'file' }) =>
      (await client.request('pickFile', { extensions: [...spec.extensions], title: `Choose ${spec.label ?? spec.name}`, ...(spec.directory ? { folder: true } : {}) })).path,
    [client],
  );
  const saveViewport = useCallback((v: Viewport) => client.setState<PersistedState>({ ...persisted, viewport: v }), [client, persisted]);

  const services: EditorServices | null = useMemo(
    () => state && { registry: state.registry, run, openFile: (path: string) => client.post({ type: 'openFile', path }) },
    [state?.registry, run, client],
  );

  if (!state || !services) {
    return (
      <div className="dp-app" data-testid="loading">
        <div className="dp-fatal">
          <p>Loading the pipeline…</p>
        </div>
      </div>
    );
  }

  const errors = state.problems.filter((p) => p.severity === 'error');
  const runBlocked = !state.trusted
    ? 'Runs are disabled in an untrusted workspace'
    : !state.doc
      ? 'The file does not parse'
      : errors.length
        ? `Fix ${errors.length} error${errors.length === 1 ? '' : 's'} first`
        : undefined;

  return (
    <EditorContext.Provider value={services}>
      <ReactFlowProvider>
        <div className="dp-app" data-testid="editor" data-version={state.version}>
          <Toolbar
            fileName={state.fileName}
            run={run}
            runBlocked={runBlocked}
            onCommand={command}
            onLayout={state.doc ? () => actions.current?.layout() : undefined}
            onFit={state.doc ? () => actions.current?.fit() : undefined}
          />
          <div className="dp-banners">
            {!state.trusted && (
              <div className="dp-banner dp-banner-warning" data-testid="trust-banner" role="status">
                <Codicon name="shield" />
                <div className="dp-banner-body">
                  <strong>Restricted mode: runs are disabled.</strong> {state.untrustedReason ?? 'Running a pipeline loads and executes the model files it names, so dpipe runs pipelines only in a trusted workspace.'} You can still view and edit this pipeline.
                </div>
              </div>
            )}
            {state.doc && errors.length > 0 && <ProblemsBanner problems={state.problems} />}
          </div>
          {state.doc ? (
            <Workspace
              doc={state.doc}
              problems={state.problems}
              registry={state.registry}
              send={send}
              pickFile={pickFile}
              notify={notify}
              initialViewport={persisted.viewport}
              saveViewport={saveViewport}
              actionsRef={actions}
            />
          ) : (
            <ParseError fileName={state.fileName} problems={state.problems} onOpenAsText={() => command('openAsText')} />
          )}
          <footer className="dp-status" data-testid="status-line">
            {toast ? (
              <span className={`dp-status-msg ${toast.kind}`} data-testid="status-message">
                <Codicon name={toast.kind === 'error' ? 'error' : 'info'} /> {toast.text}
              </span>
            ) : (
              <span className="dp-status-msg">{statusSummary(state.doc, state.problems)}</span>
            )}
          </footer>
          {toast && (
            <div className={`dp-toast ${toast.kind}`} data-testid="toast" role="alert">
              <Codicon name={toast.kind === 'error' ? 'error' : 'info'} />
              <span>{toast.text}</span>
              <button className="dp-icon-button" aria-label="Dismiss" onClick={() => setToast(undefined)}>
                <Codicon name="close" />
              </button>
            </div>
          )}
        </div>
      </ReactFlowProvider>
    </EditorContext.Provider>
  );
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function statusSummary(doc: PipelineDoc | null, problems: readonly Problem[]): string {
  const errors = problems.filter((p) => p.severity === 'error').length;
  const parts = doc ? [plural(doc.nodes.length, 'block'), plural(doc.edges.length, 'edge')] : [];
  if (problems.length) parts.push(`${plural(errors, 'error')}, ${plural(problems.length - errors, 'warning')}`);
  return parts.join(' · ');
}

function where(p: Problem): string {
  return p.line ? `line ${p.line}, column ${p.column ?? 1}` : p.pointer !== undefined ? `at ${p.pointer || '/'}` : '';
}

function ProblemsBanner({ problems }: { problems: readonly Problem[] }) {
  const errors = problems.filter((p) => p.severity === 'error');
  const shown = errors.slice(0, 3);
  return (
    <div className="dp-banner dp-banner-error" data-testid="problems-banner" role="status">
      <Codicon name="error" />
      <div className="dp-banner-body">
        <strong>
          {errors.length} problem{errors.length === 1 ? '' : 's'} must be fixed before this pipeline can run.
        </strong>
        <ul>
          {shown.map((p, i) => (
            <li key={i}>
              [{p.code}] {p.message}
              {where(p) && <span className="dp-node-id"> ({where(p)})</span>}
            </li>
          ))}
          {errors.length > shown.length && <li>… and {errors.length - shown.length} more (see the Problems panel)</li>}
        </ul>
      </div>
    </div>
  );
}

/** Shown instead of the graph when the text is not a pipeline the editor can draw. */
function ParseError({ fileName, problems, onOpenAsText }: { fileName: string; problems: readonly Problem[]; onOpenAsText: () => void }) {
  const errors = problems.filter((p) => p.severity === 'error');
  return (
    <div className="dp-fatal" data-testid="error-banner" role="alert">
      <h2>
        <Codicon name="error" /> {fileName} cannot be shown as a graph
      </h2>
      <p>The text is not a .dpipe pipeline the editor can read. Fix it in the text editor; the graph appears as soon as the text parses. Your text is left exactly as it is.</p>
      {errors.length > 0 ? (
        <pre data-testid="error-details">
          {errors
            .slice(0, 10)
            .map((p) => `${fileName}${p.line ? `:${p.line}:${p.column ?? 1}` : ''}: [${p.code}] ${p.message}${p.pointer ? ` (at ${p.pointer})` : ''}`)
            .join('\n')}
        </pre>
      ) : (
        <pre data-testid="error-details">No details were reported.</pre>
      )}
      <div className="dp-actions">
        <Button icon="go-to-file" onClick={onOpenAsText} testId="open-as-text">
          Open as text
        </Button>
      </div>
    </div>
  );
}
