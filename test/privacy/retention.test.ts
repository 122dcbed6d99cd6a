import { describe, expect, it } from 'vitest';
import type { Interaction } from '../../src/domain/types.ts';
import { createLogger } from '../../src/logger.ts';
import { purgeExpiredInteractions, runRetention, startRetention } from '../../src/privacy/retention.ts';
import { filesIn, NOW, sampleStore, tempDir, testConfig } from './helpers.ts';

const DAY = 86_400_000;

describe('retention', () => {
  it('keeps interactions inside the window and says how many go (pure)', () => {
    const at = (daysAgo: number): Interaction => ({
      user_id: 'u1',
      item_id: null,
      type: 'view',
      value: null,
      timestamp: NOW.getTime() - daysAgo * DAY,
    });
    const data = { interactions: [at(1), at(29), at(31), at(400)] };
    const result = purgeExpiredInteractions(data, NOW.getTime(), 30);
    expect(result.removed).toBe(2);
    expect(result.interactions).toEqual([at(1), at(29)]);
    expect(result.cutoff).toBe(NOW.getTime() - 30 * DAY);
    expect(data.interactions).toHaveLength(4);
  });

  it('purges durably (also from the .bak), bumps the data version, logs and audits', async () => {
    const { dir, cleanup } = await tempDir();
    const config = testConfig(dir, { RETENTION_DAYS: '30' });
    const store = await sampleStore(config, { profiles: 150 });
    try {
      await store.commit(() => undefined);
      const version = store.data.meta.dataVersion;
      const logs: string[] = [];
      const logger = createLogger('info', (line) => logs.push(line));
      const removed = await runRetention({ store, config, clock: () => NOW, logger });
      expect(removed).toBeGreaterThan(0);
      expect(store.data.interactions.every((i) => i.timestamp >= NOW.getTime() - 30 * DAY)).toBe(true);
      expect(store.data.meta.dataVersion).toBe(version + 1);
      expect(store.data.audit.at(-1)).toMatchObject({ actor: 'retention', action: 'retention.purge' });
      expect(logs.join('\n')).toMatch(/retention: purged expired interactions.*"removed":\d+,"days":30/);
      // The .bak is the purged file too, not the copy from before.
      const files = await filesIn(dir);
      expect((files.get('audience.db.bak') as Buffer).equals(files.get('audience.db') as Buffer)).toBe(true);
      expect(await runRetention({ store, config, clock: () => NOW, logger })).toBe(0);
      const timer = startRetention({ store, config, clock: () => NOW, logger, intervalMs: 3_600_000 });
      expect(await timer.runNow()).toBe(0);
      timer.stop();
      const off = startRetention({ store, config: { retentionDays: null }, clock: () => NOW, logger });
      expect(await off.runNow()).toBe(0);
      off.stop();
    } finally {
      await store.close();
      await cleanup();
    }
  });
});
