/**
 * The editor's toolbar: run / stop (the same commands as the command palette), the run's progress, and view
 * actions. Run is disabled, with the reason as its tooltip, in an untrusted workspace or while the document has
 * errors.
 */
import { memo } from 'react';
import type { EditorCommand } from '../../src/protocol/editor';
import { Button, Codicon, ProgressBar } from '../shared/elements';
import { isActive, useRun, type RunStore } from '../shared/runStore';
import { formatMs, formatSigma } from './nodes';

export interface ToolbarProps {
  fileName: string;
  run: RunStore;
  /** Why a run cannot start now, or undefined when it can. */
  runBlocked?: string;
  onCommand: (c: EditorCommand) => void;
  onLayout?: () => void;
  onFit?: () => void;
}

export const Toolbar = memo(function Toolbar(p: ToolbarProps) {
  const phase = useRun(p.run, (v) => v.phase);
  const done = useRun(p.run, (v) => v.nfeDone);
  const total = useRun(p.run, (v) => v.nfeTotal);
  const step = useRun(p.run, (v) => v.step);
  const sigma = useRun(p.run, (v) => v.sigma);
  const message = useRun(p.run, (v) => v.message);
  const result = useRun(p.run, (v) => v.lastResult);
  const active = isActive(phase);
  return (
    <header className="dp-toolbar" data-testid="toolbar">
      <span className="dp-title" title={p.fileName}>
        <Codicon name="type-hierarchy-sub" /> {p.fileName}
      </span>
      {active ? (
        <Button icon="debug-stop" onClick={() => p.onCommand('stop')} testId="stop-button" title="Stop the run (at the next model evaluation)" disabled={phase === 'stopping'}>
          Stop
        </Button>
      ) : (
        <Button icon="play" onClick={() => p.onCommand('run')} testId="run-button" title={p.runBlocked ?? 'Run the pipeline'} disabled={!!p.runBlocked}>
          Run
        </Button>
      )}
      <button className="dp-icon-button" title="Run with seed…" aria-label="Run with seed" data-testid="run-seed-button" disabled={active || !!p.runBlocked} onClick={() => p.onCommand('runWithSeed')}>
        <Codicon name="symbol-numeric" />
      </button>
      <button
        className="dp-icon-button"
        title="Run and compare with… (another pipeline, or this one with a parameter changed; same seed; opens the inspector's compare view)"
        aria-label="Run and compare with"
        data-testid="run-compare-button"
        disabled={active || !!p.runBlocked}
        onClick={() => p.onCommand('runAndCompare')}
      >
        <Codicon name="diff" />
      </button>
      <div className="dp-run-progress" data-testid="run-progress" data-phase={phase}>
        {active && <ProgressBar value={total ? done ?? 0 : undefined} max={total || 1} label="Run progress" />}
        <span className="dp-run-text" data-testid="run-status">
          {active
            ? `${phase === 'starting' ? 'Starting…' : phase === 'stopping' ? 'Stopping…' : ''}${total ? ` ${done ?? 0}/${total} NFE` : ''}${step !== undefined ? ` · step ${step + 1}` : ''}${sigma !== undefined ? ` · σ ${formatSigma(sigma)}` : ''}`
            : result
              ? result.ok
                ? `Done · ${result.nfe} NFE · ${formatMs(result.ms)}`
                : result.stopped
                  ? 'Stopped'
                  : `Failed: ${result.error ?? message ?? ''}`
              : phase === 'failed'
                ? `Failed: ${message ?? ''}`
                : ''}
        </span>
      </div>
      <span className="dp-spacer" />
      <button className="dp-icon-button" title="Validate (checks referenced files again)" aria-label="Validate" data-testid="validate-button" onClick={() => p.onCommand('validate')}>
        <Codicon name="check-all" />
      </button>
      {p.onLayout && (
        <button className="dp-icon-button" title="Auto-layout (Shift+L)" aria-label="Auto-layout" data-testid="layout-button" onClick={p.onLayout}>
          <Codicon name="type-hierarchy" />
        </button>
      )}
      {p.onFit && (
        <button className="dp-icon-button" title="Fit view (F)" aria-label="Fit view" data-testid="fit-button" onClick={p.onFit}>
          <Codicon name="screen-full" />
        </button>
      )}
      <button className="dp-icon-button" title="Reveal outputs" aria-label="Reveal outputs" data-testid="reveal-button" onClick={() => p.onCommand('revealOutputs')}>
        <Codicon name="folder-opened" />
      </button>
      <button className="dp-icon-button" title="Open Latent Inspector" aria-label="Open Latent Inspector" data-testid="inspector-button" onClick={() => p.onCommand('openInspector')}>
        <Codicon name="telescope" />
      </button>
      <button className="dp-icon-button" title="Open as text" aria-label="Open as text" data-testid="open-text-button" onClick={() => p.onCommand('openAsText')}>
        <Codicon name="go-to-file" />
      </button>
    </header>
  );
});
