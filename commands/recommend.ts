import { buildRecommendMessage, type RecommendResult } from '../src/blocks/recommend-message.ts';
import { segmentationName } from '../src/blocks/segments-message.ts';
import { UsageError } from '../src/domain/errors.ts';
import { formatCount } from '../src/domain/format.ts';
import type { Subcommand } from '../src/domain/reply.ts';
import { RecommendError } from '../src/engine/recommend.ts';
import { markPerPerson } from '../src/privacy/cohorts.ts';
import { pseudonymizerFor } from '../src/privacy/pseudonym.ts';
import { resolveUserRef } from '../src/privacy/resolve.ts';
import { personLookupFor } from '../src/queries/people.ts';
import { recommendationModelFor, userRecommendationsFor } from '../src/queries/recommendation.ts';
import { segmentRecommendationsFor } from '../src/queries/results.ts';
import type { CommandDeps } from './deps.ts';
import { checkOptions, oneScope, segmentOption } from './options.ts';
import { defaultRunFor } from './segments.ts';

const OPTIONS = ['user', 'segment', 'n'];
const MAX_ITEMS = 20;

/** `/audience recommend user=<id>|segment=<n> [n=5]`: products to suggest, each with its reason. */
export function createRecommendCommand({ store, clock, config }: CommandDeps): Subcommand {
  return {
    name: 'recommend',
    summary: 'Products to suggest to one person or a whole segment, each with the reason behind it.',
    usage: '/audience recommend user=<id>|segment=<n> [n=5]',
    examples: [
      '/audience recommend user=u000042',
      '/audience recommend segment=2',
      '/audience recommend segment=1 n=10',
    ],
    async run(args) {
      checkOptions(args, 'recommend', { options: OPTIONS });
      const { options } = args;
      oneScope(options);
      if (options.user === undefined && options.segment === undefined) {
        throw new UsageError('say who the recommendations are for: user=<profile id> or segment=<number>');
      }
      let n = 5;
      if (options.n !== undefined) {
        if (!/^\d+$/.test(options.n) || Number(options.n) < 1 || Number(options.n) > MAX_ITEMS) {
          throw new UsageError(`n=${options.n} is not a number from 1 to ${MAX_ITEMS}; try n=5`);
        }
        n = Number(options.n);
      }
      if (options.user?.trim() === '')
        throw new UsageError('user= is empty; give a profile id like user=u000042');
      const segment = segmentOption(options.segment);

      if ((await store.audience.counts()).products === 0) {
        throw new UsageError('the product catalogue is empty: load the sample or import products first');
      }
      const userId = options.user !== undefined ? await personRef(store, options.user, config) : undefined;
      // Segment numbers are the default segmentation's, recomputed when the data changed (queries/segmentation.ts).
      const run =
        segment !== undefined ? await defaultRunFor({ store, clock, config }, clock().getTime()) : undefined;
      if (segment !== undefined && run) {
        if (segment > run.k) {
          throw new UsageError(
            `segment ${segment} does not exist; the latest run has segments 1 to ${run.k}`,
          );
        }
        const size = run.sizes[segment - 1] ?? 0;
        if (size < config.minCohortSize) {
          throw new UsageError(
            `segment ${segment} has ${formatCount(size, 'person', 'people')}; recommendations for groups need at least ${config.minCohortSize}`,
          );
        }
      }

      const query = { minCohortSize: config.minCohortSize };
      let result: RecommendResult;
      let cached: boolean;
      try {
        if (segment !== undefined) {
          const built = await recommendationModelFor(store, clock().getTime());
          cached = built.cached;
          result = await segmentRecommendationsFor(store, built.model, segment - 1, n, query);
        } else {
          const answer = await userRecommendationsFor(store, userId as string, n, clock().getTime(), query);
          ({ result, cached } = answer);
        }
      } catch (error) {
        if (error instanceof RecommendError) throw new UsageError(error.message);
        throw error;
      }
      const reply = buildRecommendMessage(result, {
        currency: config.currency,
        cached,
        ...(run ? { segmentation: segmentationName(run.created_at) } : {}),
      });
      // About one person: the Slack layer keeps it private and never offers to share it.
      return userId !== undefined ? markPerPerson(reply) : reply;
    },
  };
}

/**
 * A profile id or an @handle / e-mail address, matched through its pseudonym (privacy/resolve.ts); a database
 * answers both by index (queries/people.ts), so no one's profiles are read but the person's.
 */
async function personRef(
  store: CommandDeps['store'],
  ref: string,
  config: CommandDeps['config'],
): Promise<string> {
  return resolveUserRef(personLookupFor(store), ref, () => pseudonymizerFor(config), {
    passUnknownIds: true,
  });
}
