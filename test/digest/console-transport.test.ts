import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderChart } from '../../src/charts/render.ts';
import { segmentSizesOverTime } from '../../src/charts/specs.ts';
import { createConsoleTransport } from '../../src/digest/deliver.ts';

let dir: string;
let cwd: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audience-console-digest-'));
  cwd = process.cwd();
  process.chdir(dir);
});

afterAll(async () => {
  process.chdir(cwd);
  await rm(dir, { recursive: true, force: true });
});

describe('the local console transport', () => {
  it('prints the digest and saves its chart under charts/, saying where', async () => {
    const output = new PassThrough();
    let printed = '';
    output.on('data', (chunk) => {
      printed += chunk;
    });
    const transport = createConsoleTransport(output);
    const posted = await transport.post({
      channel: 'C0GROWTH1',
      key: 'sch_1:2026-06-08',
      text: 'Weekly audience digest',
      blocks: [],
    } as Parameters<typeof transport.post>[0]);
    expect(posted.ts).toBe('sch_1:2026-06-08');
    const chart = await renderChart(
      segmentSizesOverTime([{ weekStart: Date.UTC(2026, 5, 1), segments: [{ name: 'Loyal', size: 40 }] }]),
    );
    const result = await transport.uploadChart?.('C0GROWTH1', posted.ts as string, chart);
    expect(result?.ok).toBe(true);
    const path = join(dir, 'charts', 'segment-sizes-sch_1_2026-06-08.png');
    expect((await readFile(path)).equals(chart.png)).toBe(true);
    expect(printed).toContain('──── Digest to C0GROWTH1 (sch_1:2026-06-08) ────');
    expect(printed).toContain(`saved to ${path}`);
  });
});
