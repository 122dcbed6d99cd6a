import { describe, expect, it } from 'vitest';
import { holdOuts, precisionAtK, targetTypesOf } from '../../src/engine/evaluate.ts';
import { buildRecommendModel, recommendForUser } from '../../src/engine/recommend.ts';
import { generateCatalogueShape } from '../../src/sample/catalogue-shape.ts';
import { fitEaseReference } from '../support/ease-reference.ts';

/** Per test user, P@10 of the shipped recommender and of the reference EASE on the same given-N splits. */
function paired(data: ReturnType<typeof generateCatalogueShape>) {
  const shipped: number[] = [];
  const reference: number[] = [];
  const targets = targetTypesOf(data.interactions);
  for (const split of holdOuts(data, { method: 'given', given: 5, folds: 2, seed: 42 })) {
    const train = { ...data, interactions: split.train };
    const model = buildRecommendModel(train, { asOf: split.asOf });
    const ref = fitEaseReference(train, split.asOf, targets, 5);
    for (const userId of [...split.test.keys()].sort()) {
      const relevant = split.test.get(userId) as Set<string>;
      shipped.push(
        precisionAtK(
          recommendForUser(model, train, userId, 10).items.map((r) => r.itemId),
          relevant,
          10,
        ),
      );
      reference.push(precisionAtK(ref.recommend(userId, 10), relevant, 10));
    }
  }
  return { shipped, reference };
}

describe('the shipped recommender against a full, tuned EASE (test/support/ease-reference.ts)', () => {
  it('beats it by at least 1.5% under given-5 on a MovieLens-shaped ratings store', () => {
    // Measured: shipped P@10 0.6511 vs the reference's 0.6287 (+3.6%, paired standard error 0.5%), popularity 0.58.
    // Plain EASE with λ and blend chosen apart for short histories was 0.6294 (+0.1%), with one λ for every
    // length 0.617 (−1.9%); short queries now take the denoising fit (EDLAE, a dropout rate chosen by validation).
    const data = generateCatalogueShape({ kind: 'ratings', seed: 5, users: 1500, items: 600 });
    const { shipped, reference } = paired(data);
    const diffs = shipped.map((s, k) => s - (reference[k] as number));
    const mean = diffs.reduce((a, b) => a + b, 0) / diffs.length;
    const sd = Math.sqrt(diffs.reduce((a, d) => a + (d - mean) ** 2, 0) / (diffs.length - 1));
    const meanRef = reference.reduce((a, b) => a + b, 0) / reference.length;
    expect(diffs.length).toBeGreaterThan(1400);
    expect(mean - 2 * (sd / Math.sqrt(diffs.length))).toBeGreaterThanOrEqual(0.015 * meanRef);
    expect(meanRef).toBeGreaterThan(0.4);
    // Four model fits on 1,500 people: about 25 s alone, more on a busy machine.
  }, 240_000);
});
