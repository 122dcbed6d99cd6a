import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/domain/random.ts';
import { type CategoryCounts, fitTasteClasses, tasteCategoryMix } from '../../src/engine/taste.ts';

/** Users drawn from two planted tastes over three categories, 20 interactions each. */
function planted(users: number): CategoryCounts {
  const tastes = [
    [0.8, 0.15, 0.05],
    [0.05, 0.15, 0.8],
  ];
  const rng = createRng(1);
  const start = [0];
  const cats: number[] = [];
  const counts: number[] = [];
  for (let u = 0; u < users; u++) {
    const taste = tastes[u % 2] as number[];
    const dense = [0, 0, 0];
    for (let e = 0; e < 20; e++) {
      const c = rng.categorical(taste);
      dense[c] = (dense[c] as number) + 1;
    }
    dense.forEach((x, c) => {
      if (x > 0) {
        cats.push(c);
        counts.push(x);
      }
    });
    start.push(cats.length);
  }
  return {
    rows: users,
    start: Int32Array.from(start),
    cats: Int32Array.from(cats),
    counts: Float64Array.from(counts),
  };
}

describe('taste classes', () => {
  it('recovers planted category mixes and recognises a user from a few interactions', () => {
    const classes = fitTasteClasses(planted(400), 3, { classes: 2, seed: 42 });
    expect(classes.prior).toHaveLength(2);
    const rows = [...classes.categoryProbs].sort((a, b) => (b[0] as number) - (a[0] as number));
    expect(rows[0]?.[0]).toBeCloseTo(0.8, 1);
    expect(rows[1]?.[2]).toBeCloseTo(0.8, 1);
    for (const p of classes.prior) expect(p).toBeCloseTo(0.5, 1);
    // Three interactions in category 0 make the user almost surely of the first taste.
    const mix = tasteCategoryMix(classes, Float64Array.from([3, 0, 0]), new Float64Array(3));
    expect(mix[0]).toBeGreaterThan(0.75);
    // No evidence: the audience's mix.
    const none = tasteCategoryMix(classes, new Float64Array(3), new Float64Array(3));
    expect(none[0]).toBeCloseTo(none[2] as number, 1);
    expect(none.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 8);
  });

  it('is deterministic for a seed and falls back to one class with little data', () => {
    const data = planted(400);
    expect(fitTasteClasses(data, 3, { classes: 4, seed: 3 })).toEqual(
      fitTasteClasses(data, 3, { classes: 4, seed: 3 }),
    );
    const small = fitTasteClasses(planted(30), 3, { classes: 8, seed: 3 });
    expect(small.prior).toEqual([1]);
  });
});
