import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/domain/random.ts';
import { balancedSample } from '../../src/engine/balanced-sample.ts';

/** A population: probabilities between 0.01 and 0.2 and q auxiliary variables (a constant and skewed ones). */
function population(
  n: number,
  q: number,
  seed: number,
): { pi: Float64Array; aux: Float64Array; x: Float64Array } {
  const rng = new Rng(seed);
  const pi = new Float64Array(n);
  const x = new Float64Array(n * q);
  const aux = new Float64Array(n * q);
  for (let k = 0; k < n; k++) {
    pi[k] = 0.01 + 0.19 * rng.next();
    for (let j = 0; j < q; j++) {
      const v =
        j === 0 ? 1 : j === 1 ? Math.exp(rng.normal(0, 1)) : rng.bernoulli(0.3) ? 1 : rng.normal(5, 2);
      x[k * q + j] = v;
      // z_k = π_k x_k balances Σ x_k S_k against its expectation Σ π_k x_k.
      aux[k * q + j] = (pi[k] as number) * v;
    }
  }
  return { pi, aux, x };
}

/** Σ_k x_k S_k − Σ_k π_k x_k per variable. */
function imbalance(s: Uint8Array, pi: Float64Array, x: Float64Array, q: number): number[] {
  const out = new Array(q).fill(0);
  for (let k = 0; k < s.length; k++)
    for (let j = 0; j < q; j++) out[j] += (x[k * q + j] as number) * ((s[k] as number) - (pi[k] as number));
  return out;
}

describe('balancedSample', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const { pi, aux } = population(500, 3, 1);
    const a = balancedSample(pi, aux, 3, new Rng(7));
    expect(balancedSample(pi, aux, 3, new Rng(7))).toEqual(a);
    expect(balancedSample(pi, aux, 3, new Rng(8))).not.toEqual(a);
    expect(a.every((v) => v === 0 || v === 1)).toBe(true);
  });

  it('holds the balancing equations to a few units, where independent draws miss by O(√n)', () => {
    const q = 4;
    const { pi, aux, x } = population(5000, q, 2);
    // The landing phase can leave at most q undecided units per dropped equation: bound by q·max|x|.
    const maxAbs = Array.from({ length: q }, (_, j) => {
      let m = 0;
      for (let k = 0; k < pi.length; k++) m = Math.max(m, Math.abs(x[k * q + j] as number));
      return m;
    });
    const rng = new Rng(3);
    let balancedWorst = 0;
    let independentWorst = 0;
    for (let seed = 1; seed <= 5; seed++) {
      const s = balancedSample(pi, aux, q, new Rng(seed));
      imbalance(s, pi, x, q).forEach((d, j) => {
        expect(Math.abs(d), `variable ${j}, seed ${seed}`).toBeLessThanOrEqual(q * (maxAbs[j] as number));
        if (j === 0) balancedWorst = Math.max(balancedWorst, Math.abs(d));
      });
      const coin = Uint8Array.from(pi, (p) => (rng.next() < p ? 1 : 0));
      independentWorst = Math.max(independentWorst, Math.abs(imbalance(coin, pi, x, q)[0] as number));
    }
    // The sample size (the constant's total) is fixed up to the landing: within 1 of Σπ ≈ 525.
    expect(balancedWorst).toBeLessThanOrEqual(1);
    expect(independentWorst).toBeGreaterThan(5);
  });

  it('respects the inclusion probabilities in expectation over seeds', () => {
    const q = 3;
    const { pi, aux } = population(40, q, 4);
    // Wider probabilities so that every unit's frequency is measurable in a few thousand draws.
    for (let k = 0; k < pi.length; k++) {
      const old = pi[k] as number;
      pi[k] = 0.05 + (0.9 * ((k * 7919) % 40)) / 40;
      for (let j = 0; j < q; j++) aux[k * q + j] = ((aux[k * q + j] as number) / old) * (pi[k] as number);
    }
    const draws = 4000;
    const hits = new Float64Array(pi.length);
    for (let seed = 1; seed <= draws; seed++) {
      const s = balancedSample(pi, aux, q, new Rng(seed));
      for (let k = 0; k < pi.length; k++) hits[k] = (hits[k] as number) + (s[k] as number);
    }
    for (let k = 0; k < pi.length; k++) {
      const p = pi[k] as number;
      const sd = Math.sqrt((p * (1 - p)) / draws);
      // 4.5 sd for each of 40 units: a false alarm about once in 3,000 runs.
      expect(Math.abs((hits[k] as number) / draws - p), `unit ${k}`).toBeLessThan(4.5 * sd);
    }
  });

  it('takes decided units as they are and needs no auxiliary variable', () => {
    const pi = Float64Array.from([0, 1, 0.5, 0.5, 0, 1]);
    const s = balancedSample(pi, new Float64Array(6), 1, new Rng(1));
    expect([s[0], s[1], s[4], s[5]]).toEqual([0, 1, 0, 1]);
    // Balanced on π itself (a fixed-size design): exactly one of the two halves.
    const sized = balancedSample(pi, pi, 1, new Rng(2));
    expect((sized[2] as number) + (sized[3] as number)).toBe(1);
    const plain = balancedSample(Float64Array.from([0.3, 0.7]), new Float64Array(0), 0, new Rng(3));
    expect(plain).toHaveLength(2);
  });

  it('refuses probabilities outside [0, 1], non-finite values and a mis-sized table', () => {
    expect(() => balancedSample([0.5, 1.2], [1, 1], 1, new Rng(1))).toThrow(/in \[0, 1\], got 1.2/);
    expect(() => balancedSample([0.5, Number.NaN], [1, 1], 1, new Rng(1))).toThrow(/in \[0, 1\]/);
    expect(() => balancedSample([0.5, 0.5], [1, Number.POSITIVE_INFINITY], 1, new Rng(1))).toThrow(
      /not finite/,
    );
    expect(() => balancedSample([0.5, 0.5], [1], 1, new Rng(1))).toThrow(/2 × 1 values/);
  });
});
