/**
 * Sums of doubles rounded once: the exact sum of the values, rounded to the nearest double (ties to even), whatever
 * the order they come in. The stats' revenue is defined this way so a database can keep exact per-slice sums
 * (numeric) and add any set of slices to the same figure the engine gets by adding the events one by one; a
 * running `+=` rounds at every step, and its result depends on the order and on how the events are grouped.
 *
 * Shewchuk's algorithm ("Adaptive Precision Floating-Point Arithmetic", 1997), as in Python's math.fsum: the
 * running total is kept as a few non-overlapping partials whose sum is exact, and rounded correctly at the end.
 */

/** An exact running sum of doubles; `value()` is the exact total rounded once. */
export class ExactSum {
  private readonly partials: number[] = [];
  /** Infinities and NaNs are added apart: their sum is what plain addition gives (Infinity, -Infinity or NaN). */
  private special = 0;

  /** Adds one value. */
  add(value: number): void {
    if (!Number.isFinite(value)) {
      this.special += value;
      return;
    }
    let x = value;
    let i = 0;
    const partials = this.partials;
    for (let j = 0; j < partials.length; j++) {
      let y = partials[j] as number;
      if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) partials[i++] = lo;
      x = hi;
    }
    partials.length = i;
    partials.push(x);
  }

  /** The exact sum rounded to the nearest double (half to even). */
  value(): number {
    if (this.special !== 0 || Number.isNaN(this.special)) return this.special;
    const partials = this.partials;
    let n = partials.length;
    if (n === 0) return 0;
    let hi = partials[--n] as number;
    let lo = 0;
    while (n > 0) {
      const x = hi;
      const y = partials[--n] as number;
      hi = x + y;
      lo = y - (hi - x);
      if (lo !== 0) break;
    }
    // Half-way cases: the partials below decide which way the last rounding goes (Python's fsum does the same).
    const next = partials[n - 1];
    if (n > 0 && next !== undefined && ((lo < 0 && next < 0) || (lo > 0 && next > 0))) {
      const y = lo * 2;
      const x = hi + y;
      if (y === x - hi) hi = x;
    }
    return hi;
  }
}

/** The exact sum of `values`, rounded once (see ExactSum). */
export function exactSum(values: Iterable<number>): number {
  const sum = new ExactSum();
  for (const v of values) sum.add(v);
  return sum.value();
}
