import { describe, expect, it } from 'vitest';
import { normaliseSvgIds, renderChart, renderSvg } from '../../src/charts/render.ts';
import { segmentMap, segmentSizesOverTime } from '../../src/charts/specs.ts';
import type { ChartSpec } from '../../src/charts/types.ts';
import type { Logger } from '../../src/logger.ts';
import { cases, MAP_AXES } from './fixtures.ts';
import { hasIend, readIhdr } from './png.ts';

const KINDS = ['realistic', 'one', 'twelve', 'empty'] as const;

const builders: Record<string, (kind: (typeof KINDS)[number]) => ChartSpec> = {
  segmentSizesOverTime: (k) => segmentSizesOverTime(cases.sizes[k]),
  segmentMap: (k) => segmentMap(cases.map[k], MAP_AXES),
};

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (message: string, context?: Record<string, unknown>) => {
    lines.push(`${message} ${JSON.stringify(context ?? {})}`);
  };
  return { lines, debug: push, info: push, warn: push, error: push };
}

describe.each(Object.keys(builders))('%s', (builderName) => {
  const build = builders[builderName] as (kind: (typeof KINDS)[number]) => ChartSpec;

  it.each(KINDS)('renders a 1200×675 PNG for %s input, without Vega warnings', async (kind) => {
    const spec = build(kind);
    const logger = recordingLogger();
    const chart = await renderChart(spec, { logger });

    const header = readIhdr(chart.png);
    expect(header.width).toBe(1200);
    expect(header.height).toBe(675);
    expect(hasIend(chart.png)).toBe(true);
    expect([chart.width, chart.height]).toEqual([1200, 675]);
    expect(logger.lines).toEqual([]);

    expect(chart.title).toBe(spec.title);
    expect(chart.caption).toBe(spec.caption);
    expect(chart.caption).not.toContain('\n');
    expect(chart.alt.length).toBeGreaterThan(20);
    expect(chart.alt.length).toBeLessThanOrEqual(1000);
    if (kind === 'empty') expect(chart.alt).toContain('no data yet');
  });

  it('draws every piece of text at 14 px or more, in DejaVu Sans, with title and caption', async () => {
    for (const kind of KINDS) {
      const spec = build(kind);
      const svg = await renderSvg(spec);
      const sizes = [...svg.matchAll(/font-size="([\d.]+)px"/g)].map((m) => Number(m[1]));
      expect(sizes.length).toBeGreaterThan(0);
      expect(Math.min(...sizes)).toBeGreaterThanOrEqual(14);
      const families = new Set([...svg.matchAll(/font-family="([^"]+)"/g)].map((m) => m[1]));
      expect([...families]).toEqual(['DejaVu Sans']);
      expect(svg).toContain(`>${escapeXml(spec.title)}<`);
      if (kind === 'empty') expect(svg).toContain('>No data yet<');
    }
  });

  it('gives identical bytes for identical data', async () => {
    const first = await renderChart(build('twelve'));
    const second = await renderChart(build('twelve'));
    expect(second.png.equals(first.png)).toBe(true);
  });
});

describe('renderSvg', () => {
  it('has no ids, timestamps or URLs that could differ between runs or machines', async () => {
    // Render twice in one process: Vega's clip and gradient counters keep counting across views.
    const spec = segmentSizesOverTime(cases.sizes.realistic);
    const a = await renderSvg(spec);
    const b = await renderSvg(spec);
    expect(b).toBe(a);
    expect(a).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:/);
    expect(a).not.toMatch(/https?:\/\/(?!www\.w3\.org\/)/);
  });

  it('does not depend on the host time zone', async () => {
    const spec = segmentSizesOverTime(cases.sizes.realistic);
    const original = process.env.TZ;
    const svgs: string[] = [];
    try {
      for (const zone of ['UTC', 'Pacific/Kiritimati', 'America/Los_Angeles']) {
        process.env.TZ = zone;
        svgs.push(await renderSvg(spec));
      }
    } finally {
      if (original === undefined) delete process.env.TZ;
      else process.env.TZ = original;
    }
    expect(svgs[0]).toContain('>17 Mar<');
    expect(new Set(svgs).size).toBe(1);
  });

  it('gives the same bytes when renders overlap', async () => {
    const spec = segmentMap(cases.map.twelve, MAP_AXES);
    const alone = await renderChart(spec);
    const together = await Promise.all([renderChart(spec), renderChart(spec), renderChart(spec)]);
    for (const chart of together) expect(chart.png.equals(alone.png)).toBe(true);
  });

  it('renumbers element ids in order of appearance, references included', () => {
    const svg =
      '<svg><clipPath id="clip7"><rect/></clipPath><clipPath id="clip12"/>' +
      '<g clip-path="url(#clip12)"/><g clip-path="url(#clip7)"/><use href="#clip7"/></svg>';
    expect(normaliseSvgIds(svg)).toBe(
      '<svg><clipPath id="d0"><rect/></clipPath><clipPath id="d1"/>' +
        '<g clip-path="url(#d1)"/><g clip-path="url(#d0)"/><use href="#d0"/></svg>',
    );
  });

  it('refuses to load anything over the network', async () => {
    const spec = segmentSizesOverTime(cases.sizes.realistic);
    const remote: ChartSpec = {
      ...spec,
      vegaLite: { ...spec.vegaLite, data: { url: 'http://127.0.0.1:9/never.json' } } as ChartSpec['vegaLite'],
    };
    const logger = recordingLogger();
    await renderSvg(remote, { logger }).catch(() => undefined);
    expect(logger.lines.join('\n')).toContain('refused to load');
  });
});

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
