import { describe, expect, it } from 'vitest';
import { catalogueShapeStats, generateCatalogueShape } from '../../src/sample/catalogue-shape.ts';

describe('generateCatalogueShape', () => {
  const data = generateCatalogueShape({ kind: 'ratings', seed: 1 });
  const stats = catalogueShapeStats(data);

  it('has the published shape of MovieLens-1M (LensKit: density 4.467%, item Gini 0.634, ≥ 20 ratings a user)', () => {
    // Measured on seed 1: density 4.6%, Gini 0.60, median 57 and at most about 1,300 ratings a user.
    expect(stats.density).toBeGreaterThan(0.035);
    expect(stats.density).toBeLessThan(0.055);
    expect(stats.gini).toBeGreaterThan(0.55);
    expect(stats.gini).toBeLessThan(0.7);
    expect(stats.medianPerUser).toBeGreaterThanOrEqual(30);
    expect(stats.maxPerUser).toBeGreaterThan(10 * stats.medianPerUser);
  });

  it("rates like MovieLens' current data (ml-latest-small: mean 3.50, 70% of ratings whole stars, 4 the most common)", () => {
    // Measured on seed 1 (3,000 × 2,500): see the module comment for the 1,500 × 1,200 figures.
    const values = data.interactions.map((it) => it.value as number);
    const whole = values.filter((v) => Number.isInteger(v)).length / values.length;
    expect(stats.meanRating).toBeGreaterThan(3.4);
    expect(stats.meanRating).toBeLessThan(3.65);
    expect(whole).toBeGreaterThan(0.6);
    expect(whole).toBeLessThan(0.8);
    const counts = new Map<number, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    const byCount = [...counts].sort((a, b) => b[1] - a[1]).map(([v]) => v);
    expect(byCount[0]).toBe(4);
    expect(byCount.slice(0, 2)).toContain(3);
  });

  it('rates in half stars from 0.5 to 5, and only ratings; the purchases kind only buys', () => {
    const values = new Set(data.interactions.map((it) => it.value));
    for (const v of values)
      expect(Number.isInteger((v as number) * 2) && (v as number) >= 0.5 && (v as number) <= 5).toBe(true);
    expect(values.has(3.5)).toBe(true);
    expect(new Set(data.interactions.map((it) => it.type))).toEqual(new Set(['rating']));
    const bought = generateCatalogueShape({ kind: 'purchases', seed: 1, users: 200, items: 300 });
    expect(new Set(bought.interactions.map((it) => it.type))).toEqual(new Set(['purchase']));
  });

  it('is seeded: the same options give the same data', () => {
    const a = generateCatalogueShape({ kind: 'ratings', seed: 4, users: 100, items: 200 });
    expect(generateCatalogueShape({ kind: 'ratings', seed: 4, users: 100, items: 200 })).toEqual(a);
  });
});
