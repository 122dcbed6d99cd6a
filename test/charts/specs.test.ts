import fc from 'fast-check';
import { compile } from 'vega-lite';
import { describe, expect, it } from 'vitest';
import { loadChartFonts } from '../../src/charts/fonts.ts';
import { segmentMap, segmentSizesOverTime } from '../../src/charts/specs.ts';
import { distinctLabel, shortLabel, uniqueLabels } from '../../src/charts/theme.ts';
import type { ChartSpec } from '../../src/charts/types.ts';
import { cases, MAP_AXES, TWELVE_NAMES } from './fixtures.ts';

type Row = Record<string, unknown>;

/** The inline rows of the spec (top level or first layer). */
function rows(spec: ChartSpec): Row[] {
  const vl = spec.vegaLite as { data?: { values?: Row[] }; layer?: Array<{ data?: { values?: Row[] } }> };
  return vl.data?.values ?? vl.layer?.[0]?.data?.values ?? [];
}

const WEEK = 7 * 24 * 3600 * 1000;

describe('segmentSizesOverTime', () => {
  it('keeps the last 8 weeks in time order, whatever order they arrive in', () => {
    const weeks = [...cases.sizes.realistic].reverse();
    const spec = segmentSizesOverTime(weeks);
    const labels = [...new Set(rows(spec).map((r) => r.week))];
    expect(labels).toEqual(['17 Mar', '24 Mar', '31 Mar', '7 Apr', '14 Apr', '21 Apr', '28 Apr', '5 May']);
    expect(spec.title).toBe('Segment sizes, last 8 weeks');
    expect(spec.caption).toMatch(
      /^Week of 5 May 2025: [\d.]+k members in 5 segments, [+−][\d.]+% since 17 Mar\./,
    );
  });

  it('folds segments beyond seven colours into a grey "Other" and keeps all names in the alt text', () => {
    const spec = segmentSizesOverTime(cases.sizes.twelve);
    const series = [...new Set(rows(spec).map((r) => r.series))];
    expect(series).toHaveLength(7);
    expect(series.at(-1)).toBe('Other (6 segments)');
    for (const name of TWELVE_NAMES) expect(spec.alt).toContain(name);
    const lastWeek = rows(spec).filter((r) => r.week === '21 Apr');
    const total = cases.sizes.twelve.at(-1)?.segments.reduce((sum, s) => sum + s.size, 0);
    expect(lastWeek.reduce((sum, r) => sum + Number(r.size), 0)).toBe(total);
  });

  it('looks back 8 weeks of time, not 8 rows, when a week is missing', () => {
    const weeks = cases.sizes.realistic.filter((_, i) => i !== 8);
    const spec = segmentSizesOverTime(weeks);
    expect(spec.title).toBe('Segment sizes, last 8 weeks');
    expect([...new Set(rows(spec).map((r) => r.week))]).toEqual([
      '17 Mar',
      '24 Mar',
      '31 Mar',
      '7 Apr',
      '14 Apr',
      '21 Apr',
      '5 May',
    ]);
  });

  it('draws bars for a single week (an area needs two points)', () => {
    const spec = segmentSizesOverTime([
      { weekStart: Date.UTC(2025, 0, 6), segments: [{ name: 'A', size: 3 }] },
    ]);
    expect((spec.vegaLite as { mark: { type: string } }).mark.type).toBe('bar');
  });

  it('says "No data yet" for no weeks, empty weeks, or only zero sizes', () => {
    for (const weeks of [
      [],
      [{ weekStart: 0, segments: [] }],
      [{ weekStart: 0, segments: [{ name: 'A', size: 0 }] }],
    ]) {
      const spec = segmentSizesOverTime(weeks);
      expect(JSON.stringify(spec.vegaLite)).toContain('No data yet');
      expect(spec.alt).toContain('no data yet');
    }
  });

  it('ignores bad numbers and merges a name listed twice in one week', () => {
    const spec = segmentSizesOverTime([
      { weekStart: 0, segments: [{ name: 'A', size: Number.NaN }] },
      {
        weekStart: WEEK,
        segments: [
          { name: 'A', size: 2 },
          { name: 'A', size: 3 },
        ],
      },
    ]);
    expect(rows(spec).map((r) => r.size)).toEqual([0, 5]);
  });
});

describe('segmentMap', () => {
  it('scales bubble area linearly from zero and labels every bubble distinctly', () => {
    const spec = segmentMap(cases.map.twelve, MAP_AXES);
    const labels = rows(spec).map((r) => String(r.label));
    expect(new Set(labels).size).toBe(12);
    for (const label of labels) expect(label.length).toBeLessThanOrEqual(32);
    const json = JSON.stringify(spec.vegaLite);
    expect(json).toContain('"range":[0,5000]');
    expect(json).toMatch(/"domain":\[0,\d+\]/);
  });

  it('skips points with no members or no position', () => {
    const spec = segmentMap(
      [
        { name: 'ok', x: 1, y: 2, size: 10 },
        { name: 'empty', x: 1, y: 2, size: 0 },
        { name: 'nan', x: Number.NaN, y: 2, size: 10 },
      ],
      MAP_AXES,
    );
    expect(rows(spec).map((r) => r.label)).toEqual(['ok · 10']);
  });
});

describe('every builder', () => {
  const all = (kind: 'realistic' | 'one' | 'twelve' | 'empty') => [
    segmentSizesOverTime(cases.sizes[kind]),
    segmentMap(cases.map[kind], MAP_AXES),
  ];

  it('is pure: same input, same spec', () => {
    expect(JSON.stringify(all('twelve'))).toBe(JSON.stringify(all('twelve')));
  });

  it('uses only Okabe–Ito colours and neutral greys', () => {
    const okabeIto = new Set(['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442']);
    const seen = new Set<string>();
    for (const kind of ['realistic', 'twelve'] as const) {
      for (const spec of all(kind)) {
        for (const colour of JSON.stringify(spec.vegaLite).match(/#[0-9A-Fa-f]{6}\b/g) ?? []) {
          const upper = colour.toUpperCase();
          const grey = upper.slice(1, 3) === upper.slice(3, 5) && upper.slice(3, 5) === upper.slice(5, 7);
          if (!grey) expect(okabeIto).toContain(upper);
          seen.add(upper);
        }
      }
    }
    expect(seen.size).toBeGreaterThan(8);
  });

  it('produces one-line captions and alt text within Slack’s 1,000 characters', () => {
    const huge = Array.from({ length: 200 }, (_, i) => ({
      name: `Segment number ${i} with a long name`,
      x: i,
      y: i,
      size: i + 1,
    }));
    for (const spec of [
      ...all('realistic'),
      ...all('one'),
      ...all('twelve'),
      ...all('empty'),
      segmentMap(huge, MAP_AXES),
    ]) {
      expect(spec.caption).not.toMatch(/\n/);
      expect(spec.alt.length).toBeLessThanOrEqual(1000);
      expect([spec.width, spec.height]).toEqual([1200, 675]);
    }
  });
});

describe('odd input', () => {
  const name = fc.string({ maxLength: 80 });
  const value = fc.oneof(fc.double(), fc.integer({ min: -1e9, max: 1e9 }), fc.constant(0));

  it('never throws and always compiles, whatever the numbers and names', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ name, x: value, y: value, size: value }), { maxLength: 14 }),
        fc.array(
          fc.record({
            weekStart: fc.integer({ min: 0, max: 4e12 }),
            segments: fc.array(fc.record({ name, size: value }), { maxLength: 10 }),
          }),
          { maxLength: 10 },
        ),
        (points, weeks) => {
          const specs = [segmentSizesOverTime(weeks), segmentMap(points, { x: 'x', y: 'y' })];
          for (const spec of specs) {
            expect(spec.caption).not.toMatch(/\n/);
            expect(spec.alt.length).toBeLessThanOrEqual(1000);
            expect(() => compile(spec.vegaLite, { logger: silent as never })).not.toThrow();
          }
        },
      ),
      { numRuns: 60, seed: 7 },
    );
  });
});

const silent = {
  level: () => silent,
  error: () => silent,
  warn: () => silent,
  info: () => silent,
  debug: () => silent,
};

describe('labels', () => {
  it('shortens at a word boundary when close, otherwise mid-word, with an ellipsis', () => {
    expect(shortLabel('High-intent cart abandoners (last 14 days)')).toBe('High-intent cart abandoners…');
    expect(shortLabel('Supercalifragilisticexpialidocious-and-more', 12)).toBe('Supercalifr…');
    expect(shortLabel('  spaced\n out  ')).toBe('spaced out');
    expect(shortLabel('   ')).toBe('(unnamed)');
  });

  it('shows where names that share a long start differ, and numbers exact duplicates', () => {
    expect(uniqueLabels(TWELVE_NAMES.slice(5, 7))).toEqual([
      'Weekend…the Nordics',
      'Weekend…Southern Europe',
    ]);
    expect(uniqueLabels(TWELVE_NAMES.slice(5, 7).map((n) => `${n} hit rate`))).toEqual([
      'Weekend…the Nordics hit rate',
      '…Southern Europe hit rate',
    ]);
    expect(uniqueLabels(['VIP', 'VIP', 'VIP'])).toEqual(['VIP', 'VIP (2)', 'VIP (3)']);
    expect(distinctLabel('short', ['short', 'shorter'])).toBe('short');
  });
});

describe('font metrics', () => {
  it('measures text with the bundled DejaVu advance widths', () => {
    const { regular, bold } = loadChartFonts();
    // DejaVu Sans "M" advances 1767/2048 em; bold is wider; a missing glyph still has a width.
    expect(regular.measure('M', 2048)).toBeCloseTo(1767, 5);
    expect(bold.measure('Members', 15)).toBeGreaterThan(regular.measure('Members', 15));
    expect(regular.measure('中', 15)).toBeGreaterThan(0);
    expect(regular.measure('', 15)).toBe(0);
  });
});
