import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/blocks/kit.ts';
import { buildRecommendMessage } from '../../src/blocks/recommend-message.ts';
import type { SegmentRecommendations, UserRecommendations } from '../../src/engine/recommend.ts';
import { assertWithinLimits } from '../support/block-limits.ts';

function userResult(count: number, name: (k: number) => string): UserRecommendations {
  return {
    kind: 'user',
    userId: 'u000042',
    propensity: 0.42,
    historyWeight: 0.8,
    segmentName: 'Bargain hunters',
    items: Array.from({ length: count }, (_, k) => ({
      itemId: `p${k}`,
      name: name(k),
      category: 'sports',
      price: 49.99 + k,
      score: 0.03 / (k + 1),
      pItemGivenUser: 0.07 / (k + 1),
      reason: `bought by 38% of people who bought ${name(k)}`,
      reasonKind: 'together' as const,
    })),
  };
}

function segmentResult(count: number, name: (k: number) => string): SegmentRecommendations {
  return {
    kind: 'segment',
    segment: 1,
    segmentName: 'Young trendsetters',
    size: 1234,
    items: Array.from({ length: count }, (_, k) => ({
      itemId: `p${k}`,
      name: name(k),
      category: 'fashion',
      price: 20 + k,
      score: 0.01 / (k + 1),
      reason: 'popular in fashion, a top category for this segment',
      reasonKind: 'taste' as const,
      expectedBuyers: 12.3 / (k + 1),
    })),
  };
}

/** Everything Slack parses as mrkdwn: the fallback text and every block but plain-text headers. */
function allText(reply: { text: string; blocks: Array<{ type: string }> }): string {
  return `${reply.text}\n${JSON.stringify(reply.blocks.filter((b) => b.type !== 'header'))}`;
}

describe('buildRecommendMessage', () => {
  it('shows one section per item with name, category, price, score and reason', () => {
    const reply = buildRecommendMessage(
      userResult(3, (k) => `Trail Runner ${k}`),
      { currency: 'USD' },
    );
    expect(assertWithinLimits(reply.blocks, 'message')).toEqual([]);
    expect(reply.blocks[0]).toMatchObject({
      type: 'header',
      text: { text: 'Recommendations for user u000042' },
    });
    const sections = reply.blocks
      .filter((b) => b.type === 'section')
      .map((b) => (b.type === 'section' ? b.text?.text : ''));
    expect(sections[0]).toContain('*42%*');
    expect(sections[0]).toContain('Bargain hunters');
    expect(sections[1]).toBe(
      '*1. Trail Runner 0*\nsports · $49.99 · score *3%*\n_bought by 38% of people who bought Trail Runner 0_',
    );
    expect(sections[3]).toContain('score *1%*');
    expect(reply.blocks.at(-1)?.type).toBe('context');
    expect(JSON.stringify(reply.blocks.at(-1))).toContain('Score = chance to buy anything next month');
    expect(reply.text).toBe(
      'Recommendations for user u000042: Trail Runner 0 (3%), Trail Runner 1 (1.5%), Trail Runner 2 (1%)',
    );
    expect(reply.data).toEqual(userResult(3, (k) => `Trail Runner ${k}`));
  });

  it('keeps small scores readable instead of rounding them to 0%', () => {
    const result = userResult(1, () => 'Mug');
    (result.items[0] as { score: number }).score = 0.00042;
    const reply = buildRecommendMessage(result, { currency: 'EUR' });
    expect(allText(reply)).toContain('score *0.04%*');
    expect(allText(reply)).toContain('€49.99');
  });

  it('stays within Block Kit limits with 20 items and very long names', () => {
    const long = (k: number) => `${'Ultralight '.repeat(600)}${k}`;
    for (const reply of [
      buildRecommendMessage(userResult(20, long), { currency: 'USD', cached: true }),
      buildRecommendMessage(segmentResult(20, long), { currency: 'USD', cached: false }),
    ]) {
      expect(assertWithinLimits(reply.blocks, 'message')).toEqual([]);
      expect(reply.blocks.length).toBeLessThanOrEqual(LIMITS.messageBlocks);
      expect(reply.blocks.filter((b) => b.type === 'section').length).toBe(21);
      expect(reply.text.length).toBeLessThanOrEqual(LIMITS.fallbackText);
    }
  });

  it('escapes product names, reasons, segment names and ids, in blocks and fallback text', () => {
    const evil = userResult(2, () => '<!channel> Deal & <https://evil.example|click>');
    evil.userId = '<@U123>';
    evil.segmentName = '<!here>';
    const reply = buildRecommendMessage(evil, { currency: 'USD' });
    const text = allText(reply);
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<!here>');
    expect(text).not.toContain('<https://');
    expect(text).not.toContain('<@U123>');
    expect(text).toContain('&lt;!channel&gt; Deal &amp; &lt;https://evil.example|click&gt;');
    const seg = buildRecommendMessage(
      segmentResult(1, () => '<!channel>'),
      { currency: 'USD' },
    );
    expect(allText(seg)).not.toContain('<!channel>');
  });

  it('shows segments 1-based with size and expected buyers', () => {
    const reply = buildRecommendMessage(
      segmentResult(2, (k) => `Dress ${k}`),
      { currency: 'USD' },
    );
    expect(reply.blocks[0]).toMatchObject({
      text: { text: 'Recommendations for segment 2 (Young trendsetters)' },
    });
    const text = allText(reply);
    expect(text).toContain('*1.2k* people in *Young trendsetters*');
    expect(text).toContain('~12 expected buyers');
    expect(text).toContain('~6.2 expected buyers');
  });

  it('says why there is nothing to show when every item is excluded', () => {
    const reply = buildRecommendMessage(
      userResult(0, () => ''),
      { currency: 'USD' },
    );
    expect(assertWithinLimits(reply.blocks, 'message')).toEqual([]);
    expect(allText(reply)).toContain('Nothing to recommend');
    expect(reply.text).toBe('No recommendations for user u000042');
  });
});
