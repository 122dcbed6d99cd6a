/**
 * A plain, full, well-tuned EASE (Steck 2019) to hold the shipped recommender against: every item of the
 * catalogue that anyone chose, X binary (1 for every item the user has a target interaction with: what the
 * given-N protocol counts as relevant), λ tuned on a validation split of the training users asked the given-N
 * question, no truncation of neighbours, no blend with anything; a user's list is the items they do not know
 * ranked by x_u · B. Test and bench code only: it is the yardstick, not the product.
 */
import { createRng } from '../../src/domain/random.ts';
import type { Interaction, InteractionType } from '../../src/domain/types.ts';
import { easeFromGram } from '../../src/engine/collaborative.ts';
import type { RecommendInput } from '../../src/engine/recommend.ts';

/** Absolute λ candidates (Steck's ML-20M optimum was 500 with a mean diagonal of about 500). */
const LAMBDAS = [10, 50, 200, 500, 1000, 2000, 5000];

/** The fitted reference: what validation chose, and a ranker. */
export interface EaseReference {
  lambda: number;
  /** Validation P@10 per λ tried. */
  tried: Array<{ lambda: number; precisionAt10: number }>;
  recommend(userId: string, n: number): string[];
}

interface Rows {
  itemIndex: Map<string, number>;
  itemIds: string[];
  userRows: Map<string, number[]>;
  known: Map<string, Set<string>>;
}

const KNOWN: ReadonlySet<InteractionType> = new Set(['purchase', 'rating', 'like', 'share', 'comment']);

function rowsOf(input: RecommendInput, asOf: number, targets: ReadonlySet<InteractionType>): Rows {
  const itemIndex = new Map<string, number>();
  const itemIds: string[] = [];
  const sets = new Map<string, Set<number>>();
  const known = new Map<string, Set<string>>();
  const catalogue = new Set(input.products.map((p) => p.id));
  for (const it of input.interactions as Interaction[]) {
    if (it.item_id === null || !(it.timestamp < asOf) || !catalogue.has(it.item_id)) continue;
    if (KNOWN.has(it.type)) {
      const k = known.get(it.user_id) ?? new Set<string>();
      k.add(it.item_id);
      known.set(it.user_id, k);
    }
    if (!targets.has(it.type)) continue;
    let i = itemIndex.get(it.item_id);
    if (i === undefined) {
      i = itemIds.length;
      itemIndex.set(it.item_id, i);
      itemIds.push(it.item_id);
    }
    const s = sets.get(it.user_id) ?? new Set<number>();
    s.add(i);
    sets.set(it.user_id, s);
  }
  const userRows = new Map<string, number[]>();
  for (const [u, s] of sets)
    userRows.set(
      u,
      [...s].sort((a, b) => a - b),
    );
  return { itemIndex, itemIds, userRows, known };
}

function gram(rows: Iterable<number[]>, m: number): Float64Array {
  const g = new Float64Array(m * m);
  for (const r of rows) for (const a of r) for (const b of r) g[a * m + b] = (g[a * m + b] as number) + 1;
  return g;
}

/** EASE's B from an absolute λ (easeFromGram takes λ over the mean diagonal). */
function easeAt(g: Float64Array, m: number, lambda: number): Float64Array {
  let trace = 0;
  for (let a = 0; a < m; a++) trace += g[a * m + a] as number;
  return easeFromGram(g, m, lambda / Math.max(1e-9, trace / m));
}

function topUnknown(
  b: Float64Array,
  m: number,
  query: readonly number[],
  skip: ReadonlySet<number>,
  n: number,
) {
  const s = new Float64Array(m);
  for (const a of query) {
    const row = a * m;
    for (let c = 0; c < m; c++) s[c] = (s[c] as number) + (b[row + c] as number);
  }
  const order: number[] = [];
  for (let c = 0; c < m; c++) if (!skip.has(c)) order.push(c);
  order.sort((x, y) => (s[y] as number) - (s[x] as number) || x - y);
  return order.slice(0, n);
}

/**
 * Fits the reference on `train` before `asOf`. λ: a seeded fifth of the users with more than `given` + 1 items
 * keep `given` of them (given-N, as evaluate asks), the Gram matrix is taken without their hidden items, and the
 * λ with the best P@10 on the hidden ones wins.
 */
export function fitEaseReference(
  train: RecommendInput,
  asOf: number,
  targetTypes: readonly InteractionType[],
  given = 5,
  seed = 1,
): EaseReference {
  const rows = rowsOf(train, asOf, new Set(targetTypes));
  const m = rows.itemIds.length;
  const rng = createRng(seed);
  const users = [...rows.userRows.keys()]
    .sort()
    .filter((u) => (rows.userRows.get(u) as number[]).length > given + 1);
  const validation = users.filter(() => rng.next() < 0.2).slice(0, 1000);
  const kept = new Map<string, number[]>();
  const hidden = new Map<string, Set<number>>();
  for (const u of validation) {
    const r = rows.userRows.get(u) as number[];
    const keep = new Set(Array.from(rng.sampleIndices(r.length, given), (k) => r[k] as number));
    kept.set(u, [...keep]);
    hidden.set(u, new Set(r.filter((i) => !keep.has(i))));
  }
  const fitRows = [...rows.userRows].map(([u, r]) => kept.get(u) ?? r);
  const g = gram(fitRows, m);
  const tried: Array<{ lambda: number; precisionAt10: number }> = [];
  for (const lambda of LAMBDAS) {
    const b = easeAt(g, m, lambda);
    let hits = 0;
    for (const u of validation) {
      const q = kept.get(u) as number[];
      const top = topUnknown(b, m, q, new Set(q), 10);
      const h = hidden.get(u) as Set<number>;
      for (const i of top) if (h.has(i)) hits++;
    }
    tried.push({ lambda, precisionAt10: hits / (10 * Math.max(1, validation.length)) });
  }
  const best = tried.reduce((x, y) => (y.precisionAt10 > x.precisionAt10 ? y : x));
  const b = easeAt(gram(rows.userRows.values(), m), m, best.lambda);
  return {
    lambda: best.lambda,
    tried,
    recommend(userId: string, n: number): string[] {
      const q = rows.userRows.get(userId) ?? [];
      const skip = new Set<number>();
      for (const id of rows.known.get(userId) ?? []) {
        const i = rows.itemIndex.get(id);
        if (i !== undefined) skip.add(i);
      }
      return topUnknown(b, m, q, skip, n).map((c) => rows.itemIds[c] as string);
    },
  };
}
