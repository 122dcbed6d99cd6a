/**
 * Offline evaluation of the recommender against a popularity baseline, so "our recommendations are
 * better than a bestseller list" is a measured claim. Pure: data in, metrics out, randomness seeded.
 */

import { createRng } from '../domain/random.ts';
import type { Interaction, InteractionType } from '../domain/types.ts';
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
  /** Mean average precision at 10: the mean over hits of the precision at their rank, over min(|relevant|, 10). */
  mapAt10: number;
  /** Distinct items recommended (top 10) to any test user / catalogue size. */
  coverage: number;
}

/** The protocols: the last days of data, random items hidden per user, or N items known per test user. */
export type EvaluationMethod = 'time' | 'hide' | 'given';

/**
 * How to hold out: `time` holds out the last `testDays`; `hide` hides `hideN` random target items per user;
 * `given` splits the users into `folds` groups and, for each group in turn, keeps `given` random target items of
 * each of its users (with every interaction with them) and hides the rest, training on everyone else.
 */
export interface EvaluateOptions {
  method: EvaluationMethod;
  testDays?: number;
  hideN?: number;
  given?: number;
  folds?: number;
  seed?: number;
  /** Interaction types used (default all); the others are left out of training and testing. */
  types?: readonly InteractionType[];
  /** The two cut-offs reported as …At5 and …At10 (default [5, 10]). */
  k?: [number, number];
  /** Tuning overrides passed to the model, to compare settings on the same split. */
  params?: Partial<RecommendParams>;
}

/** The three rankers' metrics and what they were measured on. */
export interface EvaluationResult {
  method: EvaluationMethod;
  ours: Metrics;
  popularity: Metrics;
  random: Metrics;
  /** Test users (people with training history and at least one held-out target item), over all folds. */
  users: number;
  /** Catalogue size. */
  items: number;
  k: [number, number];
  /** The interaction types whose held-out items count as hits. */
  targetTypes: InteractionType[];
  /** Time split: the first held-out instant (epoch ms); null otherwise. */
  cutoff: number | null;
  testDays: number | null;
  hideN: number | null;
  given: number | null;
  folds: number | null;
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

/** A train/test split: what the models may see, and what each test user went on to choose. */
export interface HoldOut {
  train: Interaction[];
  /** Models are built as of this instant (the cutoff, or just after the last interaction otherwise). */
  asOf: number;
  /** Test user -> held-out target item ids (never items the user already had a known interaction with). */
  test: Map<string, Set<string>>;
  cutoff: number | null;
}

/** Interaction types after which an item is "known" to the user, as the recommender counts them. */
const KNOWN: ReadonlySet<InteractionType> = new Set(['purchase', 'rating', 'like', 'share', 'comment']);

/**
 * The target types: purchases when the data has any; else the stated opinions (ratings, likes, shares,
 * comments) when it has any; else everything.
 */
export function targetTypesOf(interactions: readonly Interaction[]): InteractionType[] {
  const present = new Set<InteractionType>();
  for (const it of interactions) present.add(it.type);
  if (present.has('purchase')) return ['purchase'];
  const opinions = [...KNOWN].filter((t) => present.has(t));
  return opinions.length > 0 ? opinions : [...present].sort();
}

/** The input restricted to the chosen interaction types. */
function usedInput(input: RecommendInput, types: readonly InteractionType[] | undefined): RecommendInput {
  if (!types) return input;
  const keep = new Set(types);
  return { ...input, interactions: input.interactions.filter((it) => keep.has(it.type)) };
}

/** Splits the data as `evaluateRecommendations` does (the first fold of `given`), so other rankers can be scored on it. */
export function holdOut(input: RecommendInput, options: EvaluateOptions): HoldOut {
  return holdOuts(input, options)[0] as HoldOut;
}

/** Every split `evaluateRecommendations` scores (one per fold of `given`, else one). */
export function holdOuts(input: RecommendInput, options: EvaluateOptions): HoldOut[] {
  const data = usedInput(input, options.types);
  const catalogue = new Set(data.products.map((p) => p.id));
  const targets = new Set(targetTypesOf(data.interactions));
  if (options.method === 'given') return givenSplits(data, options, catalogue, targets);
  return [
    options.method === 'hide'
      ? hideSplit(data, options.hideN ?? 2, options.seed ?? 42, catalogue, targets)
      : timeSplit(data, options.testDays ?? 30, catalogue, targets),
  ];
}

function timeSplit(
  input: RecommendInput,
  testDays: number,
  catalogue: ReadonlySet<string>,
  targets: ReadonlySet<InteractionType>,
): HoldOut {
  let maxTs = Number.NEGATIVE_INFINITY;
  for (const it of input.interactions) if (it.timestamp > maxTs) maxTs = it.timestamp;
  const cutoff = maxTs - testDays * DAY;
  const train: Interaction[] = [];
  const trainUsers = new Set<string>();
  const trainKnown = new Map<string, Set<string>>();
  for (const it of input.interactions) {
    if (it.timestamp >= cutoff) continue;
    train.push(it);
    trainUsers.add(it.user_id);
    if (KNOWN.has(it.type) && it.item_id !== null) getSet(trainKnown, it.user_id).add(it.item_id);
  }
  const test = new Map<string, Set<string>>();
  for (const it of input.interactions) {
    if (it.timestamp < cutoff || !targets.has(it.type) || it.item_id === null) continue;
    if (!trainUsers.has(it.user_id) || !catalogue.has(it.item_id)) continue;
    // A repeat cannot be predicted by a recommender that does not repeat known items, so it is not a target.
    if (trainKnown.get(it.user_id)?.has(it.item_id)) continue;
    getSet(test, it.user_id).add(it.item_id);
  }
  return { train, asOf: cutoff, test, cutoff };
}

/** Each user's distinct target items in order of first appearance (the data's order, so seeds are stable). */
function targetItems(
  input: RecommendInput,
  catalogue: ReadonlySet<string>,
  targets: ReadonlySet<InteractionType>,
): { items: Map<string, string[]>; maxTs: number } {
  const items = new Map<string, string[]>();
  const seen = new Set<string>();
  let maxTs = Number.NEGATIVE_INFINITY;
  for (const it of input.interactions) {
    if (it.timestamp > maxTs) maxTs = it.timestamp;
    if (!targets.has(it.type) || it.item_id === null || !catalogue.has(it.item_id)) continue;
    const key = `${it.user_id}\u0000${it.item_id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const list = items.get(it.user_id);
    if (list) list.push(it.item_id);
    else items.set(it.user_id, [it.item_id]);
  }
  return { items, maxTs };
}

function hideSplit(
  input: RecommendInput,
  hideN: number,
  seed: number,
  catalogue: ReadonlySet<string>,
  targets: ReadonlySet<InteractionType>,
): HoldOut {
  const { items: chosen, maxTs } = targetItems(input, catalogue, targets);
  const rng = createRng(seed);
  const test = new Map<string, Set<string>>();
  // Users in order of first target interaction, so the same data and seed always hide the same items.
  for (const [userId, items] of chosen) {
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

/**
 * Given-N: users with more than N target items, in `folds` seeded groups. For each fold, its users keep N random
 * target items (every interaction with them) and nothing else; the rest of their target items are the answer.
 */
function givenSplits(
  input: RecommendInput,
  options: EvaluateOptions,
  catalogue: ReadonlySet<string>,
  targets: ReadonlySet<InteractionType>,
): HoldOut[] {
  const given = Math.max(1, options.given ?? 5);
  const folds = Math.max(2, options.folds ?? 5);
  const { items: chosen, maxTs } = targetItems(input, catalogue, targets);
  const rng = createRng(options.seed ?? 42);
  const eligible = [...chosen.keys()].filter((u) => (chosen.get(u) as string[]).length > given);
  rng.shuffle(eligible);
  const splits: HoldOut[] = [];
  for (let f = 0; f < folds; f++) {
    const known = new Map<string, Set<string>>();
    const test = new Map<string, Set<string>>();
    for (let k = f; k < eligible.length; k += folds) {
      const userId = eligible[k] as string;
      const items = chosen.get(userId) as string[];
      const keep = new Set(Array.from(rng.sampleIndices(items.length, given), (i) => items[i] as string));
      known.set(userId, keep);
      test.set(userId, new Set(items.filter((id) => !keep.has(id))));
    }
    const train = input.interactions.filter((it) => {
      const keep = known.get(it.user_id);
      return !keep || (it.item_id !== null && keep.has(it.item_id));
    });
    splits.push({ train, asOf: maxTs + 1, test, cutoff: null });
  }
  return splits;
}

function getSet(map: Map<string, Set<string>>, key: string): Set<string> {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  return set;
}

/** Average precision at k: the mean over hits of the precision at their rank, over min(|relevant|, k). */
export function averagePrecisionAtK(
  recommended: readonly string[],
  relevant: ReadonlySet<string> | readonly string[],
  k: number,
): number {
  const rel = asSet(relevant);
  if (rel.size === 0 || k <= 0) return 0;
  let hits = 0;
  let sum = 0;
  const top = recommended.slice(0, k);
  for (let r = 0; r < top.length; r++) {
    if (!rel.has(top[r] as string)) continue;
    hits++;
    sum += hits / (r + 1);
  }
  return sum / Math.min(rel.size, k);
}

class MetricSum {
  private p1 = 0;
  private p2 = 0;
  private r2 = 0;
  private n2 = 0;
  private ap = 0;
  private users = 0;
  private readonly seen = new Set<string>();

  constructor(private readonly k: [number, number]) {}

  add(list: readonly string[], relevant: ReadonlySet<string>): void {
    const [k1, k2] = this.k;
    this.p1 += precisionAtK(list, relevant, k1);
    this.p2 += precisionAtK(list, relevant, k2);
    this.r2 += recallAtK(list, relevant, k2);
    this.n2 += ndcgAtK(list, relevant, k2);
    this.ap += averagePrecisionAtK(list, relevant, k2);
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
      mapAt10: this.ap / n,
      coverage: catalogueSize > 0 ? this.seen.size / catalogueSize : 0,
    };
  }
}

/** The three rankers' running metrics. */
interface Sums {
  ours: MetricSum;
  popularity: MetricSum;
  random: MetricSum;
}

/** Trains on part of the data, recommends to every test user, and scores ours against popularity and random. */
export function evaluateRecommendations(input: RecommendInput, options: EvaluateOptions): EvaluationResult {
  const k: [number, number] = options.k ?? [5, 10];
  const data = usedInput(input, options.types);
  const catalogue = new Set(data.products.map((p) => p.id));
  const targetTypes = targetTypesOf(data.interactions);
  const targets = new Set(targetTypes);
  const splits = holdOuts(data, options);
  const sums: Sums = { ours: new MetricSum(k), popularity: new MetricSum(k), random: new MetricSum(k) };
  let users = 0;
  for (const split of splits) users += scoreSplit(data, split, targets, options, sums, k);
  const isTime = options.method === 'time';
  return {
    method: options.method,
    ours: sums.ours.result(catalogue.size),
    popularity: sums.popularity.result(catalogue.size),
    random: sums.random.result(catalogue.size),
    users,
    items: catalogue.size,
    k,
    targetTypes,
    cutoff: splits[0]?.cutoff ?? null,
    testDays: isTime ? (options.testDays ?? 30) : null,
    hideN: options.method === 'hide' ? (options.hideN ?? 2) : null,
    given: options.method === 'given' ? Math.max(1, options.given ?? 5) : null,
    folds: options.method === 'given' ? Math.max(2, options.folds ?? 5) : null,
  };
}

/** Builds the model on one split and adds every test user's three lists to the sums; returns the test users. */
function scoreSplit(
  data: RecommendInput,
  split: HoldOut,
  targets: ReadonlySet<InteractionType>,
  options: EvaluateOptions,
  sums: Sums,
  k: [number, number],
): number {
  const depth = Math.max(k[0], k[1]);
  const train: RecommendInput = {
    profiles: data.profiles,
    products: data.products,
    interactions: split.train,
  };
  const model = buildRecommendModel(train, {
    asOf: split.asOf,
    ...(options.params ? { params: options.params } : {}),
  });
  // Baseline: distinct training users per item among the target types, best first, in stock only.
  const counts = new Map<string, Set<string>>();
  const known = new Map<string, Set<string>>();
  for (const it of split.train) {
    if (it.item_id === null || !(it.timestamp < split.asOf)) continue;
    if (targets.has(it.type)) getSet(counts, it.item_id).add(it.user_id);
    if (KNOWN.has(it.type)) getSet(known, it.user_id).add(it.item_id);
  }
  const inStock = data.products.filter((p) => p.in_stock).map((p) => p.id);
  const ranked = inStock
    .map((id, order) => ({ id, count: counts.get(id)?.size ?? 0, order }))
    .sort((a, b) => b.count - a.count || a.order - b.order)
    .map((p) => p.id);
  const rng = createRng(options.seed ?? 42);
  const users = [...split.test.keys()].sort();
  for (const userId of users) {
    const relevant = split.test.get(userId) as Set<string>;
    const own = known.get(userId);
    sums.ours.add(
      recommendForUser(model, train, userId, depth).items.map((r) => r.itemId),
      relevant,
    );
    sums.popularity.add(firstUnknown(ranked, own, depth), relevant);
    const shuffled = rng.shuffle(inStock.slice());
    sums.random.add(firstUnknown(shuffled, own, depth), relevant);
  }
  return users.length;
}

/** The first `depth` ids of `ranked` that the user does not know. */
function firstUnknown(
  ranked: readonly string[],
  own: ReadonlySet<string> | undefined,
  depth: number,
): string[] {
  const out: string[] = [];
  for (const id of ranked) {
    if (own?.has(id)) continue;
    out.push(id);
    if (out.length === depth) break;
  }
  return out;
}

/** The protocol in words, as the CLI states it. */
export function describeProtocol(result: EvaluationResult): string {
  const targets = result.targetTypes.join('/');
  if (result.method === 'time') {
    return `time split, last ${result.testDays} days held out; hits: new ${targets} items of people with earlier history`;
  }
  if (result.method === 'hide') {
    const what = targets === 'purchase' ? 'purchases' : `${targets} items`;
    return `hide split, ${result.hideN} random ${what} held out per user`;
  }
  return `given-${result.given}, ${result.folds} folds: each test user's ${result.given} random ${targets} items known, the rest hidden; hits: the hidden ones`;
}

/** A small text table of the three rankers and the lift of ours over popularity, for the CLI. */
export function formatEvaluation(result: EvaluationResult): string {
  const [k1, k2] = result.k;
  const rows: Array<[string, keyof Metrics]> = [
    [`precision@${k1}`, 'precisionAt5'],
    [`precision@${k2}`, 'precisionAt10'],
    [`recall@${k2}`, 'recallAt10'],
    [`nDCG@${k2}`, 'ndcgAt10'],
    [`MAP@${k2}`, 'mapAt10'],
    ['coverage', 'coverage'],
  ];
  const lines = [
    `Recommendations vs popularity and random (${describeProtocol(result)}): ${result.users.toLocaleString('en-US')} test users, ${result.items.toLocaleString('en-US')} items`,
    '',
    `${'metric'.padEnd(14)}${'model'.padStart(10)}${'popularity'.padStart(12)}${'lift'.padStart(10)}${'random'.padStart(10)}`,
  ];
  for (const [label, key] of rows) {
    const a = result.ours[key];
    const b = result.popularity[key];
    const lift = b > 0 ? `${a >= b ? '+' : '−'}${(Math.abs(a / b - 1) * 100).toFixed(1)}%` : '–';
    lines.push(
      `${label.padEnd(14)}${a.toFixed(4).padStart(10)}${b.toFixed(4).padStart(12)}${lift.padStart(10)}${result.random[key].toFixed(4).padStart(10)}`,
    );
  }
  if (result.users === 0)
    lines.push('', 'No test users: the held-out part has no new target items of people with history.');
  return lines.join('\n');
}
