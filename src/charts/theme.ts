/** The shared look of every chart: size, fonts, colour-blind-safe palette, label shortening, "No data yet". */
import type { Config, TopLevelSpec } from 'vega-lite';
import { CHART_FONT_FAMILY, loadChartFonts } from './fonts.ts';
import type { ChartSpec } from './types.ts';

/** Slack previews images around 1,200 px wide; 16:9 keeps the preview from being cropped into a strip. */
export const CHART_WIDTH = 1200;
/** Height of every chart, 16:9 with `CHART_WIDTH`. */
export const CHART_HEIGHT = 675;

/** Okabe–Ito, reordered so the first colours are the most distinct; yellow last (weak on white). */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442'] as const;
/** Neutral colour for "Other" and for baselines. */
export const NEUTRAL = '#8C8C8C';
/** Okabe–Ito blue: the bubbles of the segment map. */
export const POSITIVE = '#0072B2';
/** Text on the plot area. */
export const INK = '#222222';

/** Longest label drawn on an axis or legend, in characters, before it is shortened with an ellipsis. */
export const LABEL_CHARS = 28;

/** Axis labels like the message text: 1.2k, 3.4M. */
export const COMPACT_LABEL_EXPR =
  "abs(datum.value) >= 1e9 ? format(datum.value / 1e9, '.1~f') + 'B' : " +
  "abs(datum.value) >= 1e6 ? format(datum.value / 1e6, '.1~f') + 'M' : " +
  "abs(datum.value) >= 1e3 ? format(datum.value / 1e3, '.1~f') + 'k' : format(datum.value, '.2~f')";

/** Caption (subtitle) size in px. */
const CAPTION_FONT_SIZE = 18;
/** Widest a title or caption may be drawn before Vega would cut it. */
const CAPTION_WIDTH = CHART_WIDTH - 80;

/** Font sizes are px at 1,200 wide and never below 14, so they survive Slack's downscaled preview. */
const CONFIG: Config = {
  font: CHART_FONT_FAMILY,
  background: 'white',
  padding: { top: 24, left: 28, right: 40, bottom: 24 },
  title: {
    anchor: 'start',
    frame: 'bounds',
    fontSize: 28,
    fontWeight: 'bold',
    color: '#111111',
    subtitleFontSize: CAPTION_FONT_SIZE,
    subtitleColor: '#444444',
    subtitlePadding: 8,
    offset: 22,
    limit: CAPTION_WIDTH,
  },
  axis: {
    labelFontSize: 15,
    titleFontSize: 16,
    titleFontWeight: 'bold',
    titleColor: INK,
    labelColor: '#333333',
    labelLimit: 300,
    titlePadding: 12,
    gridColor: '#E6E6E6',
    domainColor: '#888888',
    tickColor: '#888888',
  },
  axisBand: { grid: false },
  axisQuantitative: { tickCount: 8 },
  legend: {
    labelFontSize: 15,
    titleFontSize: 15,
    titleColor: INK,
    labelColor: '#333333',
    labelLimit: 260,
    symbolSize: 220,
    rowPadding: 6,
  },
  text: { fontSize: 15, color: INK },
  view: { stroke: null },
  range: { category: [...PALETTE] },
  // The PNG is the accessible artefact (it carries alt text); ARIA attributes only bloat the SVG.
  aria: false,
};

/** Wraps a chart body with the shared size, theme, title and caption. */
export function frame(title: string, caption: string, body: Record<string, unknown>): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    autosize: { type: 'fit', contains: 'padding' },
    title: { text: title, subtitle: caption },
    config: CONFIG,
    ...body,
  } as TopLevelSpec;
}

/** Assembles a `ChartSpec` with the standard size. */
export function chart(
  name: string,
  title: string,
  caption: string,
  alt: string,
  vegaLite: TopLevelSpec,
): ChartSpec {
  return { name, title, caption, alt: clampAlt(alt), width: CHART_WIDTH, height: CHART_HEIGHT, vegaLite };
}

/** A clear "No data yet" picture with the chart's own title; the hint says what would fill it. */
export function noDataChart(name: string, title: string, hint: string): ChartSpec {
  const spec = frame(title, hint, {
    data: { values: [{}] },
    mark: {
      type: 'text',
      fontSize: 44,
      fontWeight: 'bold',
      color: '#666666',
      x: { expr: 'width / 2' },
      y: { expr: 'height / 2' },
    },
    encoding: { text: { value: 'No data yet' } },
  });
  return chart(name, title, hint, `${title}: no data yet. ${hint}`, spec);
}

/**
 * A caption that fits on one line of the image: `build` receives a name shortener and is tried with full
 * names first, then shorter ones, so names are only cut when the line would not fit.
 */
export function fitCaption(build: (name: (text: string) => string) => string): string {
  const metrics = loadChartFonts().regular;
  let caption = '';
  for (const max of [Number.POSITIVE_INFINITY, 40, 32, 26, 20, 14]) {
    caption = build((text) => (max === Number.POSITIVE_INFINITY ? cleanLabel(text) : shortLabel(text, max)));
    if (metrics.measure(caption, CAPTION_FONT_SIZE) <= CAPTION_WIDTH) break;
  }
  return caption;
}

/** Shortens a label to `max` characters, cutting at a word boundary when one is close, with an ellipsis. */
export function shortLabel(text: string, max = LABEL_CHARS): string {
  const clean = cleanLabel(text);
  const chars = [...clean];
  if (chars.length <= max) return clean;
  return `${headOf(chars, max - 1)}…`;
}

/**
 * Short, distinct labels in input order. Generated segment names often share a long start ("Weekend mobile
 * browsers in …"); names that would shorten to the same label show where they differ instead
 * ("Weekend…the Nordics", "Weekend…Southern Europe"); anything still equal gets " (2)", " (3)" so bars and
 * colours never merge.
 */
export function uniqueLabels(names: readonly string[], max = LABEL_CHARS): string[] {
  const clean = names.map(cleanLabel);
  const short = clean.map((name) => shortLabel(name, max));
  const groups = new Map<string, Set<string>>();
  short.forEach((label, i) => {
    const group = groups.get(label) ?? new Set<string>();
    group.add(clean[i] ?? '');
    groups.set(label, group);
  });
  const seen = new Set<string>();
  return clean.map((name, i) => {
    let label = short[i] ?? '';
    const group = groups.get(label);
    if (group && group.size > 1) label = distinctLabel(name, [...group], max);
    const base = label;
    for (let n = 2; seen.has(label); n++) label = `${shortLabel(base, max - 4)} (${n})`;
    seen.add(label);
    return label;
  });
}

/** The first word, an ellipsis, then the name from the word where it starts to differ from its look-alikes. */
export function distinctLabel(name: string, lookAlikes: readonly string[], max = LABEL_CHARS): string {
  const chars = [...cleanLabel(name)];
  if (chars.length <= max) return chars.join('');
  let shared = 0;
  for (const other of lookAlikes) {
    const otherChars = [...other];
    if (otherChars.join('') === chars.join('')) continue;
    let n = 0;
    while (n < chars.length && chars[n] === otherChars[n]) n++;
    shared = Math.max(shared, n);
  }
  // Back up to the start of the word where the difference is.
  while (shared > 0 && chars[shared - 1] !== ' ') shared--;
  if (shared === 0) return shortLabel(name, max);
  const firstWord = chars.slice(0, chars.indexOf(' ')).join('');
  const head = firstWord.length > 0 && firstWord.length <= max / 3 ? firstWord : '';
  const rest = chars.slice(shared).join('');
  const restLength = [...rest].length;
  if (head.length + 1 + restLength <= max) return `${head}…${rest}`;
  if (1 + restLength <= max) return `…${rest}`;
  return `${head}…${shortLabel(rest, max - head.length - 1)}`;
}

function cleanLabel(text: string): string {
  return text.replace(/\s+/g, ' ').trim() || '(unnamed)';
}

/** The first `budget` characters, dropping a trailing partial word when that loses little. */
function headOf(chars: readonly string[], budget: number): string {
  const head = chars.slice(0, budget).join('');
  const endsAtWord = chars[budget] === ' ';
  const space = head.lastIndexOf(' ');
  const cut = !endsAtWord && space >= budget * 0.6 ? head.slice(0, space) : head;
  return cut.replace(/[\s\-_,.;:·(]+$/, '');
}

/** Finite number or 0: charts must not die on a NaN that slipped through an import. */
export function finite(value: number): number {
  return Number.isFinite(value) ? value : 0;
}

function clampAlt(alt: string): string {
  const clean = alt.replace(/\s+/g, ' ').trim();
  return clean.length <= 1000 ? clean : `${clean.slice(0, 999)}…`;
}
