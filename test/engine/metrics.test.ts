import { describe, expect, it } from 'vitest';
import { pairwiseDistances, silhouette, silhouetteFromDistances } from '../../src/engine/metrics.ts';
import { adjustedRandIndex } from '../support/clustering.ts';

describe('adjustedRandIndex', () => {
  it('matches known values', () => {
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 1])).toBe(1);
    expect(adjustedRandIndex([0, 0, 1, 1], [5, 5, 3, 3])).toBe(1);
    // Reference values from scikit-learn's documentation.
    expect(adjustedRandIndex([0, 0, 1, 2], [0, 0, 1, 1])).toBeCloseTo(0.5714285714, 9);
    expect(adjustedRandIndex([0, 0, 0, 0], [0, 1, 2, 3])).toBe(0);
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1])).toBeCloseTo(-0.5, 9);
    expect(adjustedRandIndex(Int32Array.from([1, 1, 1]), [2, 2, 2])).toBe(1);
    expect(() => adjustedRandIndex([0], [0, 1])).toThrow(RangeError);
  });
});

describe('silhouette', () => {
  it('is near 1 for well separated clusters and agrees with the distance-matrix version', () => {
    const points = [
      [0, 0],
      [0, 1],
      [1, 0],
      [10, 10],
      [10, 11],
      [11, 10],
    ].map((p) => Float64Array.from(p));
    const labels = [0, 0, 0, 1, 1, 1];
    const s = silhouette(points, labels, 2);
    expect(s).toBeGreaterThan(0.85);
    expect(silhouetteFromDistances(pairwiseDistances(points), points.length, labels, 2)).toBeCloseTo(s, 12);
    expect(silhouette(points, [0, 1, 0, 1, 0, 1], 2)).toBeLessThan(0);
  });
});
