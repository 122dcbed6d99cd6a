/** Saves a rendered chart as a PNG file, for the CLI/console (`--chart out.png`) and for looking at locally. */
import { createHash } from 'node:crypto';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import type { RenderedChart } from './types.ts';

/** Where charts go when no path is given; gitignored. */
export const DEFAULT_CHART_DIR = 'charts';

/**
 * Writes the PNG to `path` (a file, or an existing directory / a path ending in "/"), or to `charts/` under the
 * working directory, creating folders as needed. The default name is the chart's kind plus a hash of the
 * bytes (`segment-sizes-3f2a9c1b.png`): the same data always lands in the same file, new data never
 * overwrites an old picture. Returns the absolute path written.
 */
export async function writeChartPng(chart: RenderedChart, path?: string): Promise<string> {
  const target = await targetPath(chart, path);
  await mkdir(dirname(target), { recursive: true });
  // Write then rename, so a reader (or a crash) never sees half a PNG.
  const temp = `${target}.${process.pid}.tmp`;
  await writeFile(temp, chart.png);
  await rename(temp, target);
  return target;
}

/** The stable file name for a chart: `<name>-<first 8 hex of sha256(png)>.png`. */
export function chartFileName(chart: RenderedChart): string {
  const hash = createHash('sha256').update(chart.png).digest('hex').slice(0, 8);
  return `${chart.name}-${hash}.png`;
}

async function targetPath(chart: RenderedChart, path: string | undefined): Promise<string> {
  if (path === undefined || path === '') return resolve(DEFAULT_CHART_DIR, chartFileName(chart));
  if (/[\\/]$/.test(path) || (await isDirectory(path))) return resolve(path, chartFileName(chart));
  return resolve(extname(path) ? path : `${path}.png`);
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
