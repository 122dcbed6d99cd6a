import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildDigestMessage } from '../../src/blocks/digest-message.ts';
import { buildErrorMessage } from '../../src/blocks/help-message.ts';
import { escapeMrkdwn, FENCE } from '../../src/blocks/kit.ts';
import { renderText } from '../../src/blocks/plain-text.ts';
import { buildRecommendMessage } from '../../src/blocks/recommend-message.ts';
import { buildStatsMessage } from '../../src/blocks/stats-message.ts';
import type { DigestContent } from '../../src/digest/content.ts';
import type { Reply } from '../../src/domain/reply.ts';
import type { UserRecommendations } from '../../src/engine/recommend.ts';
import { computeStats } from '../../src/engine/stats.ts';

// Names as imported data may hold them: words with formatting and control characters anywhere.
const piece = fc.constantFrom('*', '_', '~', '`', '&', '<', '>', ' ', 'Cape', 'bold', 'é', '1', '@here', '!');
const name = fc
  .array(piece, { minLength: 1, maxLength: 12 })
  .map((parts) => parts.join('').trim())
  .filter((s) => /[\p{L}\p{N}]/u.test(s));

/** Every mrkdwn string of a reply: section texts and fields, context elements, and the fallback text. */
function mrkdwnOf(reply: Reply): string[] {
  const out = [reply.text];
  for (const block of reply.blocks) {
    if (block.type === 'section') {
      if (block.text?.type === 'mrkdwn') out.push(block.text.text);
      for (const f of block.fields ?? []) if (f.type === 'mrkdwn') out.push(f.text);
    }
    if (block.type === 'context') for (const e of block.elements) if (e.type === 'mrkdwn') out.push(e.text);
  }
  return out;
}

/** Whether `text` holds `data` only as escaped: no raw control character and no unfenced marker from it. */
function holdsEscaped(reply: Reply, data: string): boolean {
  const escaped = escapeMrkdwn(data);
  return mrkdwnOf(reply).some((t) => t.includes(escaped));
}

function recommendation(product: string, category: string): UserRecommendations {
  return {
    kind: 'user',
    userId: 'u000042',
    propensity: 0.4,
    historyWeight: 0.5,
    segmentName: null,
    items: [
      {
        itemId: 'p1',
        name: product,
        category,
        price: 10,
        score: 0.1,
        pItemGivenUser: 0.1,
        reason: `bought by 38% of people who bought ${product}`,
        reasonKind: 'together',
      },
    ],
  };
}

describe('text from data in mrkdwn', () => {
  it('fences every formatting character at a word edge, and leaves snake_case alone', () => {
    fc.assert(
      fc.property(name, (text) => {
        const escaped = escapeMrkdwn(text);
        expect(escaped).not.toMatch(/[<>]/);
        const bare = escaped.replaceAll(`${FENCE}*${FENCE}`, '').replaceAll(`${FENCE}_${FENCE}`, '');
        const rest = bare.replaceAll(`${FENCE}~${FENCE}`, '').replaceAll(`${FENCE}\`${FENCE}`, '');
        // What is left unfenced sits between letters or digits, where Slack never formats.
        expect(rest).not.toMatch(/(?<![\p{L}\p{N}])[*_~`]|[*_~`](?![\p{L}\p{N}])/u);
      }),
    );
    expect(escapeMrkdwn('*bold* Cape')).toBe(`${FENCE}*${FENCE}bold${FENCE}*${FENCE} Cape`);
    expect(escapeMrkdwn('spend_next_30d')).toBe('spend_next_30d');
  });

  it('is escaped in recommendation, stats and error replies, and reads as typed in the console', () => {
    fc.assert(
      fc.property(name, name, (product, country) => {
        const reco = buildRecommendMessage(recommendation(product, country), { currency: 'USD' });
        expect(holdsEscaped(reco, product)).toBe(true);
        expect(renderText(reco)).toContain(product);

        const profile = {
          id: 'a',
          platform: null,
          country,
          created_at: null,
          last_active_at: null,
          followers: null,
          interests: [product],
          attrs: {},
        };
        const stats = buildStatsMessage(computeStats([profile], [], { asOf: 0 }), {
          currency: 'USD',
          filter: `country:${country}`,
        });
        expect(holdsEscaped(stats, country)).toBe(true);
        expect(holdsEscaped(stats, product)).toBe(true);
        expect(renderText(stats)).toContain(product);

        const error = buildErrorMessage(`unknown user "${product}"`);
        expect(holdsEscaped(error, product)).toBe(true);
        expect(renderText(error)).toContain(`unknown user "${product}"`);
      }),
      { numRuns: 200 },
    );
  });

  it("is escaped in a digest's top picks, which come from imported product names", () => {
    const short = name.filter((s) => escapeMrkdwn(s).length <= 40);
    fc.assert(
      fc.property(short, (product) => {
        const digest = buildDigestMessage(digestWithTopPick(product), {
          scheduleId: 'sch_1',
          cadence: 'weekly',
          timeZone: 'Europe/Berlin',
          dueAt: null,
          lateByMs: 0,
          currency: 'USD',
          minCohortSize: 10,
        });
        expect(holdsEscaped(digest as Reply, product)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps a mention the app wrote in a refusal a mention', () => {
    const reply = buildErrorMessage(
      'only the owner of sch_1 (<@U0OWNER1>) or an admin can pause it; ask them',
    );
    expect(mrkdwnOf(reply)[1]).toContain('(<@U0OWNER1>)');
    expect(JSON.stringify(reply.blocks)).not.toContain('&lt;@');
  });
});

function digestWithTopPick(product: string): DigestContent {
  const now = Date.UTC(2026, 5, 1);
  return {
    configKey: 'k=auto',
    dataVersion: 1,
    asOf: now,
    latestInteraction: now,
    updatedAt: now,
    source: 'import',
    hasData: true,
    totals: {
      total: 500,
      totalWeekAgo: 480,
      newThisWeek: 20,
      newLastWeek: 30,
      active7d: 300,
      activePrevWeek: 290,
      purchasers30d: 40,
      revenue30d: 2800,
      revenuePrev30d: 3000,
    },
    k: 1,
    segments: [
      {
        index: 0,
        name: 'Regulars',
        size: 500,
        share: 1,
        previous: null,
        predictedRevenue: 900,
        topProducts: [product],
      },
    ],
    movements: [],
    vanished: [],
    comparedWith: null,
    runCreatedAt: now,
    notes: [],
    sizesOverTime: [],
    detailsCommand: 'segments',
  };
}
