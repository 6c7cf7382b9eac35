/**
 * The Latent Inspector: a timeline of every model evaluation of a run (or of two runs aligned by σ), the latents
 * at the chosen evaluation (x_t, x̂0, ε̂, guidance branches), per-step plots, exports, errors against a reference
 * and the convergence sweep; and a grid's image and metrics (`GridView.tsx`). Frames come from the host on demand (`frames.ts`); everything else arrives once.
 */
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import type { AlignMode } from '../../src/engine/inspect/align';
import type { RunError } from '../../src/engine/inspect/error';
import type { ChannelMode, ViewOptions } from '../../src/engine/inspect/render';
import type { EvalStats } from '../../src/engine/inspect/stats';
import type { SweepResult } from '../../src/engine/inspect/sweep';
import type { CompareMessage, ExportKind, GridView, RunInfo, ToInspector } from '../../src/protocol/inspector';
import { errorPlotBySigma } from '../../src/engine/inspect/errorseries';
import { Button, Checkbox, SingleSelect } from '../shared/elements';
import { Chart, type ChartSeries } from './Chart';
import type { InspectorClient } from './client';
import { FrameStore } from './frames';
import { GridPanel } from './GridView';
import { ImageView, fmt } from './ImageView';

interface State {
  runs: RunInfo[];
  align: AlignMode;
  stats: (EvalStats | undefined)[];
  compare?: CompareMessage;
  reference: (RunError[] | undefined)[];
  sweep?: SweepResult;
  grid?: GridView;
  notice?: { level: 'info' | 'error'; text: string; seq: number };
}

const INITIAL: State = { runs: [], align: 'nearest', stats: [], reference: [] };

function reduce(s: State, m: Exclude<ToInspector, { type: 'response' }>): State {
  switch (m.type) {
    case 'init':
      return { ...INITIAL, runs: [...m.runs], align: m.align, sweep: s.sweep, grid: s.grid };
    case 'stats': {
      const stats = [...s.stats];
      stats[m.run] = m.stats;
      return { ...s, stats };
    }
    case 'compare':
      return { ...s, compare: m, align: m.mode };
    case 'reference': {
      const reference = [...s.reference];
      reference[m.run] = [...m.errors];
      return { ...s, reference };
    }
    case 'sweep':
      return { ...s, sweep: m.result };
    case 'grid':
      return { ...s, grid: m.grid };
    case 'notice':
      return { ...s, notice: { level: m.level, text: m.text, seq: (s.notice?.seq ?? 0) + 1 } };
  }
}

const PLANE_LABELS: Record<string, string> = { x: 'x_t', denoised: 'x̂0', eps: 'ε̂', cond: 'cond', uncond: 'uncond', diff: 'cond − uncond' };
const ROLE_COLORS: Record<string, string> = { predictor: 'blue', corrector: 'orange', stage: 'purple', final: 'green' };

/** A model time input: integers as they are (discrete timesteps), fractions with 4 decimals; — when none. */
export function fmtTimestep(t: number | null | undefined): string {
  return typeof t === 'number' && Number.isInteger(t) ? String(t) : fmt(t);
}
const ZOOMS = ['1', '2', '3', '4', '6', '8', '12', '16'];

interface Persisted {
  cur?: number;
  plane?: string;
}

export function App({ client }: { client: InspectorClient }) {
  const [st, dispatch] = useReducer(reduce, INITIAL);
  const persisted = client.getState<Persisted>() ?? {};
  const [cur, setCur] = useState(persisted.cur ?? 0);
  const [plane, setPlane] = useState(persisted.plane ?? 'denoised');
  const [item, setItem] = useState<number | 'grid'>('grid');
  const [channels, setChannels] = useState<ChannelMode>('auto');
  const [projText, setProjText] = useState('');
  const [rangeMode, setRangeMode] = useState<'fixed' | 'channel'>('fixed');
  const [lohi, setLohi] = useState<[number, number] | undefined>();
  const [zoom, setZoom] = useState<number | undefined>();
  const [playing, setPlaying] = useState(false);
  const [logSigma, setLogSigma] = useState(true);
  const [, force] = useReducer((n: number) => n + 1, 0);
  const [toast, setToast] = useState<{ text: string; path?: string; error?: boolean } | undefined>();

  const store = useMemo(() => new FrameStore((run, i, planes) => client.request('frame', { run, i, planes })), [client]);
  useEffect(() => store.subscribe(force), [store]);
  useEffect(() => {
    const off = client.subscribe(dispatch);
    client.ready();
    return off;
  }, [client]);

  const A = st.runs[0];
  const B = st.runs[1];
  const n = A?.evals.length ?? 0;
  const i = Math.min(cur, Math.max(0, n - 1));
  const ev = A?.evals[i];
  const shape = A?.samples.find((s) => s.node === ev?.node)?.shape;
  const C = shape?.[1] ?? 0;
  const batch = shape?.[0] ?? 0;
  useEffect(() => client.setState<Persisted>({ cur: i, plane }), [client, i, plane]);
  useEffect(() => {
    if (st.notice) setToast({ text: st.notice.text, error: st.notice.level === 'error' });
  }, [st.notice]);

  const planeOk = ev?.planes.includes(plane) ? plane : 'denoised';
  const range = lohi ?? ((planeOk === 'x' ? [-(ev?.sigma ?? 1) - 1, (ev?.sigma ?? 1) + 1] : planeOk === 'eps' ? [-3, 3] : A?.valueRange ?? [-1, 1]) as [number, number]);
  const typed = useMemo(() => {
    const nums = projText.split(/[\s,;]+/).filter(Boolean).map(Number);
    return nums.length === 3 * C && nums.every(Number.isFinite) ? nums : undefined;
  }, [projText, C]);
  // A typed projection wins; else the run's model view (a model folder's fitted latent → RGB), as the live preview.
  const modelView = A?.preview && A.preview.projection.length === 3 * C ? A.preview : undefined;
  const projection = typed ?? modelView?.projection;
  const bias = typed ? undefined : modelView?.bias;
  const view: ViewOptions = useMemo(
    () => ({ channels, projection, bias, range: rangeMode === 'channel' ? { mode: 'channel' } : { mode: 'fixed', lo: range[0], hi: range[1] } }),
    [channels, projection, bias, rangeMode, range[0], range[1]],
  );
  const autoZoom = shape ? Math.max(1, Math.min(16, Math.floor(256 / Math.max(shape[2], shape[3] * (channels === 'tile' ? C : 1) * (item === 'grid' ? Math.ceil(Math.sqrt(batch)) : 1))))) : 1;
  const z = zoom ?? autoZoom;

  // Frames: A at i; B at the σ-aligned evaluation (nearest).
  const bIndex = useMemo(() => {
    const p = st.compare?.pairs[i];
    if (!p) return undefined;
    return p.w <= 0.5 ? p.b0 : p.b1;
  }, [st.compare, i]);
  const bEval = B && bIndex !== undefined ? B.evals[bIndex] : undefined;
  const bPlane = bEval?.planes.includes(planeOk) ? planeOk : 'denoised';
  const frameA = A ? store.want(0, i, [planeOk]) : undefined;
  const frameB = B && bIndex !== undefined ? store.want(1, bIndex, [bPlane]) : undefined;
  const dataA = frameA?.planes[planeOk];
  const dataB = frameB?.planes[bPlane];
  const diff = useMemo(() => {
    if (!dataA || !dataB || dataA.length !== dataB.length) return undefined;
    return Float32Array.from(dataA, (v, k) => v - dataB[k]);
  }, [dataA, dataB]);
  const diffView: ViewOptions = useMemo(() => {
    let m = 0;
    if (diff) for (let k = 0; k < diff.length; k++) m = Math.max(m, Math.abs(diff[k]));
    return { channels, projection, range: { mode: 'fixed', lo: -(m || 1), hi: m || 1 } };
  }, [diff, channels, projection]);

  // Play: advance when the shown frame has arrived.
  const shown = useRef(false);
  shown.current = !!dataA;
  useEffect(() => {
    if (!playing) return;
    const t = setInterval(() => {
      if (!shown.current) return;
      setCur((c) => {
        if (c + 1 >= n) {
          setPlaying(false);
          return c;
        }
        return c + 1;
      });
    }, 100);
    return () => clearInterval(t);
  }, [playing, n]);

  const go = useCallback((k: number) => setCur(Math.max(0, Math.min(n - 1, Math.round(k)))), [n]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName.startsWith('VSCODE-TEXT'))) return;
      const step = e.shiftKey ? 10 : 1;
      if (e.key === 'ArrowRight') setCur((c) => Math.min(n - 1, c + step));
      else if (e.key === 'ArrowLeft') setCur((c) => Math.max(0, c - step));
      else if (e.key === 'Home') setCur(0);
      else if (e.key === 'End') setCur(n - 1);
      else if (e.key === ' ') setPlaying((p) => !p);
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [n]);

  const doExport = async (kind: ExportKind) => {
    try {
      const r = await client.request('export', { run: 0, kind, i, plane: planeOk, item, view, zoom: kind === 'npy' ? undefined : z });
      setToast(r.path ? { text: `Saved ${r.path}`, path: r.path } : { text: 'Export cancelled.' });
    } catch (e) {
      setToast({ text: `Export failed: ${(e as Error).message}`, error: true });
    }
  };

  // Plot data (memoized: charts are rebuilt only when their data changes).
  const xs = useMemo(() => (A ? A.evals.map((e) => e.i) : []), [A]);
  const sA = st.stats[0];
  const sigmaSeries = useMemo<ChartSeries[]>(() => {
    if (!A) return [];
    const out: ChartSeries[] = [];
    for (const role of [...new Set(A.evals.map((e) => e.role))]) {
      out.push({ label: `σ (${role})`, color: ROLE_COLORS[role] ?? 'yellow', points: true, values: A.evals.map((e) => (e.role === role ? e.sigma : null)) });
    }
    return out;
  }, [A]);
  const normSeries = useMemo<ChartSeries[]>(() => (sA ? [{ label: '‖x_t‖', color: 'blue', values: sA.xNorm }, { label: '‖x̂0‖', color: 'green', values: sA.denoisedNorm }] : []), [sA]);
  const dSeries = useMemo<ChartSeries[]>(() => (sA ? [{ label: '‖x̂0 − previous x̂0‖', color: 'orange', values: sA.dDenoised }] : []), [sA]);
  const hSeries = useMemo<ChartSeries[]>(() => (sA ? [{ label: 'Δ log σ', color: 'purple', values: sA.dLogSigma, points: true }] : []), [sA]);
  const distSeries = useMemo<ChartSeries[]>(() => (st.compare ? [{ label: `‖x̂0(A) − x̂0(B)‖ (${st.compare.mode})`, color: 'red', values: st.compare.distance }] : []), [st.compare]);
  // Error against the reference: every open run against its own reference, on one σ axis (errorseries.ts).
  const errPlot = useMemo(() => {
    const runs = st.runs.flatMap((r, run) => (st.reference[run] ? [{ name: `${st.runs.length > 1 ? (run === 0 ? 'A: ' : 'B: ') : ''}${r.name}`, sigmas: r.evals.map((e) => e.sigma), errors: st.reference[run]! }] : []));
    if (!runs.length) return undefined;
    const plot = errorPlotBySigma(runs);
    const colors = ['red', 'blue', 'orange', 'purple', 'green', 'yellow'];
    const series: ChartSeries[] = plot.series.map((e, k) => ({
      label: `${e.name}${plot.series.filter((o) => o.run === e.run).length > 1 ? ` (${e.node})` : ''} · final ${fmt(e.final)}`,
      color: colors[k % colors.length],
      spanGaps: true,
      values: e.values,
    }));
    return { plot, series };
  }, [st.reference, st.runs]);
  const errFinal = errPlot?.plot.series.map((e) => `${e.name} ${e.node}: final error ${fmt(e.final)} (reference ${e.method}, ${e.referenceNfe} NFE)`).join(' · ');
  /** Click on the error plot (a σ) → A's evaluation nearest in log σ. */
  const pickSigma = useCallback(
    (s: number) => {
      if (!A || !(s > 0)) return;
      let best = 0;
      let bestD = Infinity;
      A.evals.forEach((e, k) => {
        const d = e.sigma > 0 ? Math.abs(Math.log(e.sigma) - Math.log(s)) : Infinity;
        if (d < bestD) [best, bestD] = [k, d];
      });
      go(best);
    },
    [A, go],
  );
  const sweepCharts = useMemo(() => {
    if (!st.sweep) return undefined;
    const nfes = [...new Set(st.sweep.series.flatMap((s) => s.points.map((p) => p.nfe)))].sort((a, b) => a - b);
    const colors = ['blue', 'red', 'green', 'orange', 'purple', 'yellow'];
    const series = st.sweep.series.map((s, k) => ({
      label: `${s.label}${s.slope !== null ? ` (slope ${s.slope.toFixed(2)})` : ''}`,
      color: colors[k % colors.length],
      spanGaps: true,
      values: nfes.map((nf) => s.points.find((p) => p.nfe === nf)?.error ?? null),
    }));
    return { nfes, series };
  }, [st.sweep]);

  const sample = A?.samples.find((s) => s.node === ev?.node);
  const solverOf = (r: RunInfo) => r.samples.map((s) => (s.sampler ?? s.node).replace(/^solver\./, '')).join(', ');
  const title = A ? (B ? `Compare ${A.name} (${solverOf(A)}) with ${B.name} (${solverOf(B)}), aligned by σ` : (A.title ?? A.name)) : st.sweep ? 'Sweep: final error vs NFE' : st.grid ? st.grid.title : 'Latent Inspector';
  const roleStrip = useRoleStrip(A, i, go);

  if (!A && !st.sweep && !st.grid) return <div className="loading" data-testid="inspector-loading">Loading the run…</div>;

  return (
    <div className="inspector" data-testid="inspector">
      <header>
        <h1 data-testid="inspector-title">{title}</h1>
        {A && (
          <span className="sub">
            {A.name} · {A.samples.map((s) => s.sampler ?? s.node).join(', ')} · {n} evaluations · latent [{shape?.join('×')}]
            {B && ` — B: ${B.name} · ${B.samples.map((s) => s.sampler ?? s.node).join(', ')} · ${B.evals.length} evaluations`}
            {B && A.title && ` — ${A.title}`}
          </span>
        )}
        <span className="spacer" />
        {A && (
          <>
            <Button secondary icon="target" onClick={() => client.post({ type: 'command', command: 'computeReference' })} testId="cmd-reference" title="Compute a reference trajectory (adaptive ODE solver) for this run's initial noise">
              Reference…
            </Button>
            {!B && (
              <Button secondary icon="split-horizontal" onClick={() => client.post({ type: 'command', command: 'compareWith' })} testId="cmd-compare" title="Open this run side by side with another run, aligned by σ">
                Compare with…
              </Button>
            )}
          </>
        )}
      </header>

      {A && (
        <>
          <section className="toolbar" aria-label="View options">
            <div className="seg" role="group" aria-label="Plane" data-testid="planes">
              {['x', 'denoised', 'eps', 'cond', 'uncond', 'diff'].map((pl) => (
                <button
                  key={pl}
                  className={pl === planeOk ? 'on' : ''}
                  disabled={!ev?.planes.includes(pl)}
                  onClick={() => setPlane(pl)}
                  data-testid={`plane-${pl}`}
                  title={pl === 'eps' ? 'ε̂ = (x_t − x̂0)/σ' : pl === 'diff' ? 'cond − uncond' : undefined}
                >
                  {PLANE_LABELS[pl]}
                </button>
              ))}
            </div>
            <label>
              item
              <SingleSelect value={String(item)} options={['grid', ...Array.from({ length: batch }, (_, b) => String(b))]} onChange={(v) => setItem(v === 'grid' ? 'grid' : Number(v))} testId="item" />
            </label>
            <label>
              channels
              <SingleSelect
                value={String(channels)}
                options={['auto', 'project', 'tile', ...Array.from({ length: C }, (_, c) => String(c))]}
                onChange={(v) => setChannels(v === 'auto' || v === 'project' || v === 'tile' ? v : Number(v))}
                testId="channels"
              />
            </label>
            {(channels === 'project' || (channels === 'auto' && C !== 1 && C !== 3)) && (
              <label title={`3×${C} matrix, row-major (rows R, G, B); empty: the first three channels`}>
                projection
                <input className="text" value={projText} placeholder={`3×${C} numbers`} onChange={(e) => setProjText(e.target.value)} data-testid="projection" />
              </label>
            )}
            <label>
              range
              <SingleSelect value={rangeMode} options={['fixed', 'channel']} optionDocs={{ fixed: 'A fixed value range for every channel', channel: 'Each channel normalized to its own min–max' }} onChange={(v) => setRangeMode(v as 'fixed' | 'channel')} testId="range" />
            </label>
            {rangeMode === 'fixed' && (
              <>
                <input className="num" type="number" step="any" value={range[0]} onChange={(e) => setLohi([Number(e.target.value), range[1]])} aria-label="low" data-testid="lo" />
                <input className="num" type="number" step="any" value={range[1]} onChange={(e) => setLohi([range[0], Number(e.target.value)])} aria-label="high" data-testid="hi" />
                {lohi && (
                  <button className="link" onClick={() => setLohi(undefined)}>
                    auto
                  </button>
                )}
              </>
            )}
            <label>
              zoom
              <SingleSelect value={String(z)} options={[...new Set([...ZOOMS, String(z)])].sort((a, b) => +a - +b)} onChange={(v) => setZoom(Number(v))} testId="zoom" />
            </label>
            <span className="spacer" />
            <div className="exports" data-testid="exports">
              <Button secondary icon="file-media" onClick={() => void doExport('png')} testId="export-png" title="This evaluation as PNG, as shown">
                PNG
              </Button>
              <Button secondary icon="file-binary" onClick={() => void doExport('npy')} testId="export-npy" title="This evaluation's raw values (float32 .npy)">
                .npy
              </Button>
              <Button secondary icon="play-circle" onClick={() => void doExport('gif')} testId="export-gif" title="The whole run as an animated GIF">
                GIF
              </Button>
              <Button secondary icon="layout" onClick={() => void doExport('contact')} testId="export-contact" title="The whole run as a contact sheet">
                Sheet
              </Button>
            </div>
          </section>

          <section className="images">
            <ImageView label={`${B ? 'A: ' : ''}${PLANE_LABELS[planeOk]} · eval ${i}`} data={dataA} shape={frameA?.shape} item={item} view={view} zoom={z} testId="image-a" />
            {B && (
              <>
                <ImageView
                  label={`B: ${PLANE_LABELS[bPlane]} · eval ${bIndex ?? '—'}${bEval ? ` · σ ${fmt(bEval.sigma)}` : ''}`}
                  caption={bEval && ev ? `nearest evaluation to σ=${fmt(ev.sigma)}${st.compare?.mode === 'interpolate' ? ' (not interpolated; the distance plot interpolates)' : ''}` : undefined}
                  data={dataB}
                  shape={frameB?.shape}
                  item={item}
                  view={view}
                  zoom={z}
                  testId="image-b"
                  placeholder={st.compare ? 'Loading…' : 'Aligning by σ…'}
                />
                <ImageView label="A − B (symmetric range)" data={diff} shape={frameA?.shape} item={item} view={diffView} zoom={z} testId="image-diff" placeholder="—" />
              </>
            )}
            <dl className="details" data-testid="details">
              <dt>evaluation</dt>
              <dd data-testid="detail-eval">
                {i} / {n - 1}
              </dd>
              <dt>step</dt>
              <dd>{ev?.step}</dd>
              <dt>σ</dt>
              <dd data-testid="detail-sigma">{fmt(ev?.sigma)}</dd>
              <dt>log σ</dt>
              <dd>{ev && ev.sigma > 0 ? Math.log(ev.sigma).toFixed(4) : '—'}</dd>
              <dt title="What the model's time input received: the discrete timestep or flow t; — for models that take σ itself">timestep</dt>
              <dd data-testid="detail-timestep" title={ev?.timestep === null ? 'this model takes σ itself (no separate time input)' : ev?.timestep === undefined ? 'not recorded for this run' : undefined}>
                {fmtTimestep(ev?.timestep)}
              </dd>
              <dt>role</dt>
              <dd data-testid="detail-role">{ev?.role}</dd>
              <dt>node</dt>
              <dd>{ev?.node}</dd>
              <dt>branches</dt>
              <dd>{ev?.planes.filter((p) => p !== 'x' && p !== 'denoised' && p !== 'eps' && p !== 'diff').join(', ') || 'none'}</dd>
              <dt>schedule</dt>
              <dd>{sample ? `${sample.sigmas.length - 1} steps, σ ${fmt(sample.sigmas[0])} → ${fmt(sample.sigmas[sample.sigmas.length - 1])}` : '—'}</dd>
              {sA && (
                <>
                  <dt>‖x_t‖</dt>
                  <dd>{fmt(sA.xNorm[i])}</dd>
                  <dt>‖Δx̂0‖</dt>
                  <dd>{fmt(sA.dDenoised[i])}</dd>
                </>
              )}
              {st.compare && (
                <>
                  <dt>distance A–B</dt>
                  <dd data-testid="detail-distance">{fmt(st.compare.distance[i])}</dd>
                </>
              )}
              {st.reference[0] && (
                <>
                  <dt>error{B ? ' A' : ''}</dt>
                  <dd data-testid="detail-error">{fmt(st.reference[0].find((e) => e.node === ev?.node)?.perEval[i])}</dd>
                </>
              )}
              {B && st.reference[1] && bIndex !== undefined && (
                <>
                  <dt>error B</dt>
                  <dd data-testid="detail-error-b">{fmt(st.reference[1].find((e) => e.node === bEval?.node)?.perEval[bIndex])}</dd>
                </>
              )}
            </dl>
          </section>

          <section className="timeline" aria-label="Timeline">
            <Button secondary icon="debug-step-back" onClick={() => go(i - 1)} testId="prev" title="Previous evaluation (←)" />
            <Button icon={playing ? 'debug-pause' : 'play'} onClick={() => setPlaying(!playing)} testId="play" title="Play / pause (space)" />
            <Button secondary icon="debug-step-over" onClick={() => go(i + 1)} testId="next" title="Next evaluation (→)" />
            <input type="range" min={0} max={Math.max(0, n - 1)} value={i} onChange={(e) => go(Number(e.target.value))} aria-label="Evaluation" data-testid="slider" />
            <span className="pos" data-testid="position">
              eval {i} · step {ev?.step} · σ {fmt(ev?.sigma)}
              {typeof ev?.timestep === 'number' ? ` · t ${fmtTimestep(ev.timestep)}` : ''} · {ev?.role}
            </span>
          </section>
          {roleStrip}

          <section className="plots">
            <div className="plot-head">
              <Checkbox checked={logSigma} label="log σ" onChange={setLogSigma} testId="log-sigma" />
              <span className="muted">Click a plot to jump to that evaluation. ←/→ step, Shift ×10, space plays.</span>
            </div>
            <div className="grid">
              <Chart title="Schedule: σ per evaluation" x={xs} series={sigmaSeries} logY={logSigma} marker={i} onPick={go} xLabel="evaluation" testId="chart-sigma" />
              <Chart title="‖x_t‖ and ‖x̂0‖ (RMS)" x={xs} series={normSeries} marker={i} onPick={go} xLabel="evaluation" testId="chart-norm" />
              <Chart title="‖x̂0 − previous x̂0‖" x={xs} series={dSeries} logY marker={i} onPick={go} xLabel="evaluation" testId="chart-ddenoised" />
              <Chart title="Step size in log σ" x={xs} series={hSeries} marker={i} onPick={go} xLabel="evaluation" testId="chart-h" />
              {st.compare && (
                <Chart title="Distance between the runs' x̂0, aligned by σ" x={xs} series={distSeries} logY marker={i} onPick={go} xLabel="evaluation of A" testId="chart-distance" />
              )}
              {errPlot && (
                <Chart
                  title={`Error against ${errPlot.plot.series.length > 1 ? 'each run’s own reference' : 'the reference'} ‖x_t − x_ref(σ)‖`}
                  x={errPlot.plot.sigmas}
                  series={errPlot.series}
                  logX={logSigma}
                  reverseX
                  logY
                  marker={ev && ev.sigma > 0 ? ev.sigma : undefined}
                  onPick={pickSigma}
                  xLabel="σ"
                  testId="chart-error"
                />
              )}
            </div>
            {B && (
              <div className="align-mode">
                alignment by σ:
                <SingleSelect value={st.align} options={['nearest', 'interpolate']} optionDocs={{ nearest: 'B evaluation nearest in log σ', interpolate: 'B interpolated linearly in log σ (distance plot)' }} onChange={(v) => client.post({ type: 'setAlign', mode: v as AlignMode })} testId="align" />
              </div>
            )}
            {errFinal && <p className="muted" data-testid="error-final">{errFinal}</p>}
          </section>
        </>
      )}

      {sweepCharts && (
        <section className="sweep" data-testid="sweep">
          <Chart title="Final error vs NFE (log–log)" x={sweepCharts.nfes} series={sweepCharts.series} logX logY xLabel="NFE" height={320} testId="chart-sweep" />
          <table data-testid="sweep-table">
            <thead>
              <tr>
                <th>pipeline</th>
                <th>steps</th>
                <th>NFE</th>
                <th>final error</th>
              </tr>
            </thead>
            <tbody>
              {st.sweep!.series.flatMap((s) =>
                s.points.map((p) => (
                  <tr key={`${s.label}-${p.steps}`}>
                    <td>{s.label}</td>
                    <td>{p.steps}</td>
                    <td>{p.nfe}</td>
                    <td>{fmt(p.error)}</td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
        </section>
      )}

      {st.grid && <GridPanel grid={st.grid} client={client} />}

      {toast && (
        <div className={`toast${toast.error ? ' error' : ''}`} role="status" data-testid="toast">
          {toast.path ? (
            <a href="#" onClick={(e) => (e.preventDefault(), client.post({ type: 'command', command: 'openFile', path: toast.path }))}>
              {toast.text}
            </a>
          ) : (
            toast.text
          )}
          <button className="link" onClick={() => setToast(undefined)} aria-label="Dismiss">
            ×
          </button>
        </div>
      )}
      {A && <footer className="muted" data-testid="status">
        frames cached {store.size} · requests {store.requests}
        {store.errors ? ` · errors ${store.errors} (${store.lastError})` : ''}
      </footer>}
    </div>
  );
}

/** A strip with one tick per evaluation, coloured by role; click to jump. */
function useRoleStrip(run: RunInfo | undefined, cur: number, go: (i: number) => void) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    if (!c || !run) return;
    const n = run.evals.length;
    const w = c.clientWidth || 800;
    c.width = w;
    c.height = 12;
    const ctx = c.getContext('2d');
    if (!ctx) return;
    ctx.clearRect(0, 0, w, 12);
    const css = getComputedStyle(document.body);
    for (let k = 0; k < n; k++) {
      const role = run.evals[k].role;
      ctx.fillStyle = css.getPropertyValue(`--vscode-charts-${ROLE_COLORS[role] ?? 'yellow'}`).trim() || '#888';
      const x0 = Math.floor((k / n) * w);
      const x1 = Math.max(x0 + 1, Math.floor(((k + 1) / n) * w) - (n < w / 3 ? 1 : 0));
      ctx.fillRect(x0, 2, x1 - x0, 8);
    }
    ctx.fillStyle = css.getPropertyValue('--vscode-focusBorder').trim() || '#007fd4';
    ctx.fillRect(Math.floor(((cur + 0.5) / n) * w) - 1, 0, 3, 12);
  }, [run, cur]);
  if (!run) return null;
  const roles = [...new Set(run.evals.map((e) => e.role))];
  return (
    <div className="strip">
      <canvas
        ref={ref}
        data-testid="role-strip"
        onClick={(e) => {
          const r = e.currentTarget.getBoundingClientRect();
          go(((e.clientX - r.left) / r.width) * run.evals.length - 0.5);
        }}
      />
      <span className="legend">
        {roles.map((r) => (
          <span key={r} className={`role role-${ROLE_COLORS[r] ?? 'yellow'}`}>
            {r}
          </span>
        ))}
      </span>
    </div>
  );
}
