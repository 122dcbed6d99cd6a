/**
 * `audience sample`: makes a generated sample the whole audience. Imported data is never replaced by accident:
 * that takes `--replace`, and every load is audited.
 */
import type { Command } from 'commander';
import { UserError } from '../domain/errors.ts';
import type { AudienceCounts, AudienceMeta } from '../domain/types.ts';
import { appendAudit, auditEntry } from '../privacy/audit.ts';
import type { CliContext } from './context.ts';
import { parseShare, parseWholeNumber } from './options.ts';
import { CLI_ACTOR } from './privacy-commands.ts';

/** Raised when the store holds data of its own (imported) and `--replace` was not given. */
export class SampleRefusedError extends UserError {
  override name = 'SampleRefusedError';
  readonly code = 'sample_refused';
}

interface SampleCommandOptions {
  profiles: number;
  seed: number;
  buyerShare?: number;
  replace: boolean;
}

/** Registers `audience sample [--profiles N] [--seed N] [--buyer-share S] [--replace]`. */
export function registerSampleCommand(program: Command, ctx: CliContext): void {
  const { config, clock } = ctx;
  program
    .command('sample')
    .description('Replace the audience with a generated sample (personas, products, 26 weeks of activity).')
    .option('--profiles <n>', 'number of profiles', parseWholeNumber, config.sample.profiles)
    .option('--seed <n>', 'random seed', parseWholeNumber, config.sample.seed)
    .option(
      '--buyer-share <share>',
      'the share of the profiles that buys in 30 days (0.03 or 3%; default: the planted ~4%)',
      parseShare,
    )
    .option('--replace', 'replace imported data too (it is lost; keep a copy of the data file)', false)
    .action(async (opts: SampleCommandOptions) => {
      const store = await ctx.store();
      const held = describeOwnData(await store.audience.counts(), await store.audience.meta());
      if (held !== null && !opts.replace) {
        throw new SampleRefusedError(
          `${store.location} holds ${held}, which the sample would replace. Run \`audience sample --replace\` to ` +
            'replace it anyway (keep a copy of the data file first), or point DATA_FILE at another file.',
        );
      }
      const { loadSample } = await import('../sample/load.ts');
      const now = clock();
      const buyers =
        opts.buyerShare === undefined ? '' : `, ${+(opts.buyerShare * 100).toFixed(2)}% buyers a month`;
      const detail = `sample loaded (seed ${opts.seed}, ${opts.profiles} profiles${buyers})${held ? `, replacing ${held}` : ''}`;
      const loaded = await loadSample(store, {
        ...opts,
        now,
        prepare: (tx) => appendAudit(tx, auditEntry(CLI_ACTOR, 'sample', detail, now.getTime())),
      });
      process.stdout.write(
        `Loaded the sample audience (seed ${opts.seed}${buyers}): ${loaded.profiles} profiles, ${loaded.products} products, ` +
          `${loaded.interactions} interactions ending ${loaded.end.toISOString()}, into ${store.location}\n`,
      );
    });
}

/** "imported data (1,200 profiles, 40 products, 9,000 interactions)", or null for an empty store or a sample. */
function describeOwnData(counts: AudienceCounts, meta: AudienceMeta): string | null {
  const { profiles, products, interactions } = counts;
  if (profiles + products + interactions === 0) return null;
  if (meta.source === 'sample') return null;
  const n = (count: number) => count.toLocaleString('en-US');
  return `imported data (${n(profiles)} profiles, ${n(products)} products, ${n(interactions)} interactions)`;
}
