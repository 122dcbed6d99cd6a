/**
 * The recommender's item-pair sums from COPY lines (recommend-stats.ts): the half-matrix pass gives the sums of
 * a pass over every ordered pair, and a person delivered in two runs (out of id order) is noticed, so the caller
 * takes the sums again sorted. Pure: no database.
 */
import { describe, expect, it } from 'vitest';
import { PairAccumulator } from '../../../src/store/postgres/recommend-stats.ts';

const ITEMS = [7, 3, 11, 5];
const AS_OF = 1_000_000;
const DECAY = Math.LN2 / 400_000;

/** Cells: person, catalogue item, truncated weight, last event, flags (1 positive, 2 target). */
const CELLS: Array<[string, number, number, number, number]> = [
  ['a', 3, 0.5, 900_000, 3],
  ['a', 7, 1, 500_000, 1],
  ['a', 11, 0, 100_000, 2],
  ['b', 11, 0.25, 999_000, 3],
  ['b', 5, 0.75, 10, 3],
  ['b', 3, 1, 600_000, 1],
  ['b', 7, 0.5, 700_000, 2],
  ['c', 5, 0.2, 0, 1],
];

function text(cells: typeof CELLS): string {
  return cells.map((c) => `${c.join('\t')}\n`).join('');
}

/** Every ordered pair of each person's cells, as the engine's definitions read. */
function reference() {
  const m = ITEMS.length;
  const gram = new Float64Array(m * m);
  const coBought = new Int32Array(m * m);
  const coEngaged = new Int32Array(m * m);
  const decayed = (w: number, t: number) => (w > 0 ? w * Math.exp(-DECAY * Math.max(0, AS_OF - t)) : w);
  for (const person of ['a', 'b', 'c']) {
    const own = CELLS.filter((c) => c[0] === person);
    for (const p of own)
      for (const q of own) {
        const cell = ITEMS.indexOf(p[1]) * m + ITEMS.indexOf(q[1]);
        const [xp, xq] = [decayed(p[2], p[3]), decayed(q[2], q[3])];
        if (xp > 0 && xq > 0) gram[cell] = (gram[cell] as number) + xp * xq;
        if (p === q || !(p[4] & 1) || !(q[4] & 2)) continue;
        coEngaged[cell] = (coEngaged[cell] as number) + 1;
        if (p[4] & 2) coBought[cell] = (coBought[cell] as number) + 1;
      }
  }
  return { gram, coBought, coEngaged };
}

describe('item-pair sums from streamed cells', () => {
  it('sums each person’s pairs a ≤ b and mirrors the Gram matrix, as a pass over every pair does', () => {
    const acc = new PairAccumulator(ITEMS, DECAY, AS_OF, true);
    const all = text(CELLS);
    // Chunks end on line boundaries, as the COPY reader hands them over.
    const cut = all.indexOf('\nb\t3') + 1;
    acc.lines(all.slice(0, cut), cut - 1);
    acc.lines(all.slice(cut), all.length - cut - 1);
    const sums = acc.finish();
    const want = reference();
    expect(sums?.items).toEqual(ITEMS);
    expect(Array.from(sums?.gram ?? [])).toEqual(Array.from(want.gram));
    expect(Array.from(sums?.coBought ?? [])).toEqual(Array.from(want.coBought));
    expect(Array.from(sums?.coEngaged ?? [])).toEqual(Array.from(want.coEngaged));
  });

  it('notices a person delivered in two runs, so the caller sorts', () => {
    const split = [...CELLS.slice(0, 2), ...CELLS.slice(3), CELLS[2] as (typeof CELLS)[number]];
    const unsorted = new PairAccumulator(ITEMS, DECAY, AS_OF, true);
    const body = text(split);
    unsorted.lines(body, body.length - 1);
    expect(unsorted.finish()).toBeNull();
  });
});
