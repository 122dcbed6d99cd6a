import type { KnownBlock } from '@slack/types';
import { formatCompact, formatMoney, formatPercent } from '../domain/format.ts';
import type { Reply } from '../domain/reply.ts';
import type { SegmentRecommendations, UserRecommendations } from '../engine/recommend.ts';
import { capBlocks, context, escapeMrkdwn, fallbackText, header, section } from './kit.ts';

/** Recommendations for one person or one segment (segments are 0-based here and shown 1-based). */
export type RecommendResult = UserRecommendations | SegmentRecommendations;

/** Options of `buildRecommendMessage`; `cached` says whether the model came from the store's cache. */
export interface RecommendMessageOptions {
  currency: string;
  cached?: boolean;
  /** For a segment: the segmentation its number refers to, as replies name it (`the 7 Dec segmentation`). */
  segmentation?: string;
}

/** The `/audience recommend` reply: who it is for, one section per item with score and reason, and how scores work. */
export function buildRecommendMessage(result: RecommendResult, options: RecommendMessageOptions): Reply {
  const isUser = result.kind === 'user';
  const who = isUser
    ? `user ${result.userId}`
    : `segment ${result.segment + 1}${result.segmentName ? ` (${result.segmentName})` : ''}`;
  const blocks: KnownBlock[] = [header(`Recommendations for ${who}`)];

  if (isUser) {
    const segment = result.segmentName ? ` · segment *${escapeMrkdwn(result.segmentName)}*` : '';
    const history =
      result.historyWeight > 0
        ? `picks weigh their own history at ${formatPercent(result.historyWeight, 0)}`
        : 'no product history yet, so picks come from their segment and bestsellers';
    const chance =
      result.propensity === null
        ? `No purchases in the data, so there is no chance to buy to show: products for *${escapeMrkdwn(result.userId)}* are ranked by how likely they are to choose each one${segment}`
        : `Chance *${escapeMrkdwn(result.userId)}* buys anything in the next 30 days: *${formatPercent(result.propensity, 0)}*${segment}`;
    blocks.push(section(`${chance}\n_${history}_`));
  } else {
    const buyers = result.items.reduce((sum, item) => sum + item.expectedBuyers, 0);
    blocks.push(
      section(
        `*${formatCompact(result.size)}* people in *${escapeMrkdwn(result.segmentName)}* · about *${formatCompact(buyers, 0)}* purchases of these ${result.items.length} products expected in the next 30 days`,
      ),
    );
  }

  if (result.items.length === 0) {
    blocks.push(
      section(
        'Nothing to recommend: everything in stock has already been bought here. Restock or add products to the catalogue.',
      ),
    );
  }
  result.items.forEach((item, rank) => {
    const price = formatMoney(item.price, options.currency);
    const score = scorePercent(item.score);
    const buyers =
      'expectedBuyers' in item
        ? ` · ~${formatCompact(item.expectedBuyers, item.expectedBuyers < 10 ? 1 : 0)} expected buyers`
        : '';
    blocks.push(
      section(
        `*${rank + 1}. ${escapeMrkdwn(item.name)}*\n${escapeMrkdwn(item.category)} · ${price} · score *${score}*${buyers}\n_${escapeMrkdwn(item.reason)}_`,
      ),
    );
  });

  const notes = [
    isUser
      ? result.propensity === null
        ? 'Score = chance the next choice is this item (from what people with similar ratings, likes and views chose, shopping taste, the segment and bestsellers). Items already rated, liked or bought and out of stock are left out, unless people re-buy them.'
        : 'Score = chance to buy anything next month × chance the next purchase is this item (from what people with similar purchases, ratings, likes and views chose, shopping taste, the segment and bestsellers). Items already bought, rated or liked and out of stock are left out, unless people re-buy them.'
      : 'Score = average over the segment of (chance to buy next month × chance the next purchase is this item); expected buyers add these up. Items a member already bought, rated or liked are left out for them, unless people re-buy them.',
  ];
  if (!isUser && options.segmentation) {
    const name = result.segmentName ? ` '${escapeMrkdwn(result.segmentName)}'` : '';
    notes.unshift(`Segment ${result.segment + 1}${name} of ${options.segmentation}`);
  }
  if (options.cached !== undefined) notes.push(options.cached ? 'Model: cached' : 'Model: built just now');
  blocks.push(context(notes));

  // The fallback text is parsed for mentions too, so names are escaped there as well.
  const list = result.items
    .map((item) => `${escapeMrkdwn(item.name)} (${scorePercent(item.score)})`)
    .join(', ');
  const target = escapeMrkdwn(who);
  const text =
    result.items.length > 0 ? `Recommendations for ${target}: ${list}` : `No recommendations for ${target}`;
  return { text: fallbackText(text), blocks: capBlocks(blocks), data: result };
}

/** Scores are small probabilities: keep two significant figures instead of rounding them to 0%. */
function scorePercent(score: number): string {
  if (!(score > 0)) return '0%';
  if (score < 0.0001) return '<0.01%';
  if (score < 0.01) return formatPercent(score, 2);
  return formatPercent(score, 1);
}
