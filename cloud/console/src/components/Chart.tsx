/**
 * One point's chart (uPlot): mean line with the min–max band of each bucket,
 * an optional marker line (the alarm's time). y-axis labels are sized to the
 * widest label, so 1873.41 kWh is never cut to "73.41". Drag to zoom, double-click resets.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { Bucket } from '../api.js';
import { fmtDay, fmtNumber, fmtTime } from '../i18n/index.js';

export interface ChartProps {
  buckets: Bucket[];
  unit: string | null;
  /** Epoch ms to mark (e.g. when the alarm was raised). */
  mark?: number | null;
  height?: number;
  label: string;
  /** The time range shown, epoch ms (default: the data's). */
  range?: [number, number];
}

/** uPlot's columns from the API's buckets (seconds on x). */
export function columns(b: Bucket[]): uPlot.AlignedData {
  return [b.map((x) => x.ts / 1000), b.map((x) => x.mean), b.map((x) => x.min), b.map((x) => x.max)];
}

export function Chart(p: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const el = box.current!;
    const mark = p.mark;
    const font = parseFloat(getComputedStyle(document.documentElement).fontSize) || 14;
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height: p.height ?? 260,
      cursor: { drag: { x: true, y: false } },
      legend: { show: true },
      scales: { x: p.range ? { time: true, range: [p.range[0] / 1000, p.range[1] / 1000] } : { time: true } },
      axes: [
        {
          stroke: '#9fb0c8',
          grid: { stroke: 'rgba(160,176,200,0.15)' },
          font: `${font * 0.8}px sans-serif`,
          // 24-hour clock in the browser's zone; the date once a range spans days.
          values: (u, splits) => {
            const span = (u.scales.x.max ?? 0) - (u.scales.x.min ?? 0);
            return splits.map((s) => (span > 2 * 86_400 ? fmtDay(s * 1000) : fmtTime(s * 1000, false).slice(0, 5)));
          },
        },
        {
          stroke: '#9fb0c8',
          grid: { stroke: 'rgba(160,176,200,0.15)' },
          font: `${font * 0.8}px sans-serif`,
          values: (_u, splits) => splits.map((v) => fmtNumber(v, null, 3)),
          // Wide enough for the widest label: never a cut-off number.
          size: (u, values) => {
            if (!values) return 50;
            const ctx = u.ctx;
            ctx.font = `${font * 0.8}px sans-serif`;
            return Math.ceil(Math.max(...values.map((v) => ctx.measureText(String(v)).width)) / devicePixelRatio) + 22;
          },
          label: p.unit ?? undefined,
          labelFont: `${font * 0.8}px sans-serif`,
        },
      ],
      series: [
        {},
        { label: p.label, stroke: '#4fc3f7', width: 2, value: (_u, v) => fmtNumber(v, p.unit) },
        { label: 'min', stroke: 'rgba(79,195,247,0.35)', width: 1, value: (_u, v) => fmtNumber(v, p.unit) },
        { label: 'max', stroke: 'rgba(79,195,247,0.35)', width: 1, value: (_u, v) => fmtNumber(v, p.unit) },
      ],
      hooks: mark
        ? {
            draw: [
              (u) => {
                const x = u.valToPos(mark / 1000, 'x', true);
                const c = u.ctx;
                c.save();
                c.strokeStyle = '#ff4d4f';
                c.setLineDash([6, 4]);
                c.lineWidth = 2;
                c.beginPath();
                c.moveTo(x, u.bbox.top);
                c.lineTo(x, u.bbox.top + u.bbox.height);
                c.stroke();
                c.restore();
              },
            ],
          }
        : {},
    };
    plot.current = new uPlot(opts, columns(p.buckets), el);
    // The browser tests read what is drawn (uPlot draws on a canvas).
    (el as HTMLDivElement & { uplot?: uPlot }).uplot = plot.current;
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: el.clientWidth, height: p.height ?? 260 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [p.buckets, p.unit, p.mark, p.label, p.range?.[0], p.range?.[1]]);
  return <div class="chart" ref={box} data-testid="chart" data-points={p.buckets.length} />;
}
