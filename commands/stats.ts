import { buildStatsMessage } from '../src/blocks/stats-message.ts';
import type { Subcommand } from '../src/domain/reply.ts';
import { parseWhere } from '../src/engine/filter.ts';
import { audienceStatsFor } from '../src/queries/results.ts';
import type { CommandDeps } from './deps.ts';
import { checkOptions } from './options.ts';

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
    async run(args, invocation) {
      checkOptions(args, 'stats', { options: ['where'] });
      const attributes = await store.audience.attributeKinds();
      const filter = args.options.where ? parseWhere(args.options.where, attributes) : null;
      const stats = await audienceStatsFor(store, filter, clock().getTime());
      return buildStatsMessage(stats, {
        currency: config.currency,
        filter: filter?.text ?? null,
        audience: invocation.audience ?? 'private',
        minCohortSize: config.minCohortSize,
      });
    },
  };
}
