/**
 * Recommendation quality benchmark: the shipped recommender against a plain, full, well-tuned EASE
 * (test/support/ease-reference.ts), popularity and random, on generated stores with real shapes (MovieLens-like
 * ratings, the same choices as purchases, dense one-category baskets) and the bundled sample, under the three
 * protocols of `audience evaluate recommendations`. Prints P@10 of each and the ratios to popularity and to the
 * reference. Slow by nature (one model build per fold and ranker): `--quick` uses smaller stores and two folds.
 * Run: npx tsx bench/reco-bench.ts [--quick] [--only=movies,baskets,...]
 */
import { performance } from 'node:perf_hooks';
import type { InteractionType } from '../src/domain/types.ts';
import {
  type EvaluateOptions,
  evaluateRecommendations,
  holdOuts,
  precisionAtK,
  targetTypesOf,
} from '../src/engine/evaluate.ts';
import type { RecommendInput } from '../src/engine/recommend.ts';
import { generateCatalogueShape } from '../src/sample/catalogue-shape.ts';
import { generateSample } from '../src/sample/generate.ts';
import { generateShape, OLDER_RATINGS_SHAPE } from '../src/sample/shapes.ts';
import { fitEaseReference } from '../test/support/ease-reference.ts';

const quick = process.argv.includes('--quick');
const only = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice(7)
  .split(',');
const protocols = process.argv
  .find((a) => a.startsWith('--protocols='))
  ?.slice(12)
  .split(',');
/** Options of the generated stores, as JSON (to compare shapes): --shape={"popularitySigma":1.5}. */
const shape = JSON.parse(process.argv.find((a) => a.startsWith('--shape='))?.slice(8) ?? '{}');

interface DataSet {
  name: string;
  make: () => RecommendInput;
}

const SETS: DataSet[] = [
  {
    name: 'movies',
    make: () =>
      generateCatalogueShape({
        kind: 'ratings',
        seed: 1,
        ...(quick ? { users: 1500, items: 1200 } : {}),
        ...shape,
      }),
  },
  {
    name: 'movie-purchases',
    make: () =>
      generateCatalogueShape({
        kind: 'purchases',
        seed: 2,
        ...(quick ? { users: 1500, items: 1200 } : {}),
        ...shape,
      }),
  },
  { name: 'baskets', make: () => generateShape({ kind: 'baskets', seed: 3, users: 1500 }) },
  {
    // The older smooth-taste generator: less collaborative structure than the MovieLens-shaped one.
    name: 'older-ratings',
    make: () => generateShape(OLDER_RATINGS_SHAPE),
  },
  {
    name: 'sample',
    make: () =>
      generateSample({ profiles: quick ? 2000 : 5000, seed: 42, end: new Date('2026-06-01T00:00:00Z') }),
  },
];

const PROTOCOLS: Array<{ name: string; options: EvaluateOptions }> = [
  { name: 'given-5', options: { method: 'given', given: 5, folds: quick ? 2 : 5, seed: 42 } },
  { name: 'time', options: { method: 'time', testDays: 180 } },
  { name: 'hide-2', options: { method: 'hide', hideN: 2, seed: 7 } },
];

/** P@10 of the reference over the same splits evaluate scores. */
function referencePrecision(
  data: RecommendInput,
  options: EvaluateOptions,
): { p10: number; lambdas: number[] } {
  const targets: InteractionType[] = targetTypesOf(data.interactions);
  let sum = 0;
  let users = 0;
  const lambdas: number[] = [];
  for (const split of holdOuts(data, options)) {
    const train = { ...data, interactions: split.train };
    const ref = fitEaseReference(train, split.asOf, targets, options.given ?? 5);
    lambdas.push(ref.lambda);
    for (const [userId, relevant] of split.test) {
      sum += precisionAtK(ref.recommend(userId, 10), relevant, 10);
      users++;
    }
  }
  return { p10: users > 0 ? sum / users : 0, lambdas };
}

function main(): void {
  const lines: string[] = [
    'set              protocol  users  shipped   reference popularity random   ship/pop ref/pop  ship/ref  build s',
  ];
  for (const set of SETS) {
    if (only && !only.includes(set.name)) continue;
    const data = set.make();
    for (const protocol of PROTOCOLS) {
      if (protocols && !protocols.includes(protocol.name)) continue;
      const t = performance.now();
      const r = evaluateRecommendations(data, protocol.options);
      const shippedSec = (performance.now() - t) / 1000;
      const ref = referencePrecision(data, protocol.options);
      const pop = r.popularity.precisionAt10;
      const line = [
        set.name.padEnd(16),
        protocol.name.padEnd(9),
        String(r.users).padStart(6),
        r.ours.precisionAt10.toFixed(4).padStart(9),
        ref.p10.toFixed(4).padStart(10),
        pop.toFixed(4).padStart(10),
        r.random.precisionAt10.toFixed(4).padStart(8),
        (r.ours.precisionAt10 / pop).toFixed(3).padStart(9),
        (ref.p10 / pop).toFixed(3).padStart(8),
        (r.ours.precisionAt10 / ref.p10).toFixed(3).padStart(9),
        shippedSec.toFixed(1).padStart(8),
        ` λ ref ${ref.lambdas.join('/')}`,
      ].join(' ');
      lines.push(line);
      console.log(line);
    }
  }
}

main();
