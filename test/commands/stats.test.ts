import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommand } from '../../commands/parse.ts';
import { createStatsCommand } from '../../commands/stats.ts';
import { loadConfig } from '../../src/config.ts';
import { newConnectionRecord } from '../../src/connectors/connections.ts';
import type { Invocation, Reply, Subcommand } from '../../src/domain/reply.ts';
import { generateSample } from '../../src/sample/generate.ts';
import { storeSample } from '../../src/sample/load.ts';
import { type FileStore, openStore } from '../../src/store/store.ts';

const END = new Date('2026-06-01T00:00:00Z');
const invocation: Invocation = { userId: 'U1', channelId: 'C1', surface: 'console' };

let dir: string;
let store: FileStore;
let command: Subcommand;

function run(text: string): Promise<Reply> {
  return command.run(parseCommand(`/audience ${text}`), invocation);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audience-stats-'));
  store = await openStore({ file: join(dir, 'audience.db'), flushDelayMs: 0, onNotice: () => undefined });
  const config = loadConfig({ DATA_FILE: join(dir, 'audience.db') });
  command = createStatsCommand({ store, clock: () => new Date(END.getTime() + 3_600_000), config });
  await storeSample(store, generateSample({ profiles: 400, seed: 42, end: END }), END);
});

afterAll(async () => {
  await store?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const text = (reply: Reply) =>
  reply.blocks.map((b) => (b.type === 'section' ? (b.text?.text ?? '') : '')).join('\n');

describe('/audience stats', () => {
  it('shows no content section while no platform is connected', async () => {
    const reply = await run('stats');
    expect(text(reply)).not.toContain('Content on connected platforms');
    expect((reply.data as { content: unknown[] }).content).toEqual([]);
  });

  it("shows the connected platforms' content insights, summed per connection, without a filter only", async () => {
    const at = END.getTime() - 3_600_000;
    await store.change(async (tx) => {
      await tx.putConnection(newConnectionRecord('brand-ig', 'instagram', 'U1', END.getTime()));
      await tx.putConnection(newConnectionRecord('shop', 'shopify', 'U1', END.getTime()));
      await tx.putMetrics([
        { connection_id: 'brand-ig', content_id: 'instagram:m1', name: 'reach', value: 1200, at },
        { connection_id: 'brand-ig', content_id: 'instagram:m2', name: 'reach', value: 800, at },
        { connection_id: 'brand-ig', content_id: 'instagram:m1', name: 'impressions', value: 2500, at },
        { connection_id: 'brand-ig', content_id: 'instagram:m2', name: 'saves', value: 12, at },
      ]);
    });
    const reply = await run('stats');
    expect(text(reply)).toContain(
      "*Content on connected platforms* (the platforms' latest insights, summed)",
    );
    expect(text(reply)).toContain(
      '• brand-ig (instagram): 2 posts · reach 2k · impressions 2.5k · saves 12 (as of',
    );
    expect(text(reply)).not.toContain('shop (shopify)');
    const filtered = await run('stats where=country:DE');
    expect(text(filtered)).not.toContain('Content on connected platforms');
  });
});
