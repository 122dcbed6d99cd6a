/**
 * Chart builders: pure functions from plain data to a Vega-Lite spec with its title, caption and alt text.
 * They never throw on odd input (no rows, NaN, duplicate or very long names); empty input gives "No data yet".
 */
import { formatChange, formatCompact } from '../domain/format.ts';
import { loadChartFonts } from './fonts.ts';
import {
  COMPACT_LABEL_EXPR,
  chart,
  finite,
  fitCaption,
  frame,
  INK,
  NEUTRAL,
  noDataChart,
  PALETTE,
  POSITIVE,
  shortLabel,
  uniqueLabels,
} from './theme.ts';
import type { ChartSpec, SegmentPoint, SegmentWeek } from './types.ts';

/** How many weeks the size chart looks back. */
export const SIZE_WEEKS = 8;
const WEEK_MS = 7 * 24 * 60 * 60 * 1000;
/** Most coloured series in the size chart; beyond that the smallest fold into "Other". */
const MAX_SERIES = PALETTE.length;

/** Stacked areas of segment sizes per week over the last 8 weeks (stacked bars when there is one week). */
export function segmentSizesOverTime(weeks: readonly SegmentWeek[]): ChartSpec {
  const name = 'segment-sizes';
  const { window, spanWeeks } = sizeWindow(weeks);
  const title = `Segment sizes, last ${spanWeeks > 1 ? spanWeeks : SIZE_WEEKS} weeks`;
  const latestEntry = window.at(-1);
  if (!latestEntry || window.every(([, sizes]) => sumSizes(sizes) === 0)) {
    return noDataChart(name, title, 'Segment sizes appear here once a segmentation has run for a week.');
  }
  const [latestStart, latest] = latestEntry;
  const series = sizeSeries(window, latest);
  const spansYears =
    new Date(window[0]?.[0] ?? 0).getUTCFullYear() !== new Date(latestStart).getUTCFullYear();
  const weekLabels = window.map(([start]) => formatWeek(start, spansYears));
  const values = sizeRows(window, weekLabels, series);

  const [firstStart, first] = window[0] ?? latestEntry;
  const change = window.length > 1 ? formatChange(sumSizes(latest), sumSizes(first)) : undefined;
  const top = series.names[0] ?? '';
  const caption = fitCaption(
    (label) =>
      `Week of ${formatWeek(latestStart, true)}: ${formatCompact(sumSizes(latest))} members in ${plural(countPositive(latest), 'segment')}` +
      `${change ? `, ${change} since ${formatWeek(firstStart, spansYears)}` : ''}. Largest: ${label(top)} (${formatCompact(latest.get(top) ?? 0)}).`,
  );
  const alt =
    `${window.length > 1 ? 'Stacked area' : 'Stacked bar'} chart of segment sizes per week, ${weekLabels[0]} to ${weekLabels.at(-1)}. ` +
    `Week of ${formatWeek(latestStart, true)}: ` +
    series.names.map((s) => `${s} ${formatCompact(latest.get(s) ?? 0)}`).join(', ') +
    '.';
  const spec = frame(title, caption, sizesLayer(values, window, series, spansYears));
  return chart(name, title, caption, alt, spec);
}

/** One week of segment sizes: its start and the members per segment name. */
type SizeWeek = [start: number, sizes: Map<string, number>];

/**
 * The weeks of the last SIZE_WEEKS weeks of time before the newest, in time order, and how many weeks they
 * span. A week sent twice replaces the earlier one; a name listed twice in a week is one segment.
 */
function sizeWindow(weeks: readonly SegmentWeek[]): { window: SizeWeek[]; spanWeeks: number } {
  const byStart = new Map<number, Map<string, number>>();
  for (const week of weeks) {
    if (!Number.isFinite(week.weekStart) || week.segments.length === 0) continue;
    const sizes = new Map<string, number>();
    for (const s of week.segments) sizes.set(s.name, (sizes.get(s.name) ?? 0) + Math.max(0, finite(s.size)));
    byStart.set(week.weekStart, sizes);
  }
  const sorted = [...byStart.entries()].sort((a, b) => a[0] - b[0]);
  const newest = sorted.at(-1)?.[0] ?? 0;
  // A time window, not the last 8 rows: a week with no segmentation must not stretch the chart back.
  const window = sorted.filter(([start]) => start > newest - SIZE_WEEKS * WEEK_MS);
  const spanWeeks = Math.round((newest - (window[0]?.[0] ?? newest)) / WEEK_MS) + 1;
  return { window, spanWeeks };
}

function sumSizes(sizes: Map<string, number>): number {
  return [...sizes.values()].reduce((sum, v) => sum + v, 0);
}

/** The coloured series: the largest segments by name, then one "Other" for the rest when there are too many. */
interface SizeSeries {
  /** Every segment name, largest in the latest week first. */
  names: string[];
  kept: string[];
  keptLabels: string[];
  folded: string[];
  otherLabel: string | undefined;
  /** The legend's labels, "Other" last. */
  labels: string[];
}

function sizeSeries(window: readonly SizeWeek[], latest: Map<string, number>): SizeSeries {
  const names = [...new Set(window.flatMap(([, sizes]) => [...sizes.keys()]))];
  // Rank by the latest week so the legend reads like today's league table.
  names.sort((a, b) => (latest.get(b) ?? 0) - (latest.get(a) ?? 0) || a.localeCompare(b));
  const kept = names.length > MAX_SERIES ? names.slice(0, MAX_SERIES - 1) : names;
  const folded = names.slice(kept.length);
  const keptLabels = uniqueLabels(kept);
  const otherLabel = folded.length > 0 ? uniqueOther(keptLabels, folded.length) : undefined;
  const labels = otherLabel ? [...keptLabels, otherLabel] : keptLabels;
  return { names, kept, keptLabels, folded, otherLabel, labels };
}

/** One data row per week and series. */
function sizeRows(window: readonly SizeWeek[], weekLabels: readonly string[], series: SizeSeries) {
  const { kept, keptLabels, folded, otherLabel } = series;
  return window.flatMap(([start, sizes], w) => {
    const row = (label: string, size: number, order: number) => ({
      week: weekLabels[w],
      weekStart: start,
      series: label,
      size,
      order,
    });
    const rows = kept.map((segment, i) => row(keptLabels[i] ?? segment, sizes.get(segment) ?? 0, i));
    if (otherLabel) {
      rows.push(
        row(
          otherLabel,
          folded.reduce((sum, s) => sum + (sizes.get(s) ?? 0), 0),
          kept.length,
        ),
      );
    }
    return rows;
  });
}

/** The stacked areas (or bars for one week) with the time axis, the member axis and the legend. */
function sizesLayer(
  values: readonly Record<string, unknown>[],
  window: readonly SizeWeek[],
  series: SizeSeries,
  spansYears: boolean,
): Record<string, unknown> {
  const { labels, otherLabel } = series;
  const single = window.length === 1;
  const colour = {
    field: 'series',
    type: 'nominal',
    // Legend top-to-bottom matches the stack top-to-bottom: "Other" on top, the largest on the baseline.
    scale: {
      domain: [...labels].reverse(),
      range: [
        ...labels.map((_, i) => (otherLabel && i === labels.length - 1 ? NEUTRAL : PALETTE[i])),
      ].reverse(),
    },
    legend: { title: 'Segment', orient: 'right' },
  };
  return {
    data: { values },
    mark: single
      ? { type: 'bar', stroke: 'white', strokeWidth: 1, width: { band: 0.5 } }
      : { type: 'area', stroke: 'white', strokeWidth: 1.5, opacity: 0.95 },
    encoding: {
      // Time on a UTC scale keeps a missing week visible as a gap in spacing, and the labels independent of
      // the host's time zone; one week is a single category.
      x: single
        ? { field: 'week', type: 'ordinal', axis: { title: null, labelAngle: 0, labelPadding: 8 } }
        : {
            field: 'weekStart',
            type: 'temporal',
            scale: { type: 'utc', nice: false },
            axis: {
              title: null,
              labelAngle: 0,
              labelPadding: 8,
              values: window.map(([start]) => start),
              format: spansYears ? '%-d %b %Y' : '%-d %b',
              labelOverlap: 'greedy',
              grid: false,
            },
          },
      y: {
        field: 'size',
        type: 'quantitative',
        stack: 'zero',
        axis: { title: 'Members', labelExpr: COMPACT_LABEL_EXPR, tickCount: 6 },
      },
      color: colour,
      order: { field: 'order', type: 'quantitative' },
    },
  };
}

/** Bubbles placed by two segment averages; bubble area is proportional to members; every bubble labelled. */
export function segmentMap(segments: readonly SegmentPoint[], axes: { x: string; y: string }): ChartSpec {
  const name = 'segment-map';
  const title = `Segment map: ${axes.y} vs ${axes.x}`;
  const usable = segments.filter((s) => Number.isFinite(s.x) && Number.isFinite(s.y) && finite(s.size) > 0);
  if (usable.length === 0) {
    return noDataChart(name, title, 'The map appears here once segments have members.');
  }
  const layout = bubbleLayout(usable);
  const total = usable.reduce((sum, s) => sum + s.size, 0);
  const largest = usable.reduce((a, b) => (b.size > a.size ? b : a));
  const caption = fitCaption(
    (label) =>
      `Bubble area = members: ${formatCompact(total)} in ${plural(usable.length, 'segment')}. ` +
      `Largest: ${label(largest.name)} (${formatCompact(largest.size)}).`,
  );
  const alt =
    `Bubble chart of segments by ${axes.x} (across) and ${axes.y} (up); bubble area shows members. ` +
    usable
      .map((s) => `${s.name}: ${formatCompact(s.size)} members, ${axes.x} ${num(s.x)}, ${axes.y} ${num(s.y)}`)
      .join('; ') +
    '.';
  return chart(name, title, caption, alt, frame(title, caption, mapLayers(layout, axes)));
}

/** The bubbles with their labels placed, and the axis domains and size scale they were placed for. */
interface BubbleLayout {
  values: Record<string, unknown>[];
  xDomain: [number, number];
  yDomain: [number, number];
  maxSize: number;
  maxArea: number;
}

function bubbleLayout(usable: readonly SegmentPoint[]): BubbleLayout {
  // Crowded maps drop the member count from labels (bubble area and the alt text carry it) to stay legible.
  const crowded = usable.length > 6;
  const labels = uniqueLabels(
    usable.map((s) => s.name),
    crowded ? 22 : 24,
  );
  const maxSize = Math.max(...usable.map((s) => s.size));
  // Fewer, bigger bubbles when there is room; the scale is linear from zero so area stays honest.
  const maxArea = usable.length > 6 ? 5000 : 8000;
  // Leave room for the biggest bubble at every edge, and for a label line above the top one.
  const edge = Math.sqrt(maxArea / Math.PI) + 10;
  const xDomain = paddedDomain(
    usable.map((s) => s.x),
    edge,
    edge,
    MAP_PLOT.width,
  );
  const yDomain = paddedDomain(
    usable.map((s) => s.y),
    edge,
    edge + MAP_LABEL_SIZE * 1.5,
    MAP_PLOT.height,
  );
  const bubbles = usable
    .map((s, i) => ({
      label: crowded ? (labels[i] ?? '') : `${labels[i]} · ${formatCompact(s.size)}`,
      x: s.x,
      y: s.y,
      size: s.size,
      radius: Math.sqrt(((s.size / maxSize) * maxArea) / Math.PI),
    }))
    // Big bubbles first: small ones are drawn on top and stay visible, and big ones get the best label spot.
    .sort((a, b) => b.size - a.size || a.label.localeCompare(b.label));
  const placed = placeBubbleLabels(bubbles, xDomain, yDomain);
  const values = bubbles.map((b, i) => ({ ...b, ...placed[i] }));
  return { values, xDomain, yDomain, maxSize, maxArea };
}

/** The axes, the bubbles sized linearly from zero, and their labels at the placed offsets. */
function mapLayers(layout: BubbleLayout, axes: { x: string; y: string }): Record<string, unknown> {
  const { values, xDomain, yDomain, maxSize, maxArea } = layout;
  return {
    data: { values },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative',
        scale: { domain: xDomain, nice: false, zero: false },
        axis: { title: shortLabel(axes.x, 60), labelExpr: COMPACT_LABEL_EXPR },
      },
      y: {
        field: 'y',
        type: 'quantitative',
        scale: { domain: yDomain, nice: false, zero: false },
        axis: { title: shortLabel(axes.y, 40), labelExpr: COMPACT_LABEL_EXPR },
      },
    },
    layer: [
      {
        mark: { type: 'circle', color: POSITIVE, opacity: 0.5, stroke: POSITIVE, strokeWidth: 1.5 },
        encoding: {
          size: {
            field: 'size',
            type: 'quantitative',
            scale: { type: 'linear', domain: [0, maxSize], range: [0, maxArea], zero: true },
            legend: null,
          },
        },
      },
      {
        mark: {
          type: 'text',
          fontSize: MAP_LABEL_SIZE,
          color: INK,
          align: { expr: 'datum.align' },
          baseline: { expr: 'datum.baseline' },
          dx: { expr: 'datum.dx' },
          dy: { expr: 'datum.dy' },
        },
        encoding: { text: { field: 'label' } },
      },
    ],
  };
}

const MAP_LABEL_SIZE = 15;
/** Rough plot area of the map (chart minus title, caption, axes, padding); only steers label placement. */
const MAP_PLOT = { width: 1060, height: 480 };

interface LabelPlacement {
  dx: number;
  dy: number;
  align: 'left' | 'center' | 'right';
  baseline: 'top' | 'middle' | 'bottom';
}

/**
 * Greedy label placement: each label (biggest bubble first) takes the first of eight spots around its bubble
 * that overlaps no placed label, keeps clear of other bubbles and stays inside the plot, else the least bad
 * spot.
 * Pixel positions are estimated from the fixed domains, which is close enough to keep twelve labels apart.
 */
function placeBubbleLabels(
  bubbles: ReadonlyArray<{ label: string; x: number; y: number; radius: number }>,
  xDomain: [number, number],
  yDomain: [number, number],
): LabelPlacement[] {
  const metrics = loadChartFonts().regular;
  const height = MAP_LABEL_SIZE * 1.2;
  const gap = 5;
  const px = (x: number) => ((x - xDomain[0]) / (xDomain[1] - xDomain[0])) * MAP_PLOT.width;
  const py = (y: number) =>
    MAP_PLOT.height - ((y - yDomain[0]) / (yDomain[1] - yDomain[0])) * MAP_PLOT.height;
  const circles = bubbles.map((b) => ({ cx: px(b.x), cy: py(b.y), r: Math.max(b.radius, 3) }));
  const taken: Box[] = [];
  return bubbles.map((b, i) => {
    const { cx, cy, r } = circles[i] ?? { cx: 0, cy: 0, r: 0 };
    const width = metrics.measure(b.label, MAP_LABEL_SIZE);
    const d = r * 0.72 + gap;
    // Beside the bubble first; diagonals drift towards neighbours and the centre covers the bubble,
    // so they start with a handicap and win only when the plain spots are taken.
    const candidates: Array<LabelPlacement & { handicap: number }> = [
      { dx: 0, dy: -(r + gap), align: 'center', baseline: 'bottom', handicap: 0 },
      { dx: 0, dy: r + gap, align: 'center', baseline: 'top', handicap: 0 },
      { dx: r + gap, dy: 0, align: 'left', baseline: 'middle', handicap: 0 },
      { dx: -(r + gap), dy: 0, align: 'right', baseline: 'middle', handicap: 0 },
      { dx: d, dy: -d, align: 'left', baseline: 'bottom', handicap: 150 },
      { dx: -d, dy: -d, align: 'right', baseline: 'bottom', handicap: 150 },
      { dx: d, dy: d, align: 'left', baseline: 'top', handicap: 150 },
      { dx: -d, dy: d, align: 'right', baseline: 'top', handicap: 150 },
      { dx: 0, dy: 0, align: 'center', baseline: 'middle', handicap: 400 },
    ];
    let best: LabelPlacement = { dx: 0, dy: -(r + gap), align: 'center', baseline: 'bottom' };
    let bestBox: Box | undefined;
    let bestCost = Number.POSITIVE_INFINITY;
    for (const { handicap, ...c } of candidates) {
      const left = cx + c.dx - (c.align === 'center' ? width / 2 : c.align === 'right' ? width : 0);
      const top = cy + c.dy - (c.baseline === 'middle' ? height / 2 : c.baseline === 'bottom' ? height : 0);
      const box: Box = { left, top, right: left + width, bottom: top + height };
      let cost = handicap;
      for (const other of taken) cost += 10 * overlap(box, other);
      // Readers give a label to the bubble nearest its middle, and a label touching a bubble to that bubble.
      const mx = (box.left + box.right) / 2;
      const my = (box.top + box.bottom) / 2;
      const own = Math.hypot(mx - cx, my - cy) - r;
      circles.forEach((circle, j) => {
        if (j === i) return;
        const nearer = own + 10 - (Math.hypot(mx - circle.cx, my - circle.cy) - circle.r);
        cost +=
          30 * Math.max(0, nearer) + 40 * Math.max(0, 8 - (distance(box, circle.cx, circle.cy) - circle.r));
      });
      cost += 5 * outside(box, MAP_PLOT.width, MAP_PLOT.height);
      if (cost < bestCost) {
        best = c;
        bestBox = box;
        bestCost = cost;
      }
    }
    if (bestBox) taken.push(bestBox);
    return best;
  });
}

interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

function overlap(a: Box, b: Box): number {
  const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
  const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
  return w > 0 && h > 0 ? w * h : 0;
}

/** Distance from a point to the nearest point of a box (0 inside it). */
function distance(box: Box, x: number, y: number): number {
  const dx = Math.max(box.left - x, 0, x - box.right);
  const dy = Math.max(box.top - y, 0, y - box.bottom);
  return Math.hypot(dx, dy);
}

function outside(box: Box, width: number, height: number): number {
  const area = (box.right - box.left) * (box.bottom - box.top);
  return area - overlap(box, { left: 0, top: 0, right: width, bottom: height });
}

/** The data extent widened so that `below` and `above` pixels (of a `pixels`-long axis) stay free. */
function paddedDomain(
  values: readonly number[],
  below: number,
  above: number,
  pixels: number,
): [number, number] {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const span = hi - lo || Math.abs(hi) || 1;
  const inner = Math.max(pixels - below - above, pixels * 0.2);
  return [lo - (span * below) / inner, hi + (span * above) / inner];
}

function uniqueOther(taken: readonly string[], count: number): string {
  const base = `Other (${count} segments)`;
  let label = base;
  for (let n = 2; taken.includes(label); n++) label = `${base} ${n}`;
  return label;
}

function countPositive(sizes: Map<string, number>): number {
  return [...sizes.values()].filter((v) => v > 0).length;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** Two significant digits for small numbers, compact (1.2k) for big ones. */
function num(value: number): string {
  if (!Number.isFinite(value)) return '–';
  if (Math.abs(value) >= 1000) return formatCompact(value);
  return String(Number(value.toPrecision(2)));
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "3 Mar" (or "3 Mar 2025"), in UTC so the picture does not depend on the host's time zone. */
function formatWeek(ms: number, withYear: boolean): string {
  const d = new Date(ms);
  const base = `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
  return withYear ? `${base} ${d.getUTCFullYear()}` : base;
}
