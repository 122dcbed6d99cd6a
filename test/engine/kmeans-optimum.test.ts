import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/domain/random.ts';
import type { Profile } from '../../src/domain/types.ts';
import { segmentAudience } from '../../src/engine/segments.ts';

/**
 * 83 people in 6 separated groups of unequal size and spread (the shape of the 83-row table in issue 12): the
 * groups are the best partition into 6 and their within-cluster SS is computed exactly here. Lloyd from 5
 * k-means++ starts misses it (seed 5 ends 69% worse, merging two groups and splitting the largest).
 */
const SCALE = 0.55;

function groups(seed: number): { profiles: Profile[]; group: number[] } {
  const rng = new Rng(seed);
  const centres = [
    [0, 0, 30, 2.2],
    [9, 0, 20, 1.6],
    [0, 9, 12, 1.2],
    [9, 9, 10, 0.9],
    [18, 4, 6, 0.5],
    [4.5, 18, 5, 0.4],
  ] as const;
  const profiles: Profile[] = [];
  const group: number[] = [];
  centres.forEach(([cx, cy, size, spread], g) => {
    for (let i = 0; i < size; i++) {
      const attrs = {
        x: cx * SCALE + (rng.next() * 2 - 1) * spread,
        y: cy * SCALE + (rng.next() * 2 - 1) * spread,
      };
      profiles.push({ id: `p${profiles.length}`, created_at: null, attrs } as unknown as Profile);
      group.push(g);
    }
  });
  return { profiles, group };
}

function withinSS(profiles: Profile[], labels: ArrayLike<number>, k: number): number {
  const xy = profiles.map((p) => [p.attrs.x as number, p.attrs.y as number]);
  let ss = 0;
  for (let c = 0; c < k; c++) {
    const members = xy.filter((_, i) => labels[i] === c);
    const mx = members.reduce((s, [x]) => s + (x as number), 0) / members.length;
    const my = members.reduce((s, [, y]) => s + (y as number), 0) / members.length;
    for (const [x, y] of members) ss += ((x as number) - mx) ** 2 + ((y as number) - my) ** 2;
  }
  return ss;
}

describe('k-means on a small table with a known best partition', () => {
  it('finds the best partition for every seed', () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const { profiles, group } = groups(seed);
      const attributes: Record<string, 'number'> = { x: 'number', y: 'number' };
      const result = segmentAudience(
        { profiles, interactions: [], products: [], attributes },
        { k: 6, asOf: 0, seed, features: ['x', 'y'], scaling: 'none' },
      );
      const best = withinSS(profiles, group, 6);
      expect(result.quality.withinSS, `seed ${seed}`).toBeCloseTo(best, 6);
      // Same partition: each found segment is exactly one group.
      const pairs = new Set(group.map((g, i) => `${g}:${result.labels[i]}`));
      expect(pairs.size, `seed ${seed}`).toBe(6);
    }
  });
});
