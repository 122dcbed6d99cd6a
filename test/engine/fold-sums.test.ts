import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/domain/random.ts';
import { constantColumns, foldCrossProducts, foldSums, hasMissing } from '../../src/engine/fold-sums.ts';

/** Centred cross-products of the rows `rows`, missing values filled with `medians`: the plain way. */
function reference(
  columns: Float64Array[],
  y: Float64Array,
  rows: number[],
  keep: number[],
  medians: number[],
) {
  const x = keep.map((j) =>
    rows.map((i) => {
      const v = columns[j]?.[i] as number;
      return Number.isNaN(v) ? (medians[j] as number) : v;
    }),
  );
  const ys = rows.map((i) => y[i] as number);
  const n = rows.length;
  const avg = (v: number[]) => v.reduce((a, b) => a + b, 0) / n;
  const means = x.map(avg);
  const yMean = avg(ys);
  const centred = x.map((col, k) => col.map((v) => v - (means[k] as number)));
  const dot = (a: number[], b: number[]) => a.reduce((s, v, r) => s + v * (b[r] as number), 0);
  const yc = ys.map((v) => v - yMean);
  return {
    n,
    means,
    yMean,
    sxx: centred.map((a) => centred.map((b) => dot(a, b))),
    sxy: centred.map((a) => dot(a, yc)),
    syy: dot(yc, yc),
  };
}

describe('foldSums', () => {
  it("gives each fold's training cross-products for any medians, as the imputed rows would", () => {
    const rng = createRng(3);
    const n = 400;
    const columns = [
      Float64Array.from({ length: n }, () => 1000 + rng.normal(0, 30)),
      Float64Array.from({ length: n }, () => (rng.bernoulli(0.3) ? Number.NaN : rng.normal(5, 2))),
      Float64Array.from({ length: n }, () => (rng.bernoulli(0.6) ? Number.NaN : rng.int(0, 10))),
      Float64Array.from({ length: n }, () => (rng.bernoulli(0.5) ? 1 : 0)),
    ];
    const y = Float64Array.from({ length: n }, (_, i) => 3 * (columns[0]?.[i] as number) + rng.normal(0, 5));
    const folds = 4;
    const foldOf = Uint8Array.from({ length: n }, () => rng.int(0, folds - 1));
    const names = ['a', 'b', 'c', 'd'];
    const sums = foldSums(names, columns, y, foldOf, folds, [1000, 5, 4, 0]);
    for (let f = 0; f < folds; f++) {
      const rows = Array.from({ length: n }, (_, i) => i).filter((i) => foldOf[i] !== f);
      const medians = [0, 4.5 + f, 3, 0];
      const keep = [0, 1, 2, 3];
      const got = foldCrossProducts(sums, f, keep, medians);
      const want = reference(columns, y, rows, keep, medians);
      const close = (a: number, b: number): void => {
        expect(Math.abs(a - b), `${a} vs ${b}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(b)));
      };
      expect(got.n).toBe(want.n);
      close(got.yMean, want.yMean);
      close(got.syy, want.syy);
      for (const [k, m] of got.means.entries()) close(m, want.means[k] as number);
      for (const [k, v] of got.sxy.entries()) close(v, want.sxy[k] as number);
      for (const [a, row] of got.sxx.entries())
        for (const [b, v] of row.entries()) close(v, want.sxx[a]?.[b] as number);
      expect(got.imputed).toEqual(
        keep.map((j) => rows.filter((i) => Number.isNaN(columns[j]?.[i] as number)).length),
      );
      expect(hasMissing(sums, f, 0)).toBe(false);
      expect(hasMissing(sums, f, 1)).toBe(true);
      // A subset of the columns gives the matching sub-block.
      const sub = foldCrossProducts(sums, f, [2, 0], medians);
      close(sub.sxx[0]?.[1] as number, want.sxx[2]?.[0] as number);
      expect(sub.names).toEqual(['c', 'a']);
    }
  });

  it('flags columns that are constant or never observed on a fold’s training rows', () => {
    const n = 30;
    const foldOf = Uint8Array.from({ length: n }, (_, i) => i % 3);
    // Varies only inside fold 0, so the training rows of fold 0 see a constant.
    const onlyFold0 = Float64Array.from({ length: n }, (_, i) => (i % 3 === 0 ? i : 7));
    const missingOutsideFold1 = Float64Array.from({ length: n }, (_, i) => (i % 3 === 1 ? i : Number.NaN));
    const varies = Float64Array.from({ length: n }, (_, i) => i);
    const y = Float64Array.from({ length: n }, (_, i) => i * 2);
    const sums = foldSums(['x', 'm', 'v'], [onlyFold0, missingOutsideFold1, varies], y, foldOf, 3, [0, 0, 0]);
    expect(constantColumns(sums, 0)).toEqual([true, false, false]);
    expect(constantColumns(sums, 1)).toEqual([false, true, false]);
    expect(constantColumns(sums, 2)).toEqual([false, false, false]);
  });
});
