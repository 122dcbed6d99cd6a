import { describe, expect, it } from 'vitest';
import { buildHelpMessage } from '../../src/blocks/help-message.ts';
import { buildHomeView } from '../../src/blocks/home-view.ts';
import {
  buildSharedMessage,
  buildWorkingMessage,
  shareVerdict,
  withShareButton,
} from '../../src/blocks/share-messages.ts';
import { buildStatsMessage } from '../../src/blocks/stats-message.ts';
import { scheduleStatuses } from '../../src/digest/schedules.ts';
import type { Subcommand } from '../../src/domain/reply.ts';
import type { DigestSchedule, SegmentRun } from '../../src/domain/types.ts';
import type { AudienceStats } from '../../src/engine/stats.ts';
import { assertWithinLimits, findBroadcastMentions, mrkdwnStrings } from '../support/block-limits.ts';
import { commandLine } from '../support/command-line.ts';

// 10 kB of text that tries every trick: a broadcast, a hidden link, entities and an emoji to split.
const HUGE = `<!channel> <https://evil|click> & ${'🙂ab&<>'.repeat(1400)}`;
const NOW = Date.parse('2026-06-01T00:00:00Z');

function hugeStats(): AudienceStats {
  const tallies = Array.from({ length: 50 }, (_, i) => ({
    value: `${i}${HUGE}`,
    count: 500 - i,
    share: 0.001,
  }));
  return {
    asOf: NOW,
    total: 123_456,
    totalWeekAgo: 120_000,
    newThisWeek: 3456,
    newLastWeek: 3000,
    active7d: 50_000,
    activePrevWeek: 48_000,
    active30d: 90_000,
    engagementRate: 0.12,
    engagementBase: 'reach',
    reach30d: 60_000,
    engaged30d: 7200,
    engagements30d: 1,
    views30d: 10,
    purchasers30d: 4000,
    revenue30d: 1_234_567,
    revenuePrev30d: 1_000_000,
    revenuePerUser: 10,
    top: { countries: tallies, platforms: tallies, interests: tallies },
    latestInteraction: NOW - 1000,
  };
}

function hugeRun(): SegmentRun {
  const k = 500;
  return {
    id: 'huge',
    created_at: NOW,
    data_version: 1,
    k,
    features: Array.from({ length: 50 }, (_, i) => `${HUGE}${i}`),
    scaling: 'zscore',
    names: Array.from({ length: k }, (_, i) => `${i}${HUGE}`),
    sizes: Array.from({ length: k }, (_, i) => 1000 + i),
    centroids: [],
    user_ids: [],
    labels: [],
  };
}

function hugeSchedules(): DigestSchedule[] {
  return Array.from({ length: 200 }, (_, i) => ({
    id: `s${i}`,
    channel_id: i % 2 ? `C0${i}` : HUGE,
    owner_id: 'U1',
    cadence: 'weekly',
    weekdays: [0, 1, 2, 3, 4, 5, 6, 7],
    local_time: HUGE,
    time_zone: HUGE,
    paused: i % 3 === 0,
    last_error: HUGE,
    created_at: NOW,
    options: {},
  }));
}

function check(payload: { blocks: unknown[]; text?: string }, surface: 'message' | 'home') {
  const sent = { text: payload.text, blocks: payload.blocks };
  expect(assertWithinLimits(sent.blocks, surface)).toEqual([]);
  expect(findBroadcastMentions(sent)).toEqual([]);
  // Booleans, not the strings: a failure must not print megabytes.
  const linked = mrkdwnStrings(sent).some(([, t]) => t.includes('<https://evil'));
  expect(linked).toBe(false);
}

describe('builders fed huge, hostile input stay within Block Kit limits and escape everything', () => {
  it('stats', () => {
    const reply = buildStatsMessage(hugeStats(), { currency: 'EUR', filter: HUGE });
    check(reply, 'message');
    expect(reply.text.length).toBeLessThanOrEqual(4000);
    const shared = withShareButton(
      reply,
      commandLine('stats'),
      shareVerdict(reply, commandLine('stats'), { minCohortSize: 10 }),
    );
    check(shared, 'message');
  });

  it('help with 500 subcommands', () => {
    const commands: Subcommand[] = Array.from({ length: 500 }, (_, i) => ({
      name: `cmd${i}${HUGE.slice(0, 100)}`,
      summary: HUGE,
      usage: HUGE,
      examples: [HUGE, HUGE],
      run: async () => ({ text: '', blocks: [] }),
    }));
    const reply = buildHelpMessage(commands, { problem: HUGE });
    check(reply, 'message');
    const shared = withShareButton(reply, commandLine('help'), { ok: true });
    expect(shared.blocks).toHaveLength(50);
    check(shared, 'message');
    check(buildSharedMessage(reply, { userId: 'U123', command: HUGE }), 'message');
  });

  it('the Home tab with 500 segments with 10 kB names and 200 schedules', () => {
    const schedules = hugeSchedules();
    const view = buildHomeView({
      stats: hugeStats(),
      meta: { dataVersion: 2, updatedAt: NOW, source: 'import' },
      segmentRun: hugeRun(),
      schedules,
      statuses: scheduleStatuses({ schedules, deliveries: [] }, NOW),
      currency: 'USD',
    });
    check(view, 'home');
    expect(view.blocks.length).toBeLessThanOrEqual(100);
  });

  it('the placeholder and a share of an oversized command', () => {
    check(buildWorkingMessage(HUGE), 'message');
    const reply = buildStatsMessage(hugeStats(), { currency: 'USD' });
    const verdict = shareVerdict(reply, commandLine(`stats where=${'x'.repeat(3000)}`), {
      minCohortSize: 10,
    });
    expect(verdict).toEqual({ ok: false, reason: 'too_long' });
    check(withShareButton(reply, commandLine('stats'), verdict), 'message');
  });
});
