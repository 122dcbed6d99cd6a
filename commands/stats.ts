import { buildStatsMessage } from '../src/blocks/stats-message.ts';
import type { Subcommand } from '../src/domain/reply.ts';
import { type ContentSummary, summarizeContent } from '../src/engine/content-metrics.ts';
import { parseWhere } from '../src/engine/filter.ts';
import { audienceStatsFor } from '../src/queries/results.ts';
import type { CommandDeps } from './deps.ts';
import { checkOptions } from './options.ts';

/**
 * What each stats figure means; `help stats` shows them and the README repeats them. Every window ends at the
 * moment asked (now) and only the people in the (filtered) audience count.
 */
export const STATS_DEFINITIONS: readonly string[] = [
  'Audience: profiles matching the filter; the change compares with the profiles that existed 7 days ago.',
  'New this week: profiles created in the last 7 days (vs the 7 days before).',
  'Active, last 7 / 30 days: people with any interaction in the window, or whose imported last-active date falls in it; the share is of the audience.',
  'Engagement rate, 30 days: people who engaged (liked, shared, commented or clicked) ÷ reach, the people who saw content (a view, or an engagement, which implies seeing it). Each person counts once, so it is never above 100%. Where no views are recorded, reach is unknown and it divides by the audience (followers) instead.',
  'Purchasers, 30 days: people with at least one purchase in the last 30 days; the share is of the audience.',
  'Revenue, 30 days: the sum of purchase values in the last 30 days (vs the 30 days before).',
  'Revenue per user, 30 days: that revenue ÷ everyone in the audience (not only purchasers).',
  'Top countries, platforms, interests: share of the audience with that value; a share below 0.1% reads "<0.1%".',
  'Content on connected platforms: per connection (`audience connect`), the latest insights the platform reports for each post or video (reach, impressions, views, saves…), summed; about content, not people, so shown only without a filter.',
];

/** `/audience stats [where=…]`: the headline numbers for managers. */
export function createStatsCommand({ store, clock, config }: CommandDeps): Subcommand {
  return {
    name: 'stats',
    summary:
      'Quick audience stats: size, new and active people, engagement, purchasers, revenue, top values.',
    usage: '/audience stats [where=field:value,…]',
    examples: [
      '/audience stats',
      '/audience stats where=country:DE',
      '/audience stats where=platform:tiktok,age<30',
    ],
    definitions: STATS_DEFINITIONS,
    async run(args, invocation) {
      checkOptions(args, 'stats', { options: ['where'] });
      const attributes = await store.audience.attributeKinds();
      const filter = args.options.where ? parseWhere(args.options.where, attributes) : null;
      const stats = await audienceStatsFor(store, filter, clock().getTime());
      const content = filter === null ? await contentInsights(store) : [];
      return buildStatsMessage(stats, {
        content,
        currency: config.currency,
        filter: filter?.text ?? null,
        audience: invocation.audience ?? 'private',
        minCohortSize: config.minCohortSize,
      });
    },
  };
}

/** The connected platforms' content insights, read per connection (few connections, one row per metric). */
async function contentInsights(store: CommandDeps['store']): Promise<ContentSummary[]> {
  const connections = await store.connections.list();
  const withMetrics = await Promise.all(
    connections.map(async (c) => ({
      id: c.id,
      kind: c.kind,
      metrics: await store.connections.metrics(c.id),
    })),
  );
  return summarizeContent(withMetrics);
}
