import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderChart } from '../../src/charts/render.ts';
import { recommendationLift } from '../../src/charts/specs.ts';
import type { RenderedChart } from '../../src/charts/types.ts';
import { chartFileName, writeChartPng } from '../../src/charts/write.ts';
import { cases } from './fixtures.ts';
import { readIhdr } from './png.ts';

let dir: string;
let chart: RenderedChart;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'charts-write-'));
  chart = await renderChart(recommendationLift(cases.lift.realistic));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeChartPng', () => {
  it('writes to the given file path, creating folders, and returns it', async () => {
    const target = join(dir, 'nested', 'deeper', 'out.png');
    const written = await writeChartPng(chart, target);
    expect(written).toBe(target);
    const bytes = await readFile(written);
    expect(bytes.equals(chart.png)).toBe(true);
    expect(readIhdr(bytes).width).toBe(1200);
  });

  it('adds .png to a path without an extension', async () => {
    expect(await writeChartPng(chart, join(dir, 'lift'))).toBe(join(dir, 'lift.png'));
  });

  it('uses the stable name inside a directory path', async () => {
    const written = await writeChartPng(chart, `${join(dir, 'folder')}/`);
    expect(written).toBe(join(dir, 'folder', chartFileName(chart)));
    expect(chartFileName(chart)).toMatch(/^recommendation-lift-[0-9a-f]{8}\.png$/);
    // An existing directory given without the trailing slash is a directory too.
    expect(await writeChartPng(chart, join(dir, 'folder'))).toBe(written);
  });

  it('defaults to charts/ under the working directory, same data -> same file name', async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const first = await writeChartPng(chart);
      const again = await writeChartPng(await renderChart(recommendationLift(cases.lift.realistic)));
      expect(first).toBe(join(dir, 'charts', chartFileName(chart)));
      expect(again).toBe(first);
      const other = await writeChartPng(await renderChart(recommendationLift(cases.lift.one)));
      expect(other).not.toBe(first);
    } finally {
      process.chdir(cwd);
    }
  });
});
