import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCommands } from '../../commands/index.ts';
import type { Router } from '../../commands/router.ts';
import { loadConfig } from '../../src/config.ts';
import type { Invocation } from '../../src/domain/reply.ts';
import { saveReplyFiles } from '../../src/export/save-files.ts';
import { loadSample } from '../../src/sample/load.ts';
import { type FileStore, openStore } from '../../src/store/store.ts';

const NOW = new Date('2026-06-01T09:00:00Z');
const invocation: Invocation = { userId: 'U1', channelId: null, surface: 'cli' };
let dir: string;
let store: FileStore;
let router: Router;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audience-export-'));
  const file = join(dir, 'audience.db');
  store = await openStore({ file, flushDelayMs: 0 });
  await loadSample(store, { profiles: 600, seed: 5, now: NOW });
  router = registerCommands({ store, clock: () => NOW, config: loadConfig({ DATA_FILE: file }) }, (e) => {
    throw e;
  });
});

afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

function csvOf(reply: { files?: Array<{ content: Buffer }> }): Array<Record<string, string>> {
  const content = reply.files?.[0]?.content;
  expect(content).toBeDefined();
  return parse(content as Buffer, { columns: true });
}

describe('/audience export', () => {
  it('asks for segments first, then writes one row per person with segment number and name', async () => {
    expect((await router.dispatch('export segments', invocation)).text).toMatch(
      /run \/audience segments first/,
    );
    await router.dispatch('segments k=4', invocation);
    const reply = await router.dispatch('export segments', invocation);
    const rows = csvOf(reply);
    expect(rows).toHaveLength(600);
    expect(Object.keys(rows[0] ?? {})).toEqual(['id', 'segment', 'segment_name']);
    const run = store.data.segmentRuns.at(-1);
    const first = rows.find((r) => r.id === run?.user_ids[0]);
    expect(Number(first?.segment)).toBe((run?.labels[0] ?? -1) + 1);
    expect(reply.files?.[0]?.filename).toBe('audience-segments-2026-06-01.csv');
    expect(reply.data).toMatchObject({ rows: 600, perPerson: true });
  });

  it('exports predicted spend and top-n recommendations with scores, as CSV or JSON', async () => {
    const predictions = csvOf(await router.dispatch('export predictions', invocation));
    expect(predictions.length).toBeGreaterThan(500);
    for (const row of predictions) expect(Number(row.predicted_spend_next_30d)).toBeGreaterThanOrEqual(0);
    const recommendations = await router.dispatch('export recommendations n=3 format=json', invocation);
    const json = JSON.parse(recommendations.files?.[0]?.content.toString() ?? '[]');
    expect(json).toHaveLength(600);
    expect(Object.keys(json[0])).toEqual([
      'id',
      'segment',
      'item_1',
      'score_1',
      'item_2',
      'score_2',
      'item_3',
      'score_3',
    ]);
    const bought = new Set(
      store.data.interactions
        .filter((i) => i.user_id === json[0].id && i.type === 'purchase')
        .map((i) => i.item_id),
    );
    expect(bought.has(json[0].item_1)).toBe(false);
  });

  it('refuses unknown kinds and options with a reason', async () => {
    expect((await router.dispatch('export everything', invocation)).text).toMatch(
      /segments, predictions, recommendations/,
    );
    expect((await router.dispatch('export segments format=xlsx', invocation)).text).toMatch(
      /use csv or json/,
    );
    expect((await router.dispatch('export segments n=0', invocation)).text).toMatch(/from 1 to 50/);
  });

  it('saves attached files locally without leaving temp files', async () => {
    const reply = await router.dispatch('export segments', invocation);
    const [path] = await saveReplyFiles(reply.files ?? [], join(dir, 'out.csv'));
    expect(path).toBe(join(dir, 'out.csv'));
    expect((await readFile(path as string)).equals(reply.files?.[0]?.content as Buffer)).toBe(true);
  });
});
