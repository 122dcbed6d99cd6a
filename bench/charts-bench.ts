/**
 * Chart benchmark: time to render each chart (spec -> SVG -> PNG) for a realistic input and for twelve
 * segments, as the mean of several renders after one warm-up, plus CPU time, the SVG step alone and peak memory.
 * Run: npx tsx bench/charts-bench.ts [renders]
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { renderChart, renderSvg } from '../src/charts/render.ts';
import { segmentMap, segmentSizesOverTime } from '../src/charts/specs.ts';
import type { ChartSpec } from '../src/charts/types.ts';
import { cases, MAP_AXES } from '../test/charts/fixtures.ts';

/** One measured chart and input. */
export interface Row {
  chart: string;
  input: 'realistic' | 'twelve';
  /** Mean full render (Vega-Lite compile, Vega SVG, resvg PNG) over `renders` runs. */
  meanMs: number;
  maxMs: number;
  /** Mean CPU time per render (all threads): steadier than wall time on a busy machine. */
  cpuMs: number;
  /** Mean of the SVG step alone; the rest of `meanMs` is rasterising and PNG encoding. */
  svgMs: number;
  pngKB: number;
  /** Resident set size after this row, and the process's peak so far (resourceUsage().maxRSS). */
  rssMB: number;
  peakRssMB: number;
}

/** The per-render target from the issue. */
export const TARGET_MS = 300;

const CHARTS: Array<[string, (input: Row['input']) => ChartSpec]> = [
  ['segment sizes', (k) => segmentSizesOverTime(cases.sizes[k])],
  ['segment map', (k) => segmentMap(cases.map[k], MAP_AXES)],
];

/** Renders every chart `renders` times per input after one warm-up render and returns the timings. */
export async function runChartsBench(renders = 5): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [chart, build] of CHARTS) {
    for (const input of ['realistic', 'twelve'] as const) {
      const spec = build(input);
      const warm = await renderChart(spec);
      const times: number[] = [];
      const cpuBefore = process.cpuUsage();
      for (let i = 0; i < renders; i++) {
        const started = performance.now();
        await renderChart(build(input));
        times.push(performance.now() - started);
      }
      const cpu = process.cpuUsage(cpuBefore);
      const svgTimes: number[] = [];
      for (let i = 0; i < renders; i++) {
        const started = performance.now();
        await renderSvg(build(input));
        svgTimes.push(performance.now() - started);
      }
      rows.push({
        chart,
        input,
        meanMs: mean(times),
        maxMs: Math.max(...times),
        cpuMs: (cpu.user + cpu.system) / 1000 / renders,
        svgMs: mean(svgTimes),
        pngKB: warm.png.length / 1024,
        rssMB: process.memoryUsage().rss / 2 ** 20,
        // maxRSS is in kilobytes.
        peakRssMB: process.resourceUsage().maxRSS / 1024,
      });
    }
  }
  return rows;
}

/** The printed report: one line per chart and input, then the slowest against the target. */
export function formatChartsBench(rows: readonly Row[]): string {
  const lines = [
    'chart            input        mean ms   max ms   cpu ms   svg ms   png ms   PNG KB   RSS MB   peak RSS MB',
    ...rows.map(
      (r) =>
        `${r.chart.padEnd(16)} ${r.input.padEnd(10)} ${r.meanMs.toFixed(0).padStart(9)} ${r.maxMs.toFixed(0).padStart(8)} ` +
        `${r.cpuMs.toFixed(0).padStart(8)} ` +
        `${r.svgMs.toFixed(0).padStart(8)} ${(r.meanMs - r.svgMs).toFixed(0).padStart(8)} ${r.pngKB.toFixed(0).padStart(8)} ` +
        `${r.rssMB.toFixed(0).padStart(8)} ${r.peakRssMB.toFixed(0).padStart(13)}`,
    ),
    '',
  ];
  const slowest = rows.reduce<Row | undefined>((a, b) => (a && a.meanMs >= b.meanMs ? a : b), undefined);
  if (slowest) {
    lines.push(
      `slowest mean: ${slowest.chart} (${slowest.input}) ${slowest.meanMs.toFixed(0)} ms ` +
        `(target ${TARGET_MS} ms, ${(slowest.meanMs / TARGET_MS).toFixed(2)}x)`,
    );
  }
  return lines.join('\n');
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / Math.max(1, values.length);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const renders = Number(process.argv[2]) > 0 ? Number(process.argv[2]) : undefined;
  console.log(formatChartsBench(await runChartsBench(renders)));
}
