/**
 * Seeded random helpers over pure-rand's xoroshiro128+, so the sample generator and the engine are reproducible.
 * One `Rng` is a mutable stream: the same seed and the same sequence of calls give the same numbers.
 */
import { type RandomGenerator, xoroshiro128plus } from 'pure-rand';

const TWO_POW_27 = 134217728;
const TWO_POW_53 = 9007199254740992;

/** A seeded, mutable random stream with the distributions the generator and the engine need. */
export class Rng {
  private readonly gen: RandomGenerator;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    // Mix the seed so neighbouring seeds (41, 42, 43) start from unrelated states.
    this.gen = xoroshiro128plus(mixSeed(seed));
    // The first outputs of xoroshiro from a low-entropy state are correlated with the seed; burn a few.
    for (let i = 0; i < 8; i++) this.gen.unsafeNext();
  }

  /** A float in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.gen.unsafeNext() >>> 6;
    const lo = this.gen.unsafeNext() >>> 5;
    return (hi * TWO_POW_27 + lo) / TWO_POW_53;
  }

  /** A float uniform in [min, max). */
  uniform(min = 0, max = 1): number {
    return min + (max - min) * this.next();
  }

  /** An integer uniform in [min, max] (both inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  bernoulli(p: number): boolean {
    return this.next() < p;
  }

  /** A normal draw (Box-Muller; the second value of each pair is kept for the next call). */
  normal(mean = 0, sd = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + sd * z;
    }
    let u = this.next();
    while (u <= Number.MIN_VALUE) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + sd * r * Math.cos(2 * Math.PI * v);
  }

  /** A Poisson count with mean `lambda` (Knuth below 30, rounded normal approximation above). */
  poisson(lambda: number): number {
    if (!(lambda > 0)) return 0;
    if (lambda < 30) {
      const limit = Math.exp(-lambda);
      let k = 0;
      let p = this.next();
      while (p > limit) {
        k++;
        p *= this.next();
      }
      return k;
    }
    return Math.max(0, Math.round(this.normal(lambda, Math.sqrt(lambda))));
  }

  /** An exponential draw with the given rate. */
  exponential(rate: number): number {
    return -Math.log(1 - this.next()) / rate;
  }

  /** An index drawn with probability proportional to `weights` (need not sum to 1). */
  categorical(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += weights[i] as number;
    let u = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      u -= weights[i] as number;
      if (u < 0) return i;
    }
    return weights.length - 1;
  }

  /** An index drawn from a cumulative weight table (see `cumulative`), by binary search. */
  fromCumulative(cum: Float64Array): number {
    const u = this.next() * (cum[cum.length - 1] as number);
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cum[mid] as number) > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Shuffles `items` in place (Fisher-Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }

  /** `count` distinct indices from [0, n), in increasing order (partial Fisher-Yates). */
  sampleIndices(n: number, count: number): Int32Array {
    const m = Math.max(0, Math.min(n, count));
    // A few from many (a validation sample of a large audience): the same swaps, kept in a map, not an array of n.
    if (m * 8 < n) return sparseSample(this, n, m);
    const pool = new Int32Array(n);
    for (let i = 0; i < n; i++) pool[i] = i;
    for (let i = 0; i < m; i++) {
      const j = i + Math.floor(this.next() * (n - i));
      const tmp = pool[i] as number;
      pool[i] = pool[j] as number;
      pool[j] = tmp;
    }
    return pool.subarray(0, m).sort();
  }
}

/** A cumulative weight table for `Rng.fromCumulative`. */
export function cumulative(weights: ArrayLike<number>): Float64Array {
  const out = new Float64Array(weights.length);
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    total += weights[i] as number;
    out[i] = total;
  }
  return out;
}

/** A new seeded stream. */
export function createRng(seed: number): Rng {
  return new Rng(seed);
}

/** `sampleIndices` for m much smaller than n: the partial Fisher-Yates over a virtual pool (identical draws). */
function sparseSample(rng: Rng, n: number, m: number): Int32Array {
  const moved = new Map<number, number>();
  const out = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(rng.next() * (n - i));
    const atJ = moved.get(j) ?? j;
    out[i] = atJ;
    moved.set(j, moved.get(i) ?? i);
  }
  return out.sort();
}

/** SplitMix-style 32-bit avalanche of the seed. */
function mixSeed(seed: number): number {
  let h = (Math.floor(seed) ^ 0x9e3779b9) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}
