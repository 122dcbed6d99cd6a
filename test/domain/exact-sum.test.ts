import { describe, expect, it } from 'vitest';
import { ExactSum, exactSum } from '../../src/domain/exact-sum.ts';

/** A double's exact value as an integer count of 2^-1074 (every finite double is one). */
function units(x: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const exponent = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = exponent === 0 ? fraction : fraction | (1n << 52n);
  const magnitude = mantissa << BigInt(Math.max(0, exponent - 1));
  return bits >> 63n ? -magnitude : magnitude;
}

/** The exact sum of doubles, rounded once: summed as integers, written as an exact decimal, read by Number. */
function reference(values: number[]): number {
  const total = values.reduce((s, v) => s + units(v), 0n);
  const negative = total < 0n;
  const digits = ((negative ? -total : total) * 5n ** 1074n).toString().padStart(1075, '0');
  return Number(`${negative ? '-' : ''}${digits.slice(0, -1074)}.${digits.slice(-1074)}`);
}

describe('exactSum: the exact sum of doubles, rounded once', () => {
  it('is not the running sum: ten purchases of 0.1 make 1', () => {
    const tenths = Array.from({ length: 10 }, () => 0.1);
    expect(tenths.reduce((a, b) => a + b, 0)).toBe(0.9999999999999999);
    expect(exactSum(tenths)).toBe(1);
  });

  it('equals the exactly computed sum, in any order and any grouping', () => {
    let seed = 11;
    const rnd = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    for (let round = 0; round < 200; round++) {
      const values = Array.from({ length: 1 + Math.floor(rnd() * 60) }, () => {
        const kind = rnd();
        if (kind < 0.6) return Math.round(rnd() * 100_000) / 100;
        if (kind < 0.8) return (rnd() - 0.5) * 10 ** Math.floor(rnd() * 30 - 10);
        return rnd() < 0.5 ? 1e16 : -1e16;
      });
      const expected = reference(values);
      expect(exactSum(values)).toBe(expected);
      expect(exactSum([...values].reverse())).toBe(expected);
      const halves = new ExactSum();
      halves.add(exactSum(values.slice(0, 1)));
      for (const v of values.slice(1)) halves.add(v);
      expect(halves.value()).toBe(expected);
    }
  });

  it('rounds half-way cases to even, as one rounding of the exact value does', () => {
    expect(exactSum([1, 2 ** -53])).toBe(1);
    expect(exactSum([1, 2 ** -53, 2 ** -106])).toBe(1 + 2 ** -52);
    expect(exactSum([1 + 2 ** -52, 2 ** -53])).toBe(1 + 2 ** -51);
  });

  it('adds infinities apart, and is 0 for nothing', () => {
    expect(exactSum([])).toBe(0);
    expect(exactSum([1, Number.POSITIVE_INFINITY])).toBe(Number.POSITIVE_INFINITY);
    expect(exactSum([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])).toBeNaN();
  });
});
