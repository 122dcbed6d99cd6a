import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCommands } from '../../commands/index.ts';
import type { Router } from '../../commands/router.ts';
import { buildDigestMessage } from '../../src/blocks/digest-message.ts';
import { buildSegmentsMessage } from '../../src/blocks/segments-message.ts';
import { shareVerdict } from '../../src/blocks/share-messages.ts';
import type { DigestContent } from '../../src/digest/content.ts';
import type { Invocation } from '../../src/domain/reply.ts';
import type { Interaction, Profile } from '../../src/domain/types.ts';
import type { SegmentResult } from '../../src/engine/segments.ts';
import { changeVisible, cohortCount, suppressSmallCohorts } from '../../src/privacy/cohorts.ts';
import { type FileStore, markAudienceChanged } from '../../src/store/store.ts';
import { commandLine } from '../support/command-line.ts';
import { NOW, sampleStore, tempDir, testConfig, visible } from './helpers.ts';

const DAY = 86_400_000;
const PRIVATE: Invocation = { userId: 'U0MEMBER1', channelId: 'C0001', surface: 'slack' };
const CHANNEL: Invocation = { ...PRIVATE, audience: 'channel' };

let cleanup: () => Promise<void>;
let store: FileStore;
let router: Router;

/** 120 people, all active this month; exactly 7 joined this week and exactly 7 bought something. */
function sevenPersonCohorts(): { profiles: Profile[]; interactions: Interaction[] } {
  const now = NOW.getTime();
  const profiles: Profile[] = [];
  const interactions: Interaction[] = [];
  for (let i = 0; i < 120; i++) {
    const id = `p${String(i).padStart(4, '0')}`;
    profiles.push({
      id,
      platform: i < 60 ? 'instagram' : 'tiktok',
      country: i < 3 ? 'LI' : 'DE',
      created_at: i < 7 ? now - 2 * DAY : now - 200 * DAY,
      last_active_at: now - DAY,
      followers: 100 + i,
      interests: ['sports'],
      attrs: {},
    });
    interactions.push({ user_id: id, item_id: null, type: 'view', value: null, timestamp: now - 3 * DAY });
    if (i >= 50 && i < 57) {
      interactions.push({
        user_id: id,
        item_id: 'sku1',
        type: 'purchase',
        value: 40,
        timestamp: now - 5 * DAY,
      });
    }
  }
  return { profiles, interactions };
}

beforeAll(async () => {
  const temp = await tempDir();
  cleanup = temp.cleanup;
  const config = testConfig(temp.dir);
  store = await sampleStore(config);
  const { profiles, interactions } = sevenPersonCohorts();
  await store.commit((d) => {
    d.profiles = profiles;
    d.interactions = interactions;
    d.products = [{ id: 'sku1', name: 'Shoe', category: 'shoes', price: 40, in_stock: true }];
    markAudienceChanged(d, NOW, 'import');
  });
  router = registerCommands({ store, clock: () => NOW, config }, (error) => {
    throw error;
  });
});

afterAll(async () => {
  await store.close();
  await cleanup();
});

describe('small-cohort suppression', () => {
  it('shows "fewer than 10" instead of counts under the minimum, only for channels', () => {
    const channel = { audience: 'channel', minCohortSize: 10 } as const;
    expect(cohortCount(7, channel)).toBe('fewer than 10');
    expect(cohortCount(12, channel)).toBe('12');
    expect(cohortCount(7, { ...channel, audience: 'private' })).toBe('7');
    // A change of 3 people between two large counts would reveal those 3.
    expect(changeVisible(503, 500, channel)).toBe(false);
    expect(changeVisible(560, 500, channel)).toBe(true);
    expect(suppressSmallCohorts({ a: 7, b: 12, c: 'x' }, ['a', 'b'], 10)).toEqual({
      a: null,
      b: 12,
      c: 'x',
      suppressed: ['a'],
    });
  });

  it('a shared stats reply shows "fewer than 10" for a 7-person cohort and hides what it would reveal', async () => {
    const shared = await router.dispatch('stats', CHANNEL);
    const text = visible(shared);
    expect(text).toContain('*New this week*\\nfewer than 10');
    expect(text).toContain('*Purchasers, 30 days*\\nfewer than 10');
    expect(text).toContain('not shown (fewer than 10 purchasers)');
    expect(text).not.toContain('$280');
    expect(text).not.toContain('LI ');
    expect(shared.data).toMatchObject({
      newThisWeek: null,
      purchasers30d: null,
      revenue30d: null,
      cohortSize: 120,
    });
    for (const block of shared.blocks) expect(JSON.stringify(block)).not.toMatch(/\\n7\b/);
    expect(shareVerdict(shared, commandLine('stats'), { minCohortSize: 10 })).toEqual({ ok: true });

    const mine = await router.dispatch('stats', PRIVATE);
    expect(visible(mine)).toContain('*Purchasers, 30 days*\\n7');
    expect(visible(mine)).toContain('$280');
  });

  it('a shared segments reply flags a 7-person segment and shows no figure about it', () => {
    const result: SegmentResult = {
      k: 3,
      features: ['monetary'],
      scaling: 'zscore',
      segments: [
        {
          index: 0,
          name: 'Big spenders',
          size: 100,
          share: 100 / 157,
          revenueShare: 0.6,
          traits: [],
          centroid: [1],
        },
        {
          index: 1,
          name: 'Browsers',
          size: 50,
          share: 50 / 157,
          revenueShare: 0.3,
          traits: [],
          centroid: [0],
        },
        {
          index: 2,
          name: 'Whales',
          size: 7,
          share: 7 / 157,
          revenueShare: 0.1,
          traits: [{ feature: 'monetary', text: 'spend $4,100 on average', z: 3 }],
          centroid: [5],
        },
      ],
      labels: new Int32Array(0),
      userIds: new Array<string>(157).fill('x'),
      total: 157,
      quality: { silhouette: 0.5, betweenOverTotal: 0.7, withinSS: 1 },
      sampled: null,
      imputed: {},
    };
    const shared = buildSegmentsMessage(result, {
      command: 'segments',
      audience: 'channel',
      minCohortSize: 10,
    });
    const text = visible(shared);
    expect(text).toContain('*3. Whales*: fewer than 10 people');
    expect(text).toContain('small segment (under 10 people)');
    expect(text).not.toContain('$4,100');
    expect(text).not.toMatch(/Whales \(\d/);
    expect(
      (shared.data as { segments: Array<{ size: number | null; small: boolean }> }).segments[2],
    ).toMatchObject({
      size: null,
      small: true,
    });
    const mine = buildSegmentsMessage(result, { command: 'segments', minCohortSize: 10 });
    expect(visible(mine)).toContain('*3. Whales*: 7 people');
    expect(visible(mine)).toContain('hidden when shared to a channel');
  });

  it('a digest shows "fewer than 10" for a 7-person segment and for 7 new people', () => {
    const content: DigestContent = {
      configKey: 'k=auto',
      dataVersion: 1,
      asOf: NOW.getTime(),
      latestInteraction: NOW.getTime(),
      updatedAt: NOW.getTime(),
      source: 'import',
      hasData: true,
      totals: {
        total: 157,
        totalWeekAgo: 150,
        newThisWeek: 7,
        newLastWeek: 30,
        active7d: 120,
        activePrevWeek: 118,
        purchasers30d: 7,
        revenue30d: 280,
        revenuePrev30d: 300,
      },
      k: 2,
      segments: [
        {
          index: 0,
          name: 'Regulars',
          size: 150,
          share: 150 / 157,
          previous: null,
          predictedRevenue: 900,
          topProducts: [],
        },
        {
          index: 1,
          name: 'Whales',
          size: 7,
          share: 7 / 157,
          previous: null,
          predictedRevenue: 4100,
          topProducts: [],
        },
      ],
      movements: [],
      vanished: [],
      comparedWith: null,
      runCreatedAt: NOW.getTime(),
      notes: [],
      sizesOverTime: [],
      detailsCommand: 'segments',
    };
    const digest = buildDigestMessage(content, {
      scheduleId: 'sch_1',
      cadence: 'weekly',
      timeZone: 'Europe/Berlin',
      dueAt: null,
      lateByMs: 0,
      currency: 'USD',
      minCohortSize: 10,
    });
    const text = JSON.stringify([digest.text, digest.blocks]);
    expect(text).toContain('*New this week*\\nfewer than 10');
    expect(text).toContain('*2. Whales*: fewer than 10');
    expect(text).not.toContain('$4.1k');
    expect(text).not.toContain('$280');
  });

  it('per-person answers are marked and never offered for sharing', async () => {
    const reply = await router.dispatch('recommend user=p0051 n=3', PRIVATE);
    expect(reply.data).toMatchObject({ perPerson: true, userId: 'p0051' });
    expect(shareVerdict(reply, commandLine('recommend user=p0051 n=3'), { minCohortSize: 10 })).toMatchObject(
      {
        ok: false,
        reason: 'per_person',
      },
    );
  });
});
