import { handInteractionColumns } from '../engine/interaction-index.ts';
import type { Store, StoreChange } from '../store/store.ts';
import { generateSample, type SampleData } from './generate.ts';

const HOUR = 3_600_000;

/**
 * Makes a generated sample the whole audience, durably: its profiles, products, interactions and attributes,
 * with no segment runs or models left from other data.
 */
export async function storeSample(
  store: Store,
  sample: SampleData,
  now: Date,
  prepare?: (tx: StoreChange) => Promise<void>,
): Promise<void> {
  // The engine's view of these interactions (built by the warm-up after the load) is then made from the
  // generator's typed columns instead of the event objects: several seconds less at a million profiles.
  handInteractionColumns(sample.interactions, sample.columns);
  await store.change(
    async (tx) => {
      await tx.replaceAudience(sample);
      await prepare?.(tx);
    },
    { now },
  );
}

/**
 * Replaces the audience (profiles, products, interactions) with a freshly generated sample ending at `now`;
 * `prepare` may write more in the same change (the CLI appends its audit entry).
 */
export async function loadSample(
  store: Store,
  options: {
    profiles: number;
    seed: number;
    now: Date;
    /** See `SampleOptions.buyerShare`: unset, the planted scale (about 4% of the profiles buy in a month). */
    buyerShare?: number;
    prepare?: (tx: StoreChange) => Promise<void>;
  },
) {
  // Ending the sample on a whole hour keeps it identical for every "now" within that hour.
  const end = new Date(Math.floor(options.now.getTime() / HOUR) * HOUR);
  const { profiles, seed, buyerShare } = options;
  const sample = generateSample({
    profiles,
    seed,
    end,
    ...(buyerShare === undefined ? {} : { buyerShare }),
  });
  await storeSample(store, sample, options.now, options.prepare);
  return {
    profiles: sample.profiles.length,
    products: sample.products.length,
    interactions: sample.interactions.length,
    end,
  };
}

/**
 * On the first start with an empty store, loads the bundled sample audience so the app answers at once;
 * returns a sentence saying so, or null when the store already had data.
 */
export async function ensureAudience(
  store: Store,
  options: { profiles: number; seed: number; now: Date },
): Promise<string | null> {
  const counts = await store.audience.counts();
  if (counts.profiles > 0 || counts.products > 0 || counts.interactions > 0) return null;
  const loaded = await loadSample(store, options);
  return (
    `The store at ${store.location} was empty, so the sample audience was loaded: ` +
    `${loaded.profiles.toLocaleString('en-US')} profiles, ${loaded.products} products, ` +
    `${loaded.interactions.toLocaleString('en-US')} interactions over 26 weeks (seed ${options.seed}). ` +
    'Import your own data with `audience import profiles FILE`.'
  );
}
