/**
 * A uPlot chart (https://github.com/leeoniya/uPlot: canvas, no eval, CSP-safe) with the inspector's additions: a
 * vertical marker at the current evaluation, click-to-jump, theme colours from VS Code's CSS variables, and
 * width following its container.
 */
import { memo, useEffect, useRef } from 'react';
import uPlot from 'uplot';

export interface ChartSeries {
  readonly label: string;
  readonly values: readonly (number | null)[];
  /** A VS Code chart colour name: blue, red, green, yellow, orange, purple. */
  readonly color: string;
  /** Draw points only (no line). */
  readonly points?: boolean;
  /** Join points across missing values (series sampled at other series' x values). */
  readonly spanGaps?: boolean;
}

export interface ChartProps {
  readonly title: string;
  readonly x: readonly number[];
  readonly series: readonly ChartSeries[];
  readonly xLabel?: string;
  readonly logY?: boolean;
  readonly logX?: boolean;
  /** x grows to the left (σ axes: the sampling order reads left to right). */
  readonly reverseX?: boolean;
  /** x of the marker line. */
  readonly marker?: number;
  readonly onPick?: (x: number) => void;
  readonly height?: number;
  readonly testId?: string;
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

const FALLBACK: Record<string, string> = { blue: '#3794ff', red: '#f14c4c', green: '#89d185', yellow: '#cca700', orange: '#d18616', purple: '#b180d7' };
export const chartColor = (c: string) => cssVar(`--vscode-charts-${c}`, FALLBACK[c] ?? c);

/** Tick labels on log axes: only powers of ten, in exponent form when small or large. */
function logTicks(_u: uPlot, splits: (number | null)[]): string[] {
  return splits.map((v) => {
    if (v === null || !(v > 0)) return '';
    const e = Math.log10(v);
    if (Math.abs(e - Math.round(e)) > 1e-9) return '';
    return v >= 1e-3 && v < 1e5 ? String(+v.toPrecision(3)) : `1e${Math.round(e)}`;
  });
}

function clean(values: readonly (number | null)[], log: boolean): (number | null)[] {
  return values.map((v) => (v === null || !Number.isFinite(v) || (log && v <= 0) ? null : v));
}

export const Chart = memo(function Chart(p: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const marker = useRef<number | undefined>(p.marker);
  const pick = useRef(p.onPick);
  pick.current = p.onPick;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const fg = cssVar('--vscode-foreground', '#ccc');
    const grid = 'rgba(128,128,128,.18)';
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: '11px sans-serif' };
    const markerPlugin: uPlot.Plugin = {
      hooks: {
        draw: [
          (u) => {
            const m = marker.current;
            if (m === undefined) return;
            const x = u.valToPos(m, 'x', true);
            if (!Number.isFinite(x)) return;
            const ctx = u.ctx;
            ctx.save();
            ctx.strokeStyle = cssVar('--vscode-focusBorder', '#007fd4');
            ctx.lineWidth = 2 * devicePixelRatio;
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.restore();
          },
        ],
      },
    };
    const opts: uPlot.Options = {
      title: p.title,
      width: Math.max(200, el.clientWidth),
      height: p.height ?? 170,
      plugins: [markerPlugin],
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false }, points: { size: 5 } },
      scales: { x: { time: false, distr: p.logX ? 3 : 1, dir: p.reverseX ? -1 : 1 }, y: { distr: p.logY ? 3 : 1 } },
      axes: [
        { ...axis, label: p.xLabel, labelSize: p.xLabel ? 16 : 0, labelFont: '11px sans-serif', values: p.logX ? logTicks : undefined },
        { ...axis, size: 56, values: p.logY ? logTicks : undefined },
      ],
      series: [
        { label: p.xLabel ?? 'x' },
        ...p.series.map((s) => ({
          label: s.label,
          stroke: chartColor(s.color),
          width: 1.5,
          spanGaps: !!s.spanGaps,
          paths: s.points ? () => null : undefined,
          points: { show: s.points || s.spanGaps ? true : undefined, size: s.points || s.spanGaps ? 5 : 3, fill: chartColor(s.color) },
        })),
      ],
    };
    const data = [Array.from(p.x), ...p.series.map((s) => clean(s.values, !!p.logY))] as uPlot.AlignedData;
    const u = new uPlot(opts, data, el);
    plot.current = u;
    const onClick = () => {
      const idx = u.cursor.idx;
      if (idx !== null && idx !== undefined) pick.current?.(u.data[0][idx] as number);
    };
    u.over.addEventListener('click', onClick);
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height: p.height ?? 170 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.over.removeEventListener('click', onClick);
      u.destroy();
      plot.current = null;
    };
  }, [p.title, p.x, p.series, p.logY, p.logX, p.reverseX, p.xLabel, p.height]);

  useEffect(() => {
    marker.current = p.marker;
    plot.current?.redraw(false, false);
  }, [p.marker]);

  return <div className="chart" ref={box} data-testid={p.testId} />;
});
