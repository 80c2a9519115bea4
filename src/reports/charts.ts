/**
 * Chart layout, once for every format: a chart becomes rectangles, lines and text in a box of
 * the given size (origin top left). html.tsx draws the shapes as SVG, pdf.ts with pdfkit's vector
 * operators, so the charts look the same in both.
 */
import { type BarChart, formatCount, formatMoney, formatTime, type TimelineChart } from './report.js';

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
  color: string;
  title?: string;
}
export interface Line {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  color: string;
}
export interface Label {
  x: number;
  y: number;
  text: string;
  anchor: 'start' | 'middle' | 'end';
  size: number;
  color: string;
}
export interface Shapes {
  width: number;
  height: number;
  rects: Rect[];
  lines: Line[];
  labels: Label[];
}

export const PHASE_COLORS: Record<string, string> = {
  undeclared: '#9ca3af',
  investigating: '#dc2626',
  identified: '#ea580c',
  monitoring: '#ca8a04',
  resolved: '#16a34a',
};
const SERIES_COLORS = ['#2563eb', '#16a34a', '#ea580c'];
const INK = '#1f2937';
const MUTED = '#6b7280';
const GRID = '#d1d5db';

export function layoutTimeline(chart: TimelineChart, width: number): Shapes {
  const height = 96;
  const left = 4;
  const right = width - 4;
  const barY = 34;
  const barH = 22;
  const span = Math.max(1, chart.to - chart.from);
  const x = (t: number) => left + ((Math.min(Math.max(t, chart.from), chart.to) - chart.from) / span) * (right - left);
  const rects: Rect[] = chart.segments.map((s) => ({
    x: x(s.from),
    y: barY,
    w: Math.max(1, x(s.to) - x(s.from)),
    h: barH,
    color: PHASE_COLORS[s.key] ?? MUTED,
    title: `${s.label}: ${formatTime(s.from)} – ${formatTime(s.to)}`,
  }));
  const lines: Line[] = [];
  const labels: Label[] = [];
  chart.marks.forEach((m, i) => {
    const mx = x(m.at);
    const up = i % 2 === 0;
    lines.push({ x1: mx, y1: up ? 18 : barY, x2: mx, y2: up ? barY + barH : barY + barH + 16, color: INK });
    const anchor = mx < left + 40 ? 'start' : mx > right - 40 ? 'end' : 'middle';
    labels.push({ x: mx, y: up ? 12 : barY + barH + 26, text: m.label, anchor, size: 9, color: INK });
  });
  labels.push({ x: left, y: height - 2, text: formatTime(chart.from), anchor: 'start', size: 8, color: MUTED });
  labels.push({ x: right, y: height - 2, text: formatTime(chart.to), anchor: 'end', size: 8, color: MUTED });
  // A legend of the phases shown, on the right below the times.
  const seen = [...new Map(chart.segments.map((s) => [s.key, s.label])).entries()];
  let lx = right;
  for (const [key, label] of seen.reverse()) {
    const w = label.length * 4.6 + 14;
    lx -= w;
    rects.push({ x: lx, y: height + 10 - 8, w: 8, h: 8, color: PHASE_COLORS[key] ?? MUTED });
    labels.push({ x: lx + 11, y: height + 10, text: label, anchor: 'start', size: 8, color: INK });
  }
  return { width, height: height + 14, rects, lines, labels };
}

export function layoutBars(chart: BarChart, width: number): Shapes {
  const height = 190;
  const top = 22;
  const bottom = height - 34;
  const left = 64;
  const right = width - 8;
  const fmt = chart.format === 'money' ? formatMoney : formatCount;
  const max = Math.max(1, ...chart.series.flatMap((s) => s.values));
  const n = Math.max(1, chart.categories.length);
  const band = (right - left) / n;
  const groupW = band * 0.8;
  const barW = groupW / Math.max(1, chart.series.length);
  const rects: Rect[] = [];
  const lines: Line[] = [
    { x1: left, y1: bottom, x2: right, y2: bottom, color: INK },
    { x1: left, y1: top, x2: right, y2: top, color: GRID },
  ];
  const labels: Label[] = [
    { x: left - 4, y: top + 3, text: fmt(max), anchor: 'end', size: 8, color: MUTED },
    { x: left - 4, y: bottom + 3, text: fmt(0), anchor: 'end', size: 8, color: MUTED },
  ];
  const every = Math.max(1, Math.ceil(n / 12));
  chart.categories.forEach((category, i) => {
    const gx = left + i * band + (band - groupW) / 2;
    chart.series.forEach((s, j) => {
      const v = s.values[i] ?? 0;
      const h = (v / max) * (bottom - top);
      rects.push({
        x: gx + j * barW,
        y: bottom - h,
        w: Math.max(1, barW - 1),
        h,
        color: SERIES_COLORS[j % SERIES_COLORS.length] as string,
        title: `${category}: ${s.name} ${fmt(v)}`,
      });
    });
    if (i % every === 0) {
      labels.push({
        x: left + i * band + band / 2,
        y: bottom + 12,
        text: category,
        anchor: 'middle',
        size: n > 6 ? 7 : 8,
        color: INK,
      });
    }
  });
  let lx = left;
  chart.series.forEach((s, j) => {
    rects.push({ x: lx, y: height - 12, w: 8, h: 8, color: SERIES_COLORS[j % SERIES_COLORS.length] as string });
    labels.push({ x: lx + 11, y: height - 4, text: s.name, anchor: 'start', size: 8, color: INK });
    lx += s.name.length * 4.6 + 26;
  });
  return { width, height, rects, lines, labels };
}
