/**
 * Offline evaluation of the recommender against a popularity baseline, so "our recommendations are
 * better than a bestseller list" is a measured claim. Pure: data in, metrics out, randomness seeded.
 */

import { createRng } from '../domain/random.ts';
import type { Interaction } from '../domain/types.ts';
import {
  buildRecommendModel,
  type RecommendInput,
  type RecommendParams,
  recommendForUser,
} from './recommend.ts';

/** Ranking quality of one model, averaged over test users (coverage is over the whole catalogue). */
export interface Metrics {
  precisionAt5: number;
  precisionAt10: number;
  recallAt10: number;
  ndcgAt10: number;
  /** Distinct items recommended (top 10) to any test user / catalogue size. */
  coverage: number;
}

/** How to hold out purchases: the last `testDays` of data, or `hideN` random purchases per user. */
export interface EvaluateOptions {
  method: 'time' | 'hide';
  testDays?: number;
  hideN?: number;
  seed?: number;
  /** The two cut-offs reported as …At5 and …At10 (default [5, 10]). */
  k?: [number, number];
  /** Tuning overrides passed to the model, to compare settings on the same split. */
  params?: Partial<RecommendParams>;
}

/** Both models' metrics and what they were measured on. */
export interface EvaluationResult {
  method: 'time' | 'hide';
  ours: Metrics;
  popularity: Metrics;
  /** Test users (people with training history and at least one held-out purchase). */
  users: number;
  /** Catalogue size. */
  items: number;
  k: [number, number];
  /** Time split: the first held-out instant (epoch ms); null for the hide method. */
  cutoff: number | null;
  testDays: number | null;
  hideN: number | null;
}

const DAY = 86_400_000;

function asSet(relevant: ReadonlySet<string> | readonly string[]): ReadonlySet<string> {
  return relevant instanceof Set ? relevant : new Set(relevant as readonly string[]);
}

/** Share of the top k recommendations that are relevant (divides by k even when fewer were given). */
export function precisionAtK(
  recommended: readonly string[],
  relevant: ReadonlySet<string> | readonly string[],
  k: number,
): number {
  if (k <= 0) return 0;
  const rel = asSet(relevant);
  let hits = 0;
  for (const id of recommended.slice(0, k)) if (rel.has(id)) hits++;
  return hits / k;
}

/** Share of the relevant items found in the top k; 0 when nothing is relevant. */
export function recallAtK(
  recommended: readonly string[],
  relevant: ReadonlySet<string> | readonly string[],
  k: number,
): number {
  const rel = asSet(relevant);
  if (rel.size === 0) return 0;
  let hits = 0;
  for (const id of recommended.slice(0, k)) if (rel.has(id)) hits++;
  return hits / rel.size;
}

/** Binary-relevance nDCG@k: DCG of the list over the DCG of a perfect list of min(|relevant|, k) hits. */
export function ndcgAtK(
  recommended: readonly string[],
  relevant: ReadonlySet<string> | readonly string[],
  k: number,
): number {
  const rel = asSet(relevant);
  if (rel.size === 0 || k <= 0) return 0;
  let dcg = 0;
  const top = recommended.slice(0, k);
  for (let r = 0; r < top.length; r++) if (rel.has(top[r] as string)) dcg += 1 / Math.log2(r + 2);
  let ideal = 0;
  for (let r = 0; r < Math.min(rel.size, k); r++) ideal += 1 / Math.log2(r + 2);
  return dcg / ideal;
}

/** A train/test split: what the models may see, and what each test user went on to buy. */
export interface HoldOut {
  train: Interaction[];
  /** Models are built as of this instant (the cutoff, or just after the last interaction when hiding). */
  asOf: number;
  /** Test user -> held-out purchased item ids (never items the user already bought in training). */
  test: Map<string, Set<string>>;
  cutoff: number | null;
}

/** Splits the data as `evaluateRecommendations` does, so other rankers can be scored on the same split. */
export function holdOut(input: RecommendInput, options: EvaluateOptions): HoldOut {
  const catalogue = new Set(input.products.map((p) => p.id));
  return options.method === 'hide'
    ? hideSplit(input, options.hideN ?? 2, options.seed ?? 42, catalogue)
    : timeSplit(input, options.testDays ?? 30, catalogue);
}

function timeSplit(input: RecommendInput, testDays: number, catalogue: ReadonlySet<string>): HoldOut {
  let maxTs = Number.NEGATIVE_INFINITY;
  for (const it of input.interactions) if (it.timestamp > maxTs) maxTs = it.timestamp;
  const cutoff = maxTs - testDays * DAY;
  const train: Interaction[] = [];
  const trainUsers = new Set<string>();
  const trainBought = new Map<string, Set<string>>();
  for (const it of input.interactions) {
    if (it.timestamp >= cutoff) continue;
    train.push(it);
    trainUsers.add(it.user_id);
    if (it.type === 'purchase' && it.item_id !== null) getSet(trainBought, it.user_id).add(it.item_id);
  }
  const test = new Map<string, Set<string>>();
  for (const it of input.interactions) {
    if (it.timestamp < cutoff || it.type !== 'purchase' || it.item_id === null) continue;
    if (!trainUsers.has(it.user_id) || !catalogue.has(it.item_id)) continue;
    // A repeat purchase cannot be predicted by a recommender that never repeats, so it is not a target.
    if (trainBought.get(it.user_id)?.has(it.item_id)) continue;
    getSet(test, it.user_id).add(it.item_id);
  }
  return { train, asOf: cutoff, test, cutoff };
}

function hideSplit(
  input: RecommendInput,
  hideN: number,
  seed: number,
  catalogue: ReadonlySet<string>,
): HoldOut {
  const bought = new Map<string, string[]>();
  let maxTs = Number.NEGATIVE_INFINITY;
  for (const it of input.interactions) {
    if (it.timestamp > maxTs) maxTs = it.timestamp;
    if (it.type !== 'purchase' || it.item_id === null || !catalogue.has(it.item_id)) continue;
    const list = bought.get(it.user_id);
    if (!list) bought.set(it.user_id, [it.item_id]);
    else if (!list.includes(it.item_id)) list.push(it.item_id);
  }
  const rng = createRng(seed);
  const test = new Map<string, Set<string>>();
  // Users in order of first purchase, so the same data and seed always hide the same items.
  for (const [userId, items] of bought) {
    if (items.length < 2) continue;
    const hide = Math.min(hideN, items.length - 1);
    const picked = rng.sampleIndices(items.length, hide);
    test.set(userId, new Set(Array.from(picked, (k) => items[k] as string)));
  }
  // Every trace of a hidden item (views too) is removed for that user, or the answer would leak.
  const train = input.interactions.filter(
    (it) => it.item_id === null || !test.get(it.user_id)?.has(it.item_id),
  );
  return { train, asOf: maxTs + 1, test, cutoff: null };
}

function getSet(map: Map<string, Set<string>>, key: string): Set<string> {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  return set;
}

class MetricSum {
  private p1 = 0;
  private p2 = 0;
  private r2 = 0;
  private n2 = 0;
  private users = 0;
  private readonly seen = new Set<string>();

  constructor(private readonly k: [number, number]) {}

  add(list: readonly string[], relevant: ReadonlySet<string>): void {
    const [k1, k2] = this.k;
    this.p1 += precisionAtK(list, relevant, k1);
    this.p2 += precisionAtK(list, relevant, k2);
    this.r2 += recallAtK(list, relevant, k2);
    this.n2 += ndcgAtK(list, relevant, k2);
    this.users++;
    for (const id of list.slice(0, k2)) this.seen.add(id);
  }

  result(catalogueSize: number): Metrics {
    const n = Math.max(1, this.users);
    return {
      precisionAt5: this.p1 / n,
      precisionAt10: this.p2 / n,
      recallAt10: this.r2 / n,
      ndcgAt10: this.n2 / n,
      coverage: catalogueSize > 0 ? this.seen.size / catalogueSize : 0,
    };
  }
}

/** Trains on part of the data, recommends to every test user, and scores ours against a popularity list. */
export function evaluateRecommendations(input: RecommendInput, options: EvaluateOptions): EvaluationResult {
  const testDays = options.testDays ?? 30;
  const hideN = options.hideN ?? 2;
  const k: [number, number] = options.k ?? [5, 10];
  const depth = Math.max(k[0], k[1]);
  const catalogue = new Set(input.products.map((p) => p.id));
  const split = holdOut(input, options);
  const train: RecommendInput = {
    profiles: input.profiles,
    products: input.products,
    interactions: split.train,
  };
  const model = buildRecommendModel(train, {
    asOf: split.asOf,
    ...(options.params ? { params: options.params } : {}),
  });

  // Baseline: training purchases per item, best first, in stock only.
  const counts = new Map<string, number>();
  const trainBought = new Map<string, Set<string>>();
  for (const it of split.train) {
    if (it.type !== 'purchase' || it.item_id === null || !(it.timestamp < split.asOf)) continue;
    counts.set(it.item_id, (counts.get(it.item_id) ?? 0) + 1);
    getSet(trainBought, it.user_id).add(it.item_id);
  }
  const ranked = input.products
    .map((p, order) => ({ id: p.id, inStock: p.in_stock, count: counts.get(p.id) ?? 0, order }))
    .filter((p) => p.inStock)
    .sort((a, b) => b.count - a.count || a.order - b.order)
    .map((p) => p.id);

  const ours = new MetricSum(k);
  const popularity = new MetricSum(k);
  const users = [...split.test.keys()].sort();
  for (const userId of users) {
    const relevant = split.test.get(userId) as Set<string>;
    const recs = recommendForUser(model, train, userId, depth).items.map((r) => r.itemId);
    ours.add(recs, relevant);
    const own = trainBought.get(userId);
    const baseline: string[] = [];
    for (const id of ranked) {
      if (own?.has(id)) continue;
      baseline.push(id);
      if (baseline.length === depth) break;
    }
    popularity.add(baseline, relevant);
  }
  return {
    method: options.method,
    ours: ours.result(catalogue.size),
    popularity: popularity.result(catalogue.size),
    users: users.length,
    items: catalogue.size,
    k,
    cutoff: split.cutoff,
    testDays: options.method === 'time' ? testDays : null,
    hideN: options.method === 'hide' ? hideN : null,
  };
}

/** A small text table of both models and the lift of ours over popularity, for the CLI. */
export function formatEvaluation(result: EvaluationResult): string {
  const [k1, k2] = result.k;
  const rows: Array<[string, keyof Metrics]> = [
    [`precision@${k1}`, 'precisionAt5'],
    [`precision@${k2}`, 'precisionAt10'],
    [`recall@${k2}`, 'recallAt10'],
    [`nDCG@${k2}`, 'ndcgAt10'],
    ['coverage', 'coverage'],
  ];
  const split =
    result.method === 'time'
      ? `time split, last ${result.testDays} days held out`
      : `hide split, ${result.hideN} random purchases held out per user`;
  const lines = [
    `Recommendations vs popularity (${split}): ${result.users.toLocaleString('en-US')} test users, ${result.items.toLocaleString('en-US')} items`,
    '',
    `${'metric'.padEnd(14)}${'ours'.padStart(10)}${'popularity'.padStart(12)}${'lift'.padStart(10)}`,
  ];
  for (const [label, key] of rows) {
    const a = result.ours[key];
    const b = result.popularity[key];
    const lift = b > 0 ? `${a >= b ? '+' : '−'}${(Math.abs(a / b - 1) * 100).toFixed(1)}%` : '–';
    lines.push(
      `${label.padEnd(14)}${a.toFixed(4).padStart(10)}${b.toFixed(4).padStart(12)}${lift.padStart(10)}`,
    );
  }
  if (result.users === 0)
    lines.push('', 'No test users: the held-out part has no new purchases by people with history.');
  return lines.join('\n');
}
