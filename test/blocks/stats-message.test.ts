import { describe, expect, it } from 'vitest';
import { buildStatsMessage } from '../../src/blocks/stats-message.ts';
import { computeStats } from '../../src/engine/stats.ts';

const NOON = Date.parse('2026-06-01T12:00:00Z');

describe('the stats reply', () => {
  it('labels UTC times as UTC whatever the machine time zone', () => {
    const tz = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      const profile = {
        id: 'a',
        platform: null,
        country: null,
        created_at: null,
        last_active_at: null,
        followers: null,
        interests: [],
        attrs: {},
      };
      const event = {
        user_id: 'a',
        item_id: null,
        type: 'view' as const,
        value: null,
        timestamp: NOON - 3_600_000,
      };
      const reply = buildStatsMessage(computeStats([profile], [event], { asOf: NOON }), { currency: 'USD' });
      const notes = JSON.stringify(reply.blocks.at(-1));
      expect(notes).toContain('As of 2026-06-01 12:00 UTC');
      expect(notes).toContain('latest activity 2026-06-01 11:00 UTC');
    } finally {
      process.env.TZ = tz;
    }
  });
});
