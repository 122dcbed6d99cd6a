/**
 * Product recommendations: score(u, i) = P(u) · P(i|u).
 *
 * P(u) — propensity: the probability that user u buys anything in the next 30 days. Purchases are
 * treated as a Poisson process whose weekly rate has a Gamma prior fitted to the whole audience
 * (empirical Bayes): λ_u = (p_u + α) / (E_u + β), where p_u = purchases in the last 90 days, E_u = weeks
 * of that window the user existed (≥ 1), β = 4 prior weeks and α = β · λ̄ (λ̄ = audience purchases per
 * exposed week). P(u) = 1 − exp(−λ_u · 30/7). A user with no history gets the audience rate, a heavy
 * buyer approaches 1, and because every user is on the same probability scale, user-item pairs from
 * different users can be ranked together (segment lists). A store without purchases has no propensity to
 * speak of: the model says so (`hasPurchases`) and the score is P(i|u) alone.
 *
 * P(i|u) — the probability that u's next choice is item i: the user's own history through a collaborative
 * model, backed off to the category level, the segment and the whole audience,
 *   P(i|u) ∝ λ_c · P_cf(i|u) + λ_t · P_taste(i|u) + λ_s · P_seg(i|s(u)) + λ_p · P_pop(i),
 * restricted to items u can take (in stock, not already bought, rated or liked unless repeatable) and
 * renormalised to sum to 1 over them.
 * - a_u(j), the implicit feedback of u on item j: every interaction type counts, the strongest one per item
 *   by the configurable `typeWeights` (purchase 1 > positive rating 0.8 > like/share/comment 0.6 > click 0.4
 *   > view 0.2). A rating is positive at or above the person's own mean rating or the scale's threshold (4 on
 *   a 5-point scale including half stars, 8 on a 1–10 scale); a lower one still says "this person chose to
 *   try it" and counts `lowRatingWeight` of a positive one. Optionally halved every `historyHalfLifeDays`.
 * - P_cf(i|u): EASE's scores Σ_j a_u(j) · B(j,i) (collaborative.ts), clipped at 0 and normalised. Its
 *   regularisation, the time decay of the feedback and of popularity, and its share of the user's own part
 *   are chosen by validation on the store's own data when the model is built (seeded, deterministic), apart
 *   for short histories (at most 10 positive items: their own B and prior k) and long ones.
 * - P_taste(i|u) = P̂(c(i)|u) · P_pop(i | c(i)): the user's category mix, as the posterior mix of taste
 *   classes learned by EM (taste.ts), times the item's share of its category's popularity.
 * - P_seg: the purchase distribution of u's segment (time-decayed), smoothed toward P_pop with 10
 *   pseudo-purchases so small segments do not overfit.
 * - P_pop: audience-wide purchases (any positive feedback in a store without purchases), time-decayed with
 *   the validated half-life: "what sells now".
 * The weights follow the amount of history. With n_u = Σ_j a_u(j), λ_h = n_u / (n_u + 0.5) goes to the
 * user's own history, split λ_c = (1 − tasteShare) · λ_h and λ_t = tasteShare · λ_h with the fixed
 * `tasteShare` 0.2, which validation does not choose (all of λ_h to taste when the model has nothing for the
 * user's items; 0 measured alike on the MovieLens-shaped ratings and 1.3% lower on the older ratings shape).
 * The rest goes to the segment by its evidence, λ_s = (1 − λ_h) · S / (S + 20) with S the segment's decayed
 * purchases, and the remainder λ_p to popularity; a cold user is scored by the segment and popularity alone.
 *
 * Items are never recommended back to someone who bought, rated, liked, shared or commented on them, unless
 * the product is repeatable: at least `repeatRate` of its buyers (and 5 people) bought it more than once.
 *
 * Each item's reason names the mixture component contributing most to it: the history item behind it
 * ("bought by 38% of people who bought Trail Runner X"), taste ("popular in Sports, one of your top
 * categories"), segment ("popular in your segment 'Bargain hunters'") or popularity ("a bestseller this
 * month"). Shares are only quoted when at least `minCohortSize` people stand behind them.
 *
 * The model is plain JSON (it is cached in the store); the per-user history index is derived from the
 * interactions on first use and memoised per interactions array, so repeated queries are fast.
 */
import { UserError } from '../domain/errors.ts';
import type {
  RecommendCellRules,
  RecommendCensus,
  RecommendPairSums,
  RecommendSample,
  RecommendSamplePlan,
  RecommendSampleRows,
  RecommendSegmentSums,
} from '../domain/recommend-stats.ts';
import {
  INTERACTION_TYPES,
  type Interaction,
  type InteractionType,
  type Product,
  type Profile,
} from '../domain/types.ts';
import {
  type CollaborativeChoice,
  type CollaborativeFit,
  chooseCollaborative,
  DEFAULT_COLLABORATIVE_OPTIONS,
  eligibleRanks,
  type Feedback,
  feedbackCensus,
  finishCollaborative,
  gramOf,
  type NeighbourLists,
  popularityHalfLives,
  validationSample,
} from './collaborative.ts';
import {
  type InteractionIndex,
  interactionIndex,
  itemOf,
  profileKeys,
  TYPE_CODE,
  typeOf,
  valueAt,
} from './interaction-index.ts';
import {
  type CategoryCounts,
  fitTasteClasses,
  type TasteClasses,
  tasteCategoryMix,
  tasteSample,
} from './taste.ts';

/** The data the recommender reads. */
export interface RecommendInput {
  profiles: readonly Profile[];
  interactions: readonly Interaction[];
  products: readonly Product[];
}

/** Segment membership used for the segment backoff; labels are 0-based and aligned with userIds. */
export interface RecommendSegments {
  userIds: readonly string[];
  labels: ArrayLike<number>;
  names: readonly string[];
  /** Id of the stored segment run, kept in the model so a cache can tell when segments changed. */
  runId?: string;
}

/** Options of `buildRecommendModel`. */
export interface BuildRecommendOptions {
  /** Only interactions strictly before this instant (epoch ms) are used. */
  asOf: number;
  segments?: RecommendSegments;
  /** Neighbours kept per item (default 100): keeps the model small and queries fast. */
  maxNeighbours?: number;
  /** When the model was built (epoch ms); defaults to `asOf` because the engine reads no clock. */
  builtAt?: number;
  /** Overrides of the tuning constants (see `DEFAULT_RECOMMEND_PARAMS`). */
  params?: Partial<RecommendParams>;
}

/** The tuning constants of the model; stored in it so queries score exactly as the build intended. */
export interface RecommendParams {
  /** Neighbours kept per item. */
  maxNeighbours: number;
  /** Items the collaborative model covers (the most engaged ones); its build costs this number cubed. */
  maxModelItems: number;
  /** k in λ_h = n_u / (n_u + k). */
  historyPrior: number;
  /** k in λ_s = (1 − λ_c) · S / (S + k). */
  segmentPrior: number;
  /** Age at which a history item counts half (0: no decay); validation chooses among `halfLifeGrid`. */
  historyHalfLifeDays: number;
  /** Age at which a purchase counts half in the popularity tables (0: no decay); validated likewise. */
  popularityHalfLifeDays: number;
  /** Implicit feedback per interaction type (a rating by this weight when positive, see `lowRatingWeight`). */
  typeWeights: TypeWeights;
  /** A rating below both the person's mean and `ratingThreshold` counts this share of a positive one. */
  lowRatingWeight: number;
  /** Ratings at or above it are positive; null: 80% of the highest rating in the data (4 of 5, 8 of 10). */
  ratingThreshold: number | null;
  /** A product at least this share of whose buyers bought it again may be recommended to its buyers. */
  repeatRate: number;
  /** Share of the history weight λ_h given to taste (category level) rather than the collaborative model. */
  tasteShare: number;
  /** Validation grids: when a single value is wanted, pass a one-element grid. */
  lambdaGrid: number[];
  /** Dropout-rate candidates of the emphasised denoising fit (collaborative.ts); 0 is plain EASE. */
  dropoutGrid: number[];
  halfLifeGrid: number[];
  popularityHalfLifeGrid: number[];
  priorGrid: number[];
  /** Taste classes fitted by EM (fewer when there is little data: one per 50 users with history). */
  tasteClasses: number;
  /** Seed of the taste-class initialisation. */
  seed: number;
}

/** Evidence weight per interaction type. */
export type TypeWeights = Record<InteractionType, number>;

/**
 * The defaults. The type weights order the strength of intent (a purchase commits money, a rating or a like is
 * a stated opinion, a click or a view only attention); the half-lives, the model's regularisation and the
 * taste share are starting points that validation replaces when the model is built.
 */
export const DEFAULT_RECOMMEND_PARAMS: RecommendParams = {
  maxNeighbours: DEFAULT_COLLABORATIVE_OPTIONS.maxNeighbours,
  maxModelItems: DEFAULT_COLLABORATIVE_OPTIONS.maxItems,
  historyPrior: 0.5,
  segmentPrior: 20,
  historyHalfLifeDays: 0,
  popularityHalfLifeDays: 30,
  typeWeights: { purchase: 1, rating: 0.8, like: 0.6, share: 0.6, comment: 0.6, click: 0.4, view: 0.2 },
  lowRatingWeight: 0.5,
  ratingThreshold: null,
  repeatRate: 0.5,
  tasteShare: 0.2,
  lambdaGrid: [...DEFAULT_COLLABORATIVE_OPTIONS.lambdaGrid],
  dropoutGrid: [...DEFAULT_COLLABORATIVE_OPTIONS.dropoutGrid],
  halfLifeGrid: [...DEFAULT_COLLABORATIVE_OPTIONS.halfLifeGrid],
  popularityHalfLifeGrid: [...DEFAULT_COLLABORATIVE_OPTIONS.popularityHalfLifeGrid],
  priorGrid: [...DEFAULT_COLLABORATIVE_OPTIONS.priorGrid],
  tasteClasses: 8,
  seed: 42,
};

/** A fitted recommender, plain JSON: sparse neighbour lists in CSR form plus popularity tables. */
export interface RecommendModel {
  version: 5;
  itemIds: string[];
  /** Neighbours of item j are at indices neighbourStart[j] .. neighbourStart[j+1]-1 of the arrays below. */
  neighbourStart: number[];
  neighbourItems: number[];
  /** The collaborative model's weight B(j,i) (collaborative.ts); negative weights speak against i. */
  neighbourWeights: number[];
  /** B at the short-history λ (collaborative.short), for people with few items; absent: the lists above. */
  shortNeighbours?: NeighbourLists;
  /** Users who chose both j and i (bought both; in a store without purchases, positive feedback on both). */
  neighbourCoBought: number[];
  /** Users who engaged with j in any way and chose i. */
  neighbourCoEngaged: number[];
  /** Distinct buyers per item (people with positive feedback in a store without purchases). */
  buyers: number[];
  /** Distinct users with a positive interaction per item. */
  engagers: number[];
  /** False when the data has no purchase: P(u) is then unknown and scores are P(i|u). */
  hasPurchases: boolean;
  /** Items recommended again to their buyers, by learned repurchase rate. */
  repeatable: number[];
  /** What validation chose, and the hit rates it measured. */
  collaborative: Omit<
    CollaborativeFit,
    'neighbourStart' | 'neighbourItems' | 'neighbourWeights' | 'shortNeighbours'
  >;
  /** Category names, and each item's index into them. */
  categories: string[];
  itemCategory: number[];
  /** Taste classes over `categories` (see taste.ts). */
  taste: TasteClasses;
  /** P_pop(i), time-decayed purchase share. */
  popularity: number[];
  /** Purchases (positive feedback without purchases) per item in the 30 days before asOf. */
  recentPurchases: number[];
  /** P_seg(i|s), one row per segment. */
  segmentPopularity?: number[][];
  /** Time-decayed purchases per segment (the evidence S behind λ_s). */
  segmentPurchases?: number[];
  segmentNames?: string[];
  segmentUserIds?: string[];
  segmentLabels?: number[];
  segmentRunId?: string;
  /** Gamma prior of the weekly purchase rate. */
  propensityPrior: { alpha: number; beta: number };
  params: RecommendParams;
  builtAt: number;
  asOf: number;
}

/** One recommended item for a user. */
export interface UserRecommendation {
  itemId: string;
  name: string;
  category: string;
  price: number;
  /** P(u) · P(i|u). */
  score: number;
  pItemGivenUser: number;
  reason: string;
  reasonKind: ReasonKind;
}

/** Recommendations for one user. */
export interface UserRecommendations {
  kind: 'user';
  userId: string;
  /** P(u); null when the data has no purchases to estimate it from (scores are then P(i|u)). */
  propensity: number | null;
  /** Weight of the user's own history in P(i|u) (λ_c); 0 for a cold user. */
  historyWeight: number;
  segmentName: string | null;
  items: UserRecommendation[];
}

/** One recommended item for a segment. */
export interface SegmentRecommendation {
  itemId: string;
  name: string;
  category: string;
  price: number;
  /** Mean of P(u) · P(i|u) over the segment's members. */
  score: number;
  reason: string;
  reasonKind: ReasonKind;
  /** Σ over members of P(u) · P(i|u): members expected to buy the item next month. */
  expectedBuyers: number;
}

/** Recommendations for one segment (0-based index, as stored). */
export interface SegmentRecommendations {
  kind: 'segment';
  segment: number;
  segmentName: string;
  size: number;
  items: SegmentRecommendation[];
}

/** Which part of the mixture explains a recommendation. */
export type ReasonKind = 'together' | 'taste' | 'segment' | 'popular';

/** Options of the query functions. */
export interface QueryOptions {
  /** Shares in reasons are only quoted when at least this many people stand behind them (default 5). */
  minCohortSize?: number;
  /**
   * The person's segment (0-based; null: none) when the model keeps no member lists (built from a database's
   * statistics, see `withSegmentSums`); by default the model's lists say.
   */
  segment?: number | null;
}

/** A recommendation that cannot be made (unknown user or segment, empty catalogue); the message says what would work. */
export class RecommendError extends UserError {
  override name = 'RecommendError';
  readonly code = 'recommend';
}

const DAY = 86_400_000;
const WEEK = 7 * DAY;
const PROPENSITY_WINDOW_DAYS = 90;
const PROPENSITY_HORIZON_DAYS = 30;
const PROPENSITY_PRIOR_WEEKS = 4;
/** The smallest co-purchase share a reason quotes (below it the share reads as a reason against the item). */
const QUOTED_SHARE = 0.05;
const RECENT_DAYS = 30;
const SEGMENT_SMOOTHING = 10;
const POPULARITY_SMOOTHING = 0.1;
const MAX_HISTORY = 1000;
const MIN_REPEAT_BUYERS = 5;
/** A history prior so large that the history weight n / (n + k) is nil: scores are the backoff alone. */
const POPULARITY_ONLY_PRIOR = 1e12;

/** How a rating is judged: positive at or above `threshold` or the person's own mean rating. */
export interface RatingRule {
  threshold: number;
  userMean: number;
  lowRatingWeight: number;
}

/** How strongly one interaction says "this user cares about this item"; 0 means no signal. */
export function interactionWeight(
  type: InteractionType,
  value: number | null,
  weights: TypeWeights = DEFAULT_RECOMMEND_PARAMS.typeWeights,
  rule: RatingRule = {
    threshold: 4,
    userMean: Number.NaN,
    lowRatingWeight: DEFAULT_RECOMMEND_PARAMS.lowRatingWeight,
  },
): number {
  if (type === 'rating') return ratingWeight(value ?? Number.NaN, weights, rule);
  return weights[type] ?? 0;
}

/** `interactionWeight` of a rating; NaN is a rating without stars. */
function ratingWeight(value: number, weights: TypeWeights, rule: RatingRule): number {
  // A low rating still says the person chose to try the item, which predicts what they try next; it counts less.
  if (Number.isNaN(value)) return weights.rating * rule.lowRatingWeight;
  return value >= rule.threshold || value >= rule.userMean
    ? weights.rating
    : weights.rating * rule.lowRatingWeight;
}

/** Interaction types after which an item is not recommended again (unless repeatable). */
const KNOWN_TYPES: readonly InteractionType[] = ['purchase', 'rating', 'like', 'share', 'comment'];

/** Per-user history over the model's items, derived from the interactions before asOf. */
interface HistoryIndex {
  asOf: number;
  /** The interaction view and profiles it was derived from (the view is rebuilt when the interactions change). */
  source: InteractionIndex;
  profiles: readonly Profile[];
  profilesLength: number;
  /** The user number of each key of the view (-1: not a user here), and of profile ids the view has no key for. */
  userOfKey: Int32Array;
  keyless: Map<string, number>;
  userIds: string[];
  /** CSR over users of distinct (item, strongest weight, bought, last timestamp). */
  start: Int32Array;
  items: Int32Array;
  weights: Float32Array;
  /** Sum of the weights of every interaction with the item (taste evidence: repeated visits count). */
  evidence: Float32Array;
  bought: Uint8Array;
  /** 1 when the user bought, rated, liked, shared or commented on the item. */
  known: Uint8Array;
  /** Purchases of the item by the user (repeat purchases make an item repeatable). */
  buys: Int32Array;
  /** Time of the user's last purchase of the item, for the segment tables. */
  lastBuy: Float64Array;
  /** First and last time the user interacted with the item. */
  firstTs: Float64Array;
  lastTs: Float64Array;
  purchasesInWindow: Int32Array;
  exposureWeeks: Float32Array;
  /** Per item: purchases in the last 30 days. */
  itemRecentBuys: Int32Array;
  /** The rating threshold the rules resolved to (see `RecommendParams.ratingThreshold`). */
  ratingThreshold: number;
  anyPurchase: boolean;
}

const itemIndexCache = new WeakMap<readonly string[], Map<string, number>>();
const historyCache = new WeakMap<object, WeakMap<readonly Interaction[], HistoryIndex>>();
const productCache = new WeakMap<readonly Product[], Map<string, Product>>();

function itemIndexOf(itemIds: readonly string[]): Map<string, number> {
  let map = itemIndexCache.get(itemIds);
  if (!map) {
    map = new Map();
    for (let i = 0; i < itemIds.length; i++) map.set(itemIds[i] as string, i);
    itemIndexCache.set(itemIds, map);
  }
  return map;
}

function productsById(products: readonly Product[]): Map<string, Product> {
  const cached = productCache.get(products);
  // Products may be replaced in place (a stock change); a pass of identity checks is cheaper than a rebuild.
  if (cached && cached.size === products.length && products.every((p) => cached.get(p.id) === p))
    return cached;
  const map = new Map<string, Product>();
  for (const p of products) map.set(p.id, p);
  productCache.set(products, map);
  return map;
}

/**
 * One pass over the shared typed view of the interactions (interaction-index.ts): no id string is hashed per
 * interaction, and the view already groups each user's events in data order, so the per-user history is
 * deduplicated in the same sweep.
 */
function buildHistory(
  input: RecommendInput,
  itemIds: readonly string[],
  asOf: number,
  params: RecommendParams,
): HistoryIndex {
  const index = interactionIndex(input.interactions, input.profiles);
  const users = historyUsers(input, index, asOf);
  const itemIndex = itemIndexOf(itemIds);
  const itemOfKey = Int32Array.from(index.itemIds, (id) => itemIndex.get(id) ?? -1);
  const rows = historyRows(index, users, itemOfKey, itemIds.length, asOf, params);
  return {
    asOf,
    source: index,
    profiles: input.profiles,
    profilesLength: input.profiles.length,
    userOfKey: users.userOfKey,
    keyless: users.keyless,
    userIds: users.userIds,
    ...rows,
    ...recentItemBuys(index, itemOfKey, itemIds.length, asOf),
  };
}

/** The history's users: the profiles, then people seen only in interactions, with their ids and creation times. */
interface HistoryUsers {
  userOfKey: Int32Array;
  keyless: Map<string, number>;
  userIds: string[];
  /** The view's key of each user (-1: a profile without interactions in the view). */
  keyOfUser: number[];
  /** Earliest creation time per user (+∞ when unknown). */
  created: number[];
}

/**
 * Users are the profiles (first copy of a repeated id wins), then people seen only in interactions. Ids are
 * matched through the view's keys (no string hashing when the view was built with these profiles); ids it has no
 * key for (profiles without interactions, when it was not) go through a Map.
 */
function historyUsers(input: RecommendInput, index: InteractionIndex, asOf: number): HistoryUsers {
  const { profiles } = input;
  const keys = profileKeys(index, profiles);
  const users: HistoryUsers = {
    userOfKey: new Int32Array(index.userIds.length).fill(-1),
    keyless: new Map(),
    userIds: [],
    keyOfUser: [],
    created: [],
  };
  const { userOfKey, keyless, userIds, keyOfUser, created } = users;
  for (let i = 0; i < profiles.length; i++) {
    const p = profiles[i] as Profile;
    const key = keys[i] as number;
    let u = key >= 0 ? (userOfKey[key] as number) : (keyless.get(p.id) ?? -1);
    if (u < 0) {
      u = userIds.length;
      if (key >= 0) userOfKey[key] = u;
      else keyless.set(p.id, u);
      userIds.push(p.id);
      keyOfUser.push(key);
      created.push(Number.POSITIVE_INFINITY);
    }
    if (p.created_at !== null && p.created_at < (created[u] as number)) created[u] = p.created_at;
  }
  for (const { key } of strangersOf(input.interactions, index, userOfKey, asOf)) {
    userOfKey[key] = userIds.length;
    userIds.push(index.userIds[key] as string);
    keyOfUser.push(key);
    created.push(Number.POSITIVE_INFINITY);
  }
  return users;
}

/** People with events before asOf but no profile, in the order of their first such event in the data. */
function strangersOf(
  interactions: readonly Interaction[],
  index: InteractionIndex,
  userOfKey: Int32Array,
  asOf: number,
): Array<{ key: number; first: number }> {
  const { start: groupStart, f64 } = index;
  const strangers: Array<{ key: number; first: number }> = [];
  let lateStarters = false;
  for (let key = 0; key < index.userIds.length; key++) {
    if ((userOfKey[key] as number) >= 0) continue;
    const from = groupStart[key] as number;
    const to = groupStart[key + 1] as number;
    if (from === to) continue;
    // A block keeps data order, so its first row is the user's first event.
    if ((f64[2 * from] as number) < asOf) strangers.push({ key, first: index.firstEvent[key] as number });
    else {
      for (let r = from + 1; r < to; r++) {
        if ((f64[2 * r] as number) < asOf) {
          strangers.push({ key, first: -1 });
          lateStarters = true;
          break;
        }
      }
    }
  }
  // Unsorted data only: someone first seen after asOf, but also before it later in the data.
  if (lateStarters) firstEventsBefore(interactions, index, asOf, strangers);
  return strangers.sort((x, y) => x.first - y.first);
}

/** Per item, purchases in the 30 days before asOf, and whether any catalogue item was bought before asOf. */
function recentItemBuys(index: InteractionIndex, itemOfKey: Int32Array, nItems: number, asOf: number) {
  const { purchases } = index;
  const recentStart = asOf - RECENT_DAYS * DAY;
  const itemRecentBuys = new Int32Array(nItems);
  let anyPurchase = false;
  for (let p = 0; p < purchases.ts.length; p++) {
    const ts = purchases.ts[p] as number;
    if (!(ts < asOf)) continue;
    const item = purchases.item[p] as number;
    const i = item >= 0 ? (itemOfKey[item] as number) : -1;
    if (i < 0) continue;
    anyPurchase = true;
    if (ts >= recentStart) itemRecentBuys[i] = (itemRecentBuys[i] as number) + 1;
  }
  return { itemRecentBuys, anyPurchase };
}

/** The per-(user, item) rows of the history under construction, and per-user purchase counts. */
type RowBuffers = Pick<
  HistoryIndex,
  | 'start'
  | 'items'
  | 'weights'
  | 'evidence'
  | 'bought'
  | 'known'
  | 'buys'
  | 'lastBuy'
  | 'firstTs'
  | 'lastTs'
  | 'purchasesInWindow'
  | 'exposureWeeks'
>;

/** How one interaction is read: the weight of each type, which types make an item known, the rating rule. */
interface RowRules {
  weights: TypeWeights;
  weightOfType: Float32Array;
  knownCode: Uint8Array;
  rule: RatingRule;
  windowStart: number;
  asOf: number;
}

/** One row per (user, item) with the strongest weight, summed evidence, purchases and first and last time. */
function historyRows(
  index: InteractionIndex,
  users: HistoryUsers,
  itemOfKey: Int32Array,
  nItems: number,
  asOf: number,
  params: RecommendParams,
) {
  const nUsers = users.userIds.length;
  const capacity = index.length;
  const b: RowBuffers = {
    start: new Int32Array(nUsers + 1),
    items: new Int32Array(capacity),
    weights: new Float32Array(capacity),
    evidence: new Float32Array(capacity),
    bought: new Uint8Array(capacity),
    known: new Uint8Array(capacity),
    buys: new Int32Array(capacity),
    lastBuy: new Float64Array(capacity).fill(Number.NEGATIVE_INFINITY),
    firstTs: new Float64Array(capacity),
    lastTs: new Float64Array(capacity),
    purchasesInWindow: new Int32Array(nUsers),
    exposureWeeks: new Float32Array(nUsers),
  };
  const rules = rowRules(index, asOf, params);
  const mark = new Int32Array(nItems).fill(-1);
  const slot = new Int32Array(nItems);
  let out = 0;
  for (let u = 0; u < nUsers; u++) {
    b.start[u] = out;
    const key = users.keyOfUser[u] as number;
    const user = key >= 0 ? userRows(index, key, u, itemOfKey, rules, b, mark, slot, out) : null;
    if (user) out = user.out;
    const born = Math.min(users.created[u] as number, user?.firstSeen ?? Number.POSITIVE_INFINITY);
    const from = Number.isFinite(born) ? Math.max(born, rules.windowStart) : rules.windowStart;
    b.exposureWeeks[u] = Math.max(1, (asOf - from) / WEEK);
  }
  b.start[nUsers] = out;
  return {
    ratingThreshold: rules.rule.threshold,
    start: b.start,
    items: b.items.slice(0, out),
    weights: b.weights.slice(0, out),
    evidence: b.evidence.slice(0, out),
    bought: b.bought.slice(0, out),
    known: b.known.slice(0, out),
    buys: b.buys.slice(0, out),
    lastBuy: b.lastBuy.slice(0, out),
    firstTs: b.firstTs.slice(0, out),
    lastTs: b.lastTs.slice(0, out),
    purchasesInWindow: b.purchasesInWindow,
    exposureWeeks: b.exposureWeeks,
  };
}

function rowRules(index: InteractionIndex, asOf: number, params: RecommendParams): RowRules {
  const weights = params.typeWeights;
  // Weights are kept as 32-bit floats (the history is large); rounding them first keeps every sum the same.
  const weightOfType = new Float32Array(256);
  for (const type of INTERACTION_TYPES) weightOfType[TYPE_CODE[type]] = weights[type] ?? 0;
  const knownCode = new Uint8Array(256);
  for (const type of KNOWN_TYPES) knownCode[TYPE_CODE[type]] = 1;
  const rule: RatingRule = {
    threshold: params.ratingThreshold ?? ratingThreshold(index, asOf),
    userMean: Number.NaN,
    lowRatingWeight: params.lowRatingWeight,
  };
  return { weights, weightOfType, knownCode, rule, windowStart: asOf - PROPENSITY_WINDOW_DAYS * DAY, asOf };
}

/**
 * Adds user u's rows (the view's block `key`) from row `out` on; returns the next free row and the user's first
 * event before asOf. `mark`/`slot` find the user's row of an item (marked with u, so never cleared).
 */
function userRows(
  index: InteractionIndex,
  key: number,
  u: number,
  itemOfKey: Int32Array,
  rules: RowRules,
  b: RowBuffers,
  mark: Int32Array,
  slot: Int32Array,
  out: number,
): { out: number; firstSeen: number } {
  const { f64, i32 } = index;
  const from = index.start[key] as number;
  const to = index.start[key + 1] as number;
  const { asOf, rule } = rules;
  rule.userMean = meanRating(index, from, to, asOf);
  let firstSeen = Number.POSITIVE_INFINITY;
  let inWindow = 0;
  for (let r = from; r < to; r++) {
    const ts = f64[2 * r] as number;
    if (!(ts < asOf)) continue;
    if (ts < firstSeen) firstSeen = ts;
    const packed = i32[4 * r + 2] as number;
    const code = typeOf(packed);
    const isPurchase = code === TYPE_CODE.purchase;
    if (isPurchase && ts >= rules.windowStart) inWindow++;
    const item = itemOf(packed);
    const i = item >= 0 ? (itemOfKey[item] as number) : -1;
    if (i < 0) continue;
    const w =
      code === TYPE_CODE.rating
        ? Math.fround(ratingWeight(valueAt(index, r), rules.weights, rule))
        : (rules.weightOfType[code] as number);
    let row: number;
    if (mark[i] !== u) {
      mark[i] = u;
      row = out++;
      slot[i] = row;
      b.items[row] = i;
      b.weights[row] = w;
      b.evidence[row] = w;
      b.firstTs[row] = ts;
      b.lastTs[row] = ts;
    } else {
      row = slot[i] as number;
      if (w > (b.weights[row] as number)) b.weights[row] = w;
      b.evidence[row] = (b.evidence[row] as number) + w;
      if (ts > (b.lastTs[row] as number)) b.lastTs[row] = ts;
      if (ts < (b.firstTs[row] as number)) b.firstTs[row] = ts;
    }
    if (rules.knownCode[code]) b.known[row] = 1;
    if (isPurchase) {
      b.buys[row] = (b.buys[row] as number) + 1;
      b.bought[row] = 1;
      if (ts > (b.lastBuy[row] as number)) b.lastBuy[row] = ts;
    }
  }
  b.purchasesInWindow[u] = inWindow;
  return { out, firstSeen };
}

/** The user's mean rating before asOf over rows from..to of the view (NaN without ratings). */
function meanRating(index: InteractionIndex, from: number, to: number, asOf: number): number {
  let sum = 0;
  let n = 0;
  for (let r = from; r < to; r++) {
    if (typeOf(index.i32[4 * r + 2] as number) !== TYPE_CODE.rating || !((index.f64[2 * r] as number) < asOf))
      continue;
    const v = valueAt(index, r);
    if (Number.isNaN(v)) continue;
    sum += v;
    n++;
  }
  return n > 0 ? sum / n : Number.NaN;
}

/** 80% of the highest rating before asOf: 4 on a 5-point scale (with or without half stars), 8 on 1–10. */
function ratingThreshold(index: InteractionIndex, asOf: number): number {
  let max = 0;
  for (let r = 0; r < index.length; r++) {
    if (typeOf(index.i32[4 * r + 2] as number) !== TYPE_CODE.rating || !((index.f64[2 * r] as number) < asOf))
      continue;
    const v = valueAt(index, r);
    if (v > max) max = v;
  }
  return max > 5 ? 0.8 * Math.max(10, max) : 4;
}

/** A user's number in the history (profiles first, then people only seen in interactions), if any. */
function userNumber(history: HistoryIndex, id: string): number | undefined {
  const key = history.source.userKeys[id];
  if (key === undefined) return history.keyless.get(id);
  const u = history.userOfKey[key] as number;
  return u >= 0 ? u : undefined;
}

/** Fills in `first` (-1) with the index of the user's first event before asOf, by a scan in data order. */
function firstEventsBefore(
  interactions: readonly Interaction[],
  index: InteractionIndex,
  asOf: number,
  users: Array<{ key: number; first: number }>,
): void {
  const pending = new Map<number, { key: number; first: number }>();
  for (const u of users) if (u.first < 0) pending.set(u.key, u);
  for (let k = 0; k < interactions.length && pending.size > 0; k++) {
    const it = interactions[k] as Interaction;
    if (!(it.timestamp < asOf)) continue;
    const entry = pending.get(index.userKeys[it.user_id] ?? -1);
    if (entry) {
      entry.first = k;
      pending.delete(entry.key);
    }
  }
}

function historyFor(model: RecommendModel, input: RecommendInput): HistoryIndex {
  let perModel = historyCache.get(model.itemIds);
  if (!perModel) {
    perModel = new WeakMap();
    historyCache.set(model.itemIds, perModel);
  }
  const cached = perModel.get(input.interactions);
  if (
    cached &&
    cached.asOf === model.asOf &&
    cached.source === interactionIndex(input.interactions, input.profiles) &&
    cached.profiles === input.profiles &&
    cached.profilesLength === input.profiles.length
  ) {
    return cached;
  }
  const fresh = buildHistory(input, model.itemIds, model.asOf, model.params);
  perModel.set(input.interactions, fresh);
  return fresh;
}

/** The parameters of a build: defaults, then the caller's overrides. */
function resolveParams(options: BuildRecommendOptions): RecommendParams {
  const params: RecommendParams = {
    ...DEFAULT_RECOMMEND_PARAMS,
    ...options.params,
    typeWeights: { ...DEFAULT_RECOMMEND_PARAMS.typeWeights, ...options.params?.typeWeights },
  };
  if (options.maxNeighbours !== undefined) params.maxNeighbours = options.maxNeighbours;
  params.maxNeighbours = Math.max(1, Math.floor(params.maxNeighbours));
  return params;
}

/**
 * The history as the collaborative model's input. Heavy users (or bots) would add quadratic pairs; only their
 * MAX_HISTORY most recent items take part.
 */
function feedbackOf(
  history: HistoryIndex,
  nItems: number,
  anyPurchase: boolean = history.anyPurchase,
): Feedback {
  const { start, items, firstTs, lastTs, bought } = history;
  const weights = history.weights.slice();
  const target = new Uint8Array(items.length);
  for (let r = 0; r < items.length; r++) {
    target[r] = anyPurchase ? (bought[r] as number) : (weights[r] as number) > 0 ? 1 : 0;
  }
  for (let u = 0; u + 1 < start.length; u++) {
    const from = start[u] as number;
    const to = start[u + 1] as number;
    if (to - from <= MAX_HISTORY) continue;
    const rows = rangeArray(from, to).sort((a, b) => (lastTs[b] as number) - (lastTs[a] as number) || a - b);
    for (const r of rows.slice(MAX_HISTORY)) weights[r] = 0;
  }
  return { nItems, start, items, weights, firstTs, lastTs, target };
}

/** Fits the recommender on interactions before `options.asOf`; pure and deterministic. */
export function buildRecommendModel(input: RecommendInput, options: BuildRecommendOptions): RecommendModel {
  const asOf = options.asOf;
  const params = resolveParams(options);
  const itemIds = input.products.map((p) => p.id);
  const nItems = itemIds.length;
  const history = buildHistory(input, itemIds, asOf, params);
  const feedback = feedbackOf(history, nItems);
  // The same statistics a database aggregates in SQL, here from memory; the fit below is shared.
  const census = censusOf(history, feedback, params);
  const sample = sampleOf(history, feedback, recommendSamplePlan(census, options));
  const draft = planRecommendModel(input.products, census, sample, options);
  const pairs: RecommendPairs = {
    gram: gramOf(feedback, draft.collaborative.itemSet, null, asOf, draft.collaborative.halfLifeDays),
    coCounts: (neighbours) => coCounts(history, feedback.target, neighbours, nItems),
  };
  const model = finishRecommendModel(draft, pairs);
  // The first query on the same interactions reuses the index built here.
  historyCache.set(model.itemIds, new WeakMap([[input.interactions, history]]));
  const seg = options.segments;
  if (seg && seg.names.length > 0) addSegments(model, history, seg);
  return model;
}

/** How a backend should turn interactions into the recommender's cells for a build with these options. */
export function recommendCellRules(options: BuildRecommendOptions): RecommendCellRules {
  const params = resolveParams(options);
  const weights = params.typeWeights;
  const typeWeights = Object.fromEntries(
    INTERACTION_TYPES.map((t) => [t, Math.fround(weights[t] ?? 0)]),
  ) as Record<InteractionType, number>;
  return {
    asOf: options.asOf,
    typeWeights,
    lowRatingWeight: Math.fround(weights.rating * params.lowRatingWeight),
    ratingThreshold: params.ratingThreshold,
    knownTypes: KNOWN_TYPES,
    maxHistory: MAX_HISTORY,
    propensityWindowDays: PROPENSITY_WINDOW_DAYS,
    recentDays: RECENT_DAYS,
    popularityHalfLives: popularityHalfLives(params.popularityHalfLifeGrid),
  };
}

/** Whose cells the fit reads (seeded): validation's people and taste's, by position (see RecommendSamplePlan). */
export function recommendSamplePlan(
  census: RecommendCensus,
  options: BuildRecommendOptions,
): RecommendSamplePlan {
  const seed = resolveParams(options).seed;
  const plan = validationSample(census, seed, DEFAULT_COLLABORATIVE_OPTIONS.validationUsers);
  const evidence = tasteSample(census.evidenceUsers, { seed });
  return {
    eligible: Array.from(plan.eligible),
    users: plan.users ? Array.from(plan.users) : null,
    evidence: evidence ? Array.from(evidence) : null,
  };
}

/** What the fit has decided before the item-pair sums: everything but the collaborative model's weights. */
export interface RecommendDraft {
  base: Omit<
    RecommendModel,
    'neighbourStart' | 'neighbourItems' | 'neighbourWeights' | 'neighbourCoBought' | 'neighbourCoEngaged'
  >;
  collaborative: CollaborativeChoice;
}

/** The item-pair sums over the draft's items, and the co-counts behind each kept neighbour pair. */
export interface RecommendPairs {
  gram: Float64Array;
  coCounts(neighbours: { neighbourStart: number[]; neighbourItems: number[] }): {
    coBought: number[];
    coEngaged: number[];
  };
}

/**
 * The first half of a fit from statistics (pure): validation on the sample, taste classes, popularity and the
 * propensity prior. `finishRecommendModel` adds the collaborative model from the item-pair sums over
 * `draft.collaborative.itemSet` at `draft.collaborative.halfLifeDays`.
 */
export function planRecommendModel(
  products: readonly Product[],
  census: RecommendCensus,
  sample: RecommendSample,
  options: BuildRecommendOptions,
): RecommendDraft {
  const { asOf } = options;
  const params = resolveParams(options);
  params.ratingThreshold = census.ratingThreshold;
  const choice = chooseCollaborative(census, sample, {
    ...DEFAULT_COLLABORATIVE_OPTIONS,
    asOf,
    seed: params.seed,
    maxItems: params.maxModelItems,
    maxNeighbours: params.maxNeighbours,
    lambdaGrid: params.lambdaGrid,
    dropoutGrid: params.dropoutGrid,
    halfLifeGrid: params.halfLifeGrid,
    popularityHalfLifeGrid: params.popularityHalfLifeGrid,
    priorGrid: params.priorGrid,
  });
  // What validation chose becomes the model's parameters, so queries score exactly as validated.
  params.historyHalfLifeDays = choice.halfLifeDays;
  params.popularityHalfLifeDays = choice.popularityHalfLifeDays;
  params.historyPrior = choice.historyPrior;
  // Validation found no blend at least as good as popularity for both questions: popularity it is (the user's
  // own history only keeps known items out), rather than an unvalidated category taste.
  if (choice.share === 0) params.historyPrior = POPULARITY_ONLY_PRIOR;
  const { categories, itemCategory } = categoriesOf(products);
  const taste = fitTasteClasses(
    sampleCategoryCounts(sample, itemCategory, categories.length, asOf, params.historyHalfLifeDays),
    categories.length,
    { classes: params.tasteClasses, seed: params.seed, population: census.evidenceUsers },
  );
  const { itemSet: _items, ...chosen } = choice;
  const popularity = census.popularity[String(choice.popularityHalfLifeDays)] ?? [];
  const base: RecommendDraft['base'] = {
    version: 5,
    itemIds: products.map((p) => p.id),
    categories,
    itemCategory,
    taste,
    ...itemCountsOf(census, params.repeatRate),
    hasPurchases: census.anyPurchase,
    // The ridge λ is known once the full Gram matrix is (finishRecommendModel).
    collaborative: { ...chosen, ridge: 0, short: chosen.short ? { ...chosen.short, ridge: 0 } : null },
    popularity: toDistribution(Float64Array.from(popularity), POPULARITY_SMOOTHING),
    propensityPrior: propensityPriorOf(census),
    params,
    builtAt: options.builtAt ?? asOf,
    asOf,
  };
  return { base, collaborative: choice };
}

/** The second half of a fit from statistics: the collaborative model from the item-pair sums (pure). */
export function finishRecommendModel(draft: RecommendDraft, pairs: RecommendPairs): RecommendModel {
  const nItems = draft.base.itemIds.length;
  const fit = finishCollaborative(draft.collaborative, pairs.gram, nItems, draft.base.params.maxNeighbours);
  const co = pairs.coCounts(fit);
  return {
    ...draft.base,
    collaborative: { ...draft.base.collaborative, ridge: fit.ridge, short: fit.short },
    neighbourStart: fit.neighbourStart,
    neighbourItems: fit.neighbourItems,
    neighbourWeights: fit.neighbourWeights,
    ...(fit.shortNeighbours ? { shortNeighbours: fit.shortNeighbours } : {}),
    neighbourCoBought: co.coBought,
    neighbourCoEngaged: co.coEngaged,
  };
}

/** `RecommendPairs` from sums a backend aggregated over every pair of the model's items. */
export function pairsFromSums(sums: RecommendPairSums): RecommendPairs {
  const m = sums.items.length;
  const local = new Map<number, number>();
  for (let a = 0; a < m; a++) local.set(sums.items[a] as number, a);
  return {
    gram: sums.gram,
    coCounts: ({ neighbourStart, neighbourItems }) => {
      const coBought = new Array<number>(neighbourItems.length).fill(0);
      const coEngaged = new Array<number>(neighbourItems.length).fill(0);
      for (let j = 0; j + 1 < neighbourStart.length; j++) {
        const a = local.get(j);
        if (a === undefined) continue;
        for (let p = neighbourStart[j] as number; p < (neighbourStart[j + 1] as number); p++) {
          const b = local.get(neighbourItems[p] as number);
          if (b === undefined) continue;
          coBought[p] = sums.coBought[a * m + b] as number;
          coEngaged[p] = sums.coEngaged[a * m + b] as number;
        }
      }
      return { coBought, coEngaged };
    },
  };
}

/** Category names in order of first appearance in the catalogue, and each item's index into them. */
function categoriesOf(products: readonly Product[]): { categories: string[]; itemCategory: number[] } {
  const categories: string[] = [];
  const categoryIndex = new Map<string, number>();
  const itemCategory = products.map((p) => {
    let c = categoryIndex.get(p.category);
    if (c === undefined) {
      c = categories.length;
      categoryIndex.set(p.category, c);
      categories.push(p.category);
    }
    return c;
  });
  return { categories, itemCategory };
}

/** Propensity prior: the audience's purchases per exposed week, worth PROPENSITY_PRIOR_WEEKS weeks. */
function propensityPriorOf(census: RecommendCensus): { alpha: number; beta: number } {
  const meanRate = census.exposureWeeks > 0 ? census.windowPurchases / census.exposureWeeks : 0;
  return { alpha: round(PROPENSITY_PRIOR_WEEKS * meanRate), beta: PROPENSITY_PRIOR_WEEKS };
}

/** The model's per-item counts from the census, and which items repeat (bought again by enough of their buyers). */
function itemCountsOf(census: RecommendCensus, repeatRate: number) {
  const repeatable: number[] = [];
  for (let i = 0; i < census.nItems; i++) {
    const b = census.buyers[i] as number;
    if (census.anyPurchase && b >= MIN_REPEAT_BUYERS && (census.repeaters[i] as number) >= repeatRate * b)
      repeatable.push(i);
  }
  return {
    buyers: [...census.buyers],
    engagers: [...census.engagers],
    recentPurchases: [...census.recentPurchases],
    repeatable,
  };
}

/** The census of the in-memory history: what a database sums in SQL (see RecommendCensus). */
function censusOf(history: HistoryIndex, fb: Feedback, params: RecommendParams): RecommendCensus {
  const collab = feedbackCensus(fb, history.asOf, popularityHalfLives(params.popularityHalfLifeGrid));
  const nItems = fb.nItems;
  const buyers = new Array<number>(nItems).fill(0);
  const engagers = new Array<number>(nItems).fill(0);
  const repeaters = new Array<number>(nItems).fill(0);
  const recentPurchases = new Array<number>(nItems).fill(0);
  const recentStart = history.asOf - RECENT_DAYS * DAY;
  for (let r = 0; r < fb.items.length; r++) {
    const i = fb.items[r] as number;
    if (fb.target[r]) buyers[i] = (buyers[i] as number) + 1;
    if ((history.weights[r] as number) > 0) engagers[i] = (engagers[i] as number) + 1;
    if ((history.buys[r] as number) > 1) repeaters[i] = (repeaters[i] as number) + 1;
    // Without purchases, "lately" is positive feedback in the last 30 days.
    if (!history.anyPurchase && fb.target[r] && (fb.lastTs[r] as number) >= recentStart) {
      recentPurchases[i] = (recentPurchases[i] as number) + 1;
    }
  }
  if (history.anyPurchase)
    for (let i = 0; i < nItems; i++) recentPurchases[i] = history.itemRecentBuys[i] as number;
  let windowPurchases = 0;
  let exposureWeeks = 0;
  for (let u = 0; u < history.userIds.length; u++) {
    windowPurchases += history.purchasesInWindow[u] as number;
    exposureWeeks += history.exposureWeeks[u] as number;
  }
  return {
    nItems,
    ratingThreshold: history.ratingThreshold,
    anyPurchase: history.anyPurchase,
    users: collab.users,
    eligibleUsers: collab.eligibleUsers,
    lengthHistogram: [...collab.lengthHistogram],
    evidenceUsers: evidenceRanks(history).count,
    windowPurchases,
    exposureWeeks,
    engaged: Array.from(collab.engaged),
    buyers,
    engagers,
    repeaters,
    recentPurchases,
    popularity: Object.fromEntries(Object.entries(collab.popularity).map(([h, v]) => [h, Array.from(v)])),
  };
}

/** Each user's position among those with a positive cell (-1: none), and how many there are. */
function evidenceRanks(history: HistoryIndex): { rank: Int32Array; count: number } {
  const nUsers = history.userIds.length;
  const rank = new Int32Array(nUsers).fill(-1);
  let count = 0;
  for (let u = 0; u < nUsers; u++) {
    for (let r = history.start[u] as number; r < (history.start[u + 1] as number); r++) {
      if ((history.weights[r] as number) > 0) {
        rank[u] = count++;
        break;
      }
    }
  }
  return { rank, count };
}

/** The planned users' cells from the in-memory history (see RecommendSample). */
function sampleOf(history: HistoryIndex, fb: Feedback, plan: RecommendSamplePlan): RecommendSample {
  const eligible = eligibleRanks(fb);
  const evidence = evidenceRanks(history);
  const wantedEligible = new Set(plan.eligible);
  const wantedUsers = plan.users ? new Set(plan.users) : null;
  const wantedEvidence = plan.evidence ? new Set(plan.evidence) : null;
  const keep: number[] = [];
  for (let u = 0; u < history.userIds.length; u++) {
    const e = eligible[u] as number;
    const v = evidence.rank[u] as number;
    if (
      !wantedUsers ||
      wantedUsers.has(u) ||
      (e >= 0 && wantedEligible.has(e)) ||
      (v >= 0 && (!wantedEvidence || wantedEvidence.has(v)))
    )
      keep.push(u);
  }
  return sampleCells(
    history,
    fb,
    keep.map((u) => ({
      u,
      userRank: u,
      eligibleRank: eligible[u] as number,
      evidenceRank: evidence.rank[u] as number,
    })),
  );
}

/** The cells of `people` (their history numbers; undefined: no cells), in that order, as a RecommendSample. */
function sampleCells(
  history: HistoryIndex,
  fb: Feedback,
  people: ReadonlyArray<{
    u: number | undefined;
    userRank: number;
    eligibleRank: number;
    evidenceRank: number;
  }>,
): RecommendSample {
  const start = new Int32Array(people.length + 1);
  const rows: number[] = [];
  people.forEach(({ u }, k) => {
    if (u !== undefined)
      for (let r = history.start[u] as number; r < (history.start[u + 1] as number); r++) rows.push(r);
    start[k + 1] = rows.length;
  });
  return {
    nItems: fb.nItems,
    userRank: Int32Array.from(people, (p) => p.userRank),
    eligibleRank: Int32Array.from(people, (p) => p.eligibleRank),
    evidenceRank: Int32Array.from(people, (p) => p.evidenceRank),
    start,
    items: Int32Array.from(rows, (r) => fb.items[r] as number),
    weights: Float32Array.from(rows, (r) => fb.weights[r] as number),
    evidence: Float32Array.from(rows, (r) => history.evidence[r] as number),
    firstTs: Float64Array.from(rows, (r) => fb.firstTs[r] as number),
    lastTs: Float64Array.from(rows, (r) => fb.lastTs[r] as number),
    target: Uint8Array.from(rows, (r) => fb.target[r] as number),
  };
}

/**
 * The sample from the sampled people's own rows (a backend's `RecommendSampleRows`): their cells by the same rules
 * as a build from memory, with the census's rating threshold and purchase flag (which depend on everyone).
 */
export function recommendSampleFromRows(
  rows: RecommendSampleRows,
  products: readonly Product[],
  census: RecommendCensus,
  options: BuildRecommendOptions,
): RecommendSample {
  const params = resolveParams(options);
  params.ratingThreshold = census.ratingThreshold;
  const itemIds = products.map((p) => p.id);
  const input = { profiles: rows.profiles, interactions: rows.interactions, products };
  const history = buildHistory(input, itemIds, options.asOf, params);
  const fb = feedbackOf(history, itemIds.length, census.anyPurchase);
  const people = [...rows.people].sort((a, b) => a.userRank - b.userRank);
  return sampleCells(
    history,
    fb,
    people.map((p) => ({ ...p, u: userNumber(history, p.id) })),
  );
}

/** Segment tables from a backend's per-segment sums (what `addSegments` computes from memory), without members. */
export function withSegmentSums(
  model: RecommendModel,
  sums: RecommendSegmentSums,
  segments: { names: readonly string[]; runId?: string },
): RecommendModel {
  const next = withSegments(model, { profiles: [], interactions: [], products: [] }, undefined);
  setSegmentTables(next, sums.counts, sums.totals, segments.names, segments.runId);
  return next;
}

/**
 * Category evidence of the sample's users with evidence, in the order of their positions among all such users
 * (the taste fit's rows: with `population`, fitTasteClasses takes them as its draw).
 */
function sampleCategoryCounts(
  sample: RecommendSample,
  itemCategory: readonly number[],
  nCats: number,
  asOf: number,
  halfLifeDays: number,
): CategoryCounts {
  const users: number[] = [];
  for (let k = 0; k < sample.evidenceRank.length; k++)
    if ((sample.evidenceRank[k] as number) >= 0) users.push(k);
  users.sort((a, b) => (sample.evidenceRank[a] as number) - (sample.evidenceRank[b] as number));
  const start = new Int32Array(users.length + 1);
  const cats: number[] = [];
  const counts: number[] = [];
  const dense = new Float64Array(nCats);
  const decay = decayRate(halfLifeDays);
  users.forEach((k, row) => {
    dense.fill(0);
    for (let r = sample.start[k] as number; r < (sample.start[k + 1] as number); r++) {
      const e = sample.evidence[r] as number;
      if (e <= 0) continue;
      const c = itemCategory[sample.items[r] as number] as number;
      dense[c] =
        (dense[c] as number) + e * Math.exp(-decay * Math.max(0, asOf - (sample.lastTs[r] as number)));
    }
    for (let c = 0; c < nCats; c++) {
      if ((dense[c] as number) > 0) {
        cats.push(c);
        counts.push(dense[c] as number);
      }
    }
    start[row + 1] = cats.length;
  });
  return { rows: users.length, start, cats: Int32Array.from(cats), counts: Float64Array.from(counts) };
}

/**
 * For each kept neighbour pair (j, i): people who chose both, and people who engaged with j and chose i; the
 * reasons quote them. One sweep per source item over the people who engaged with it.
 */
function coCounts(
  history: HistoryIndex,
  target: Uint8Array,
  neighbours: { neighbourStart: number[]; neighbourItems: number[] },
  nItems: number,
): { coBought: number[]; coEngaged: number[] } {
  const { start, items, weights } = history;
  const nUsers = history.userIds.length;
  const anchorStart = new Int32Array(nItems + 1);
  for (let r = 0; r < items.length; r++) {
    if ((weights[r] as number) > 0)
      anchorStart[(items[r] as number) + 1] = (anchorStart[(items[r] as number) + 1] as number) + 1;
  }
  for (let i = 0; i < nItems; i++)
    anchorStart[i + 1] = (anchorStart[i + 1] as number) + (anchorStart[i] as number);
  const anchorUser = new Int32Array(anchorStart[nItems] as number);
  const anchorRow = new Int32Array(anchorStart[nItems] as number);
  const fill = anchorStart.slice(0, nItems);
  for (let u = 0; u < nUsers; u++) {
    for (let r = start[u] as number; r < (start[u + 1] as number); r++) {
      if (!((weights[r] as number) > 0)) continue;
      const pos = fill[items[r] as number] as number;
      anchorUser[pos] = u;
      anchorRow[pos] = r;
      fill[items[r] as number] = pos + 1;
    }
  }
  const total = neighbours.neighbourItems.length;
  const coBought = new Array<number>(total).fill(0);
  const coEngaged = new Array<number>(total).fill(0);
  const slotOf = new Int32Array(nItems).fill(-1);
  for (let j = 0; j < nItems; j++) {
    const from = neighbours.neighbourStart[j] as number;
    const to = neighbours.neighbourStart[j + 1] as number;
    if (from === to) continue;
    for (let p = from; p < to; p++) slotOf[neighbours.neighbourItems[p] as number] = p;
    for (let a = anchorStart[j] as number; a < (anchorStart[j + 1] as number); a++) {
      const u = anchorUser[a] as number;
      const both = target[anchorRow[a] as number] === 1;
      for (let r = start[u] as number; r < (start[u + 1] as number); r++) {
        const p = slotOf[items[r] as number] as number;
        if (p < 0 || !target[r]) continue;
        coEngaged[p] = (coEngaged[p] as number) + 1;
        if (both) coBought[p] = (coBought[p] as number) + 1;
      }
    }
    for (let p = from; p < to; p++) slotOf[neighbours.neighbourItems[p] as number] = -1;
  }
  return { coBought, coEngaged };
}

/**
 * The same model with another segmentation (or none): everything but the segment tables is independent of the
 * segments, so after a new segment run only those are recomputed, giving exactly what `buildRecommendModel`
 * with these segments would. Pure: `model` is not changed.
 */
export function withSegments(
  model: RecommendModel,
  input: RecommendInput,
  segments: RecommendSegments | undefined,
  builtAt: number = model.builtAt,
): RecommendModel {
  const {
    segmentPopularity: _popularity,
    segmentPurchases: _purchases,
    segmentNames: _names,
    segmentUserIds: _userIds,
    segmentLabels: _labels,
    segmentRunId: _runId,
    ...base
  } = model;
  const next: RecommendModel = { ...base, builtAt };
  if (segments && segments.names.length > 0) addSegments(next, historyFor(next, input), segments);
  return next;
}

/** Segment tables: each segment's time-decayed purchases per item, smoothed toward overall popularity. */
function addSegments(model: RecommendModel, history: HistoryIndex, seg: RecommendSegments): void {
  const nItems = model.itemIds.length;
  const nSeg = seg.names.length;
  const counts = Array.from({ length: nSeg }, () => new Float64Array(nItems));
  const totals = new Array<number>(nSeg).fill(0);
  const segUserIds: string[] = [];
  const segLabels: number[] = [];
  const decay = decayRate(model.params.popularityHalfLifeDays);
  for (let k = 0; k < seg.userIds.length; k++) {
    const label = seg.labels[k];
    const id = seg.userIds[k];
    if (label === undefined || id === undefined || !(label >= 0 && label < nSeg)) continue;
    segUserIds.push(id);
    segLabels.push(label);
    const u = userNumber(history, id);
    if (u === undefined) continue;
    const row = counts[label] as Float64Array;
    for (let r = history.start[u] as number; r < (history.start[u + 1] as number); r++) {
      // Purchases decay from the last one with the validated popularity half-life.
      const buys = history.buys[r] as number;
      if (buys <= 0) continue;
      const d = buys * Math.exp(-decay * Math.max(0, model.asOf - (history.lastBuy[r] as number)));
      const i = history.items[r] as number;
      row[i] = (row[i] as number) + d;
      totals[label] = (totals[label] as number) + d;
    }
  }
  setSegmentTables(model, counts, totals, seg.names, seg.runId);
  model.segmentUserIds = segUserIds;
  model.segmentLabels = segLabels;
}

/** P_seg from each segment's decayed purchases per item, smoothed toward overall popularity. */
function setSegmentTables(
  model: RecommendModel,
  counts: ReadonlyArray<ArrayLike<number>>,
  totals: readonly number[],
  names: readonly string[],
  runId: string | undefined,
): void {
  model.segmentPopularity = counts.map((row, s) => {
    const t = totals[s] as number;
    return Array.from(row, (c, i) =>
      round((c + SEGMENT_SMOOTHING * (model.popularity[i] as number)) / (t + SEGMENT_SMOOTHING)),
    );
  });
  model.segmentPurchases = totals.map(round);
  model.segmentNames = [...names];
  if (runId !== undefined) model.segmentRunId = runId;
}

/** Fills `out` with one user's time-decayed interaction evidence per category. */
function categoryEvidence(
  history: HistoryIndex,
  u: number,
  itemCategory: readonly number[],
  asOf: number,
  halfLifeDays: number,
  out: Float64Array,
): Float64Array {
  out.fill(0);
  const decay = decayRate(halfLifeDays);
  for (let r = history.start[u] as number; r < (history.start[u + 1] as number); r++) {
    const e = history.evidence[r] as number;
    if (e <= 0) continue;
    const c = itemCategory[history.items[r] as number] as number;
    out[c] = (out[c] as number) + e * Math.exp(-decay * Math.max(0, asOf - (history.lastTs[r] as number)));
  }
  return out;
}

/** Decay per millisecond of a half-life in days; 0 (no decay) for a half-life of 0. */
function decayRate(halfLifeDays: number): number {
  return halfLifeDays > 0 ? Math.LN2 / (halfLifeDays * DAY) : 0;
}

function rangeArray(from: number, to: number): number[] {
  const out = new Array<number>(to - from);
  for (let k = from; k < to; k++) out[k - from] = k;
  return out;
}

function toDistribution(values: Float64Array, smoothing: number): number[] {
  let sum = 0;
  for (const v of values) sum += v + smoothing;
  return Array.from(values, (v) => (sum > 0 ? round((v + smoothing) / sum) : 0));
}

function round(x: number): number {
  // Nine significant digits keep the JSON small without changing any ranking in practice.
  return x === 0 || !Number.isFinite(x) ? x : Number(x.toPrecision(9));
}

/** Everything needed to score one user, computed once per query. */
interface UserState {
  u: number | undefined;
  /** The neighbour lists the user's query took (see queryChoice), which name the reason too. */
  graph: NeighbourLists;
  propensity: number;
  segment: number;
  /** Unnormalised mixture per item; non-buyable items are 0. */
  mix: Float64Array;
  total: number;
  co: Float64Array;
  cat: Float64Array;
  /** P̂(c|u). */
  tasteMix: Float64Array;
  lambdaH: number;
  lambdaC: number;
  lambdaK: number;
  lambdaS: number;
  lambdaP: number;
}

interface QueryContext {
  model: RecommendModel;
  /** P(c) = Σ_{i in c} P_pop(i). */
  categoryPop: Float64Array;
  history: HistoryIndex;
  buyable: Uint8Array;
  /** 1 for items recommended again to their buyers. */
  repeatable: Uint8Array;
  products: Array<Product | undefined>;
  segmentOfUser: Map<string, number>;
}

const segmentMapCache = new WeakMap<RecommendModel, Map<string, number>>();

function queryContext(model: RecommendModel, input: RecommendInput): QueryContext {
  const nItems = model.itemIds.length;
  if (nItems === 0) {
    throw new RecommendError(
      'the product catalogue is empty, so there is nothing to recommend: import products (or load the sample data) first',
    );
  }
  const byId = productsById(input.products);
  const products = model.itemIds.map((id) => byId.get(id));
  const buyable = new Uint8Array(nItems);
  let anyBuyable = false;
  for (let i = 0; i < nItems; i++) {
    if (products[i]?.in_stock) {
      buyable[i] = 1;
      anyBuyable = true;
    }
  }
  if (!anyBuyable) {
    throw new RecommendError(
      'no product in the catalogue is in stock, so there is nothing to recommend: update the catalogue with in-stock products',
    );
  }
  let segmentOfUser = segmentMapCache.get(model);
  if (!segmentOfUser) {
    segmentOfUser = new Map();
    const ids = model.segmentUserIds ?? [];
    const labels = model.segmentLabels ?? [];
    for (let k = 0; k < ids.length; k++) segmentOfUser.set(ids[k] as string, labels[k] as number);
    segmentMapCache.set(model, segmentOfUser);
  }
  const categoryPop = new Float64Array(model.categories.length);
  for (let i = 0; i < nItems; i++) {
    const c = model.itemCategory[i] as number;
    categoryPop[c] = (categoryPop[c] as number) + (model.popularity[i] as number);
  }
  const repeatable = new Uint8Array(nItems);
  for (const i of model.repeatable) repeatable[i] = 1;
  return {
    model,
    categoryPop,
    history: historyFor(model, input),
    buyable,
    repeatable,
    products,
    segmentOfUser,
  };
}

function propensityOf(model: RecommendModel, history: HistoryIndex, u: number | undefined): number {
  const { alpha, beta } = model.propensityPrior;
  const purchases = u === undefined ? 0 : (history.purchasesInWindow[u] as number);
  const exposure = u === undefined ? PROPENSITY_WINDOW_DAYS / 7 : (history.exposureWeeks[u] as number);
  const rate = (purchases + alpha) / (exposure + beta);
  return 1 - Math.exp(-rate * (PROPENSITY_HORIZON_DAYS / 7));
}

/** Per-item work arrays, reused across the members of a segment. */
interface Scratch {
  mix: Float64Array;
  co: Float64Array;
  cat: Float64Array;
}

function scratch(nItems: number): Scratch {
  return { mix: new Float64Array(nItems), co: new Float64Array(nItems), cat: new Float64Array(nItems) };
}

/**
 * Which B and blend a user's query takes: the short-history choice for at most `short.maxLength` positive items
 * (validated apart, see collaborative.ts), else the model's own; `share` 0 means popularity alone.
 */
function queryChoice(model: RecommendModel, history: HistoryIndex, u: number | undefined) {
  const short = model.collaborative.short;
  let positives = 0;
  if (short && u !== undefined) {
    for (let r = history.start[u] as number; r < (history.start[u + 1] as number); r++) {
      if ((history.weights[r] as number) > 0) positives++;
    }
  }
  if (short && positives <= short.maxLength) {
    const graph = model.shortNeighbours ?? neighboursOf(model);
    return { graph, share: short.share, historyPrior: short.historyPrior };
  }
  const { share } = model.collaborative;
  return { graph: neighboursOf(model), share, historyPrior: model.params.historyPrior };
}

/** The model's own neighbour lists (those of long histories). */
function neighboursOf(model: RecommendModel): NeighbourLists {
  return { start: model.neighbourStart, items: model.neighbourItems, weights: model.neighbourWeights };
}

/** The user's own part: collaborative scores per item (clipped at 0, in `co`), and the weights behind them. */
function historyScores(ctx: QueryContext, u: number | undefined, co: Float64Array) {
  const { model, history } = ctx;
  co.fill(0);
  let historyWeight = 0;
  let anchored = false;
  const excluded: number[] = [];
  const choice = queryChoice(model, history, u);
  if (u === undefined) return { historyWeight, coTotal: 0, excluded, choice };
  const { start, items, weights, known, lastTs } = history;
  const graph = choice.graph;
  const decay = decayRate(model.params.historyHalfLifeDays);
  for (let r = start[u] as number; r < (start[u + 1] as number); r++) {
    const j = items[r] as number;
    // Bought, rated or liked: not again, unless the product is repeatable (people re-buy what they rated, too).
    if (known[r] && !ctx.repeatable[j]) excluded.push(j);
    const a = (weights[r] as number) * Math.exp(-decay * Math.max(0, model.asOf - (lastTs[r] as number)));
    if (!(a > 0)) continue;
    historyWeight += a;
    const from = graph.start[j] as number;
    const to = graph.start[j + 1] as number;
    if (from < to) anchored = true;
    for (let p = from; p < to; p++) {
      const i = graph.items[p] as number;
      co[i] = (co[i] as number) + a * (graph.weights[p] as number);
    }
  }
  let coTotal = 0;
  for (let i = 0; i < co.length; i++) {
    if (!((co[i] as number) > 0) || !ctx.buyable[i]) co[i] = 0;
    else coTotal += co[i] as number;
  }
  for (const j of excluded) {
    coTotal -= co[j] as number;
    co[j] = 0;
  }
  return { historyWeight, coTotal: anchored ? coTotal : 0, excluded, choice };
}

function scoreUser(ctx: QueryContext, userId: string, work: Scratch): UserState {
  const { model, history, buyable } = ctx;
  const { mix, co, cat } = work;
  const nItems = model.itemIds.length;
  const u = userNumber(history, userId);
  const own = historyScores(ctx, u, co);
  // Where validation sent the model back to popularity, the history has no weight at all: not even a tie among
  // equally popular items is broken by an unvalidated model.
  const lambdaH =
    own.choice.share === 0 ? 0 : own.historyWeight / (own.historyWeight + own.choice.historyPrior);
  const lambdaC = own.coTotal > 0 ? lambdaH * (1 - model.params.tasteShare) : 0;
  const lambdaK = lambdaH - lambdaC;
  const segment = ctx.segmentOfUser.get(userId) ?? -1;
  const segRow = segment >= 0 ? model.segmentPopularity?.[segment] : undefined;
  const evidence = segment >= 0 ? (model.segmentPurchases?.[segment] ?? 0) : 0;
  const lambdaS = segRow ? (1 - lambdaH) * (evidence / (evidence + model.params.segmentPrior)) : 0;
  const lambdaP = 1 - lambdaH - lambdaS;
  // co on the probability scale (it is kept so for explanations).
  const coScale = own.coTotal > 0 ? lambdaC / own.coTotal : 0;
  for (let i = 0; i < nItems; i++) co[i] = (co[i] as number) * coScale;
  const tasteMix = userTasteMix(ctx, u);
  const catFactor = new Float64Array(model.categories.length);
  for (let c = 0; c < catFactor.length; c++) {
    const pc = ctx.categoryPop[c] as number;
    catFactor[c] = pc > 0 ? (lambdaK * (tasteMix[c] as number)) / pc : 0;
  }
  for (let i = 0; i < nItems; i++) {
    if (!buyable[i]) {
      mix[i] = 0;
      cat[i] = 0;
      continue;
    }
    const pop = model.popularity[i] as number;
    const k = (catFactor[model.itemCategory[i] as number] as number) * pop;
    cat[i] = k;
    mix[i] = (co[i] as number) + k + lambdaP * pop + (segRow ? lambdaS * (segRow[i] as number) : 0);
  }
  for (const j of own.excluded) mix[j] = 0;
  let total = 0;
  for (let i = 0; i < nItems; i++) total += mix[i] as number;
  // Without purchases there is no propensity to weigh by: every user counts fully (scores are P(i|u)).
  const propensity = model.hasPurchases ? propensityOf(model, history, u) : 1;
  return {
    u,
    graph: own.choice.graph,
    propensity,
    segment,
    mix,
    total,
    co,
    cat,
    tasteMix,
    lambdaH,
    lambdaC,
    lambdaK,
    lambdaS,
    lambdaP,
  };
}

/** P̂(c|u) from the taste classes and the user's category evidence. */
function userTasteMix(ctx: QueryContext, u: number | undefined): Float64Array {
  const { model, history } = ctx;
  const nCats = model.categories.length;
  const catHist = new Float64Array(nCats);
  if (u !== undefined) {
    categoryEvidence(history, u, model.itemCategory, model.asOf, model.params.historyHalfLifeDays, catHist);
  }
  return tasteCategoryMix(model.taste, catHist, new Float64Array(nCats));
}

/** Indices of the n largest values (positive only), ties broken by index for determinism. */
function topN(values: Float64Array, n: number): number[] {
  const heap: number[] = [];
  // Small n: insertion into a sorted list beats a heap and stays simple.
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!(v > 0)) continue;
    if (heap.length === n && v <= (values[heap[n - 1] as number] as number)) continue;
    let pos = heap.length;
    while (pos > 0 && (values[heap[pos - 1] as number] as number) < v) pos--;
    heap.splice(pos, 0, i);
    if (heap.length > n) heap.pop();
  }
  return heap;
}

function percent(share: number): string {
  if (share > 0 && share < 0.01) return 'under 1%';
  return `${Math.round(share * 100)}%`;
}

function neighbourEntry(graph: NeighbourLists, j: number, i: number): number {
  const from = graph.start[j] as number;
  const to = graph.start[j + 1] as number;
  for (let p = from; p < to; p++) if (graph.items[p] === i) return p;
  return -1;
}

function togetherReason(
  model: RecommendModel,
  anchor: number,
  target: number,
  anchorBought: boolean,
  ctx: QueryContext,
  minCohort: number,
): string {
  const name = ctx.products[anchor]?.name ?? (model.itemIds[anchor] as string);
  const p = neighbourEntry(neighboursOf(model), anchor, target);
  const coBought = p >= 0 ? (model.neighbourCoBought[p] as number) : 0;
  const coEngaged = p >= 0 ? (model.neighbourCoEngaged[p] as number) : 0;
  const buyers = model.buyers[anchor] as number;
  const engagers = model.engagers[anchor] as number;
  // Shares of tiny groups are both noisy and revealing, so they are only quoted for real cohorts; and a share
  // too small to persuade ("bought by under 1% of …", five times over) is not quoted either: the pick comes from
  // who engages with both items, which is what the plain reason says.
  if (anchorBought && coBought >= 1 && buyers >= minCohort && coBought / buyers >= QUOTED_SHARE) {
    return `bought by ${percent(coBought / buyers)} of people who bought ${name}`;
  }
  if (coEngaged >= 1 && engagers >= minCohort && coEngaged / engagers >= QUOTED_SHARE) {
    return `bought by ${percent(coEngaged / engagers)} of people interested in ${name}`;
  }
  return anchorBought
    ? `chosen by people who also bought ${name}`
    : `chosen by people who also showed interest in ${name}`;
}

function popularReason(model: RecommendModel, ctx: QueryContext, i: number): string {
  const recent = model.recentPurchases[i] as number;
  if (recent > 0) {
    let better = 0;
    for (let k = 0; k < model.recentPurchases.length; k++) {
      if (ctx.buyable[k] && (model.recentPurchases[k] as number) > recent) better++;
    }
    // "Bestseller" is a claim: only the top tenth of what is buyable (at least the top 10) earns it.
    if (better < Math.max(10, Math.ceil(model.itemIds.length / 10))) return 'a bestseller this month';
  }
  return 'popular across your audience';
}

function segmentReason(name: string): string {
  return `popular in your segment '${name}'`;
}

/** Top `n` items for one user by P(u) · P(i|u), excluding items already bought and out of stock. */
export function recommendForUser(
  model: RecommendModel,
  input: RecommendInput,
  userId: string,
  n = 5,
  options: QueryOptions = {},
): UserRecommendations {
  const shared = queryContext(model, input);
  const ctx =
    options.segment === undefined
      ? shared
      : {
          ...shared,
          segmentOfUser: new Map(options.segment === null ? [] : [[userId, options.segment]]),
        };
  const known = userNumber(ctx.history, userId) !== undefined;
  if (!known) {
    const example = ctx.history.userIds[0];
    throw new RecommendError(
      `unknown user '${userId}': no profile or interaction has that id${example ? `; try one from the data, e.g. '${example}'` : ''}`,
    );
  }
  const nItems = model.itemIds.length;
  const state = scoreUser(ctx, userId, scratch(nItems));
  const minCohort = options.minCohortSize ?? 5;
  const top = state.total > 0 ? topN(state.mix, Math.max(1, Math.floor(n))) : [];
  const segmentName = state.segment >= 0 ? (model.segmentNames?.[state.segment] ?? null) : null;
  const items = top.map((i): UserRecommendation => {
    const product = ctx.products[i] as Product;
    const p = (state.mix[i] as number) / state.total;
    const { reason, reasonKind } = explainForUser(ctx, state, i, minCohort, segmentName);
    return {
      itemId: product.id,
      name: product.name,
      category: product.category,
      price: product.price,
      score: state.propensity * p,
      pItemGivenUser: p,
      reason,
      reasonKind,
    };
  });
  return {
    kind: 'user',
    userId,
    propensity: model.hasPurchases ? state.propensity : null,
    historyWeight: state.lambdaH,
    segmentName,
    items,
  };
}

/** What each mixture component contributes to one item (on the unnormalised mixture scale). */
interface Contributions {
  co: number;
  taste: number;
  seg: number;
  pop: number;
}

/**
 * Which component explains an item: the most specific one (co-occurrence, then taste, then segment) that
 * carries at least a third of the item's score, else popularity. Taste and segment are only claimed when
 * the category or the segment really over-indexes, so a plain bestseller is never passed off as "your taste".
 */
function pickReason(c: Contributions, categoryFavoured: boolean, segmentOver: boolean): ReasonKind {
  const third = (c.co + c.taste + c.seg + c.pop) / 3;
  if (c.co > 0 && c.co >= third) return 'together';
  if (categoryFavoured && c.taste > 0 && c.taste >= third) return 'taste';
  if (segmentOver && c.seg > 0 && c.seg >= third) return 'segment';
  return 'popular';
}

/** True when category c is among the top 3 of `mix` and above the audience's share. */
function favoured(mix: Float64Array, categoryPop: Float64Array, c: number): boolean {
  const share = mix[c] as number;
  if (!(share > (categoryPop[c] as number))) return false;
  let above = 0;
  for (let k = 0; k < mix.length; k++) if ((mix[k] as number) > share) above++;
  return above < 3;
}

function explainForUser(
  ctx: QueryContext,
  state: UserState,
  i: number,
  minCohort: number,
  segmentName: string | null,
): { reason: string; reasonKind: ReasonKind } {
  const { model, history } = ctx;
  const segRow = state.segment >= 0 ? model.segmentPopularity?.[state.segment] : undefined;
  const parts: Contributions = {
    co: state.co[i] as number,
    taste: state.cat[i] as number,
    seg: segRow ? state.lambdaS * (segRow[i] as number) : 0,
    pop: state.lambdaP * (model.popularity[i] as number),
  };
  const c = model.itemCategory[i] as number;
  const segmentOver = segRow !== undefined && (segRow[i] as number) > 1.1 * (model.popularity[i] as number);
  let kind = pickReason(parts, favoured(state.tasteMix, ctx.categoryPop, c), segmentOver);
  if (kind === 'together' && state.u !== undefined) {
    // The history item that contributed most to this recommendation names the reason.
    let best = -1;
    let bestBought = false;
    let bestValue = 0;
    const decay = decayRate(model.params.historyHalfLifeDays);
    for (let r = history.start[state.u] as number; r < (history.start[state.u + 1] as number); r++) {
      const j = history.items[r] as number;
      const p = neighbourEntry(state.graph, j, i);
      if (p < 0) continue;
      const a =
        (history.weights[r] as number) *
        Math.exp(-decay * Math.max(0, model.asOf - (history.lastTs[r] as number)));
      const v = a * (state.graph.weights[p] as number);
      if (v > bestValue) {
        bestValue = v;
        best = j;
        bestBought = history.bought[r] === 1;
      }
    }
    if (best >= 0) {
      return { reason: togetherReason(model, best, i, bestBought, ctx, minCohort), reasonKind: 'together' };
    }
    kind = pickReason({ ...parts, co: 0 }, favoured(state.tasteMix, ctx.categoryPop, c), segmentOver);
  }
  if (kind === 'taste') {
    return { reason: `popular in ${model.categories[c]}, one of your top categories`, reasonKind: 'taste' };
  }
  if (kind === 'segment' && segmentName !== null) {
    return { reason: segmentReason(segmentName), reasonKind: 'segment' };
  }
  return { reason: popularReason(model, ctx, i), reasonKind: 'popular' };
}

/** Top `n` items for a segment (0-based) by expected buyers Σ_u P(u) · P(i|u) over its members. */
export function recommendForSegment(
  model: RecommendModel,
  input: RecommendInput,
  segment: number,
  n = 5,
  options: QueryOptions = {},
): SegmentRecommendations {
  checkSegment(model, segment, true);
  const sums = segmentRecommender(model, input.products, segment);
  const labels = model.segmentLabels ?? [];
  const members: string[] = [];
  for (let k = 0; k < labels.length; k++)
    if (labels[k] === segment) members.push(model.segmentUserIds?.[k] as string);
  sums.add(input, members);
  return sums.result(n, options);
}

/**
 * A segment's recommendations summed over its members a batch at a time (a database reads them page by page,
 * each page with the members' own rows): `add` each batch in member order, then `result`. Gives what
 * `recommendForSegment` gives on the whole audience.
 */
export function segmentRecommender(model: RecommendModel, products: readonly Product[], segment: number) {
  const names = checkSegment(model, segment, false);
  const nItems = model.itemIds.length;
  const totals = emptyTotals(model);
  const cold: ColdMembers = { state: null, propensity: 0 };
  const work = scratch(nItems);
  let last: QueryContext | null = null;
  return {
    /** Adds members (ids in member order) scored from `input`, which holds at least their rows. */
    add(input: RecommendInput, memberIds: readonly string[]): void {
      const shared = queryContext(model, input);
      const ctx = { ...shared, segmentOfUser: new Map(memberIds.map((id) => [id, segment])) };
      for (const id of memberIds) addMember(ctx, segment, totals, id, work, cold);
      last = ctx;
    },
    result(n = 5, options: QueryOptions = {}): SegmentRecommendations {
      const ctx = last ?? queryContext(model, { profiles: [], interactions: [], products });
      finishTotals(model, segment, totals, cold);
      if (totals.size === 0) {
        throw new RecommendError(
          `segment ${segment} ('${names[segment]}') has no members in the model: rerun the segmentation`,
        );
      }
      const top = topN(totals.expected, Math.max(1, Math.floor(n)));
      const minCohort = options.minCohortSize ?? 5;
      const items = top.map((i): SegmentRecommendation => {
        const product = ctx.products[i] as Product;
        const { reason, reasonKind } = explainForSegment(ctx, totals, segment, i, minCohort);
        const exp = totals.expected[i] as number;
        return {
          itemId: product.id,
          name: product.name,
          category: product.category,
          price: product.price,
          score: exp / totals.size,
          reason,
          reasonKind,
          expectedBuyers: exp,
        };
      });
      return { kind: 'segment', segment, segmentName: names[segment] as string, size: totals.size, items };
    },
  };
}

/** The segment names, after checking that the model has segments and `segment` is one of them. */
function checkSegment(model: RecommendModel, segment: number, needMembers: boolean): readonly string[] {
  const names = model.segmentNames;
  if (!names || names.length === 0 || (needMembers && (!model.segmentLabels || !model.segmentUserIds))) {
    throw new RecommendError(
      'the model was built without segments: run a segmentation, then rebuild the model',
    );
  }
  if (!Number.isInteger(segment) || segment < 0 || segment >= names.length) {
    throw new RecommendError(
      `segment ${segment} does not exist: use a segment between 0 and ${names.length - 1} (0-based)`,
    );
  }
  return names;
}

/** A segment's summed scores: expected buyers per item, what each mixture component gave, and its taste. */
interface SegmentTotals {
  size: number;
  expected: Float64Array;
  parts: { co: Float64Array; taste: Float64Array; seg: Float64Array; pop: Float64Array };
  /** The members' propensity-weighted category mix, normalised. */
  taste: Float64Array;
  /** Purchases per item by the members (which history items anchor a "together" reason). */
  anchorMass: Float64Array;
}

function emptyTotals(model: RecommendModel): SegmentTotals {
  const nItems = model.itemIds.length;
  return {
    size: 0,
    expected: new Float64Array(nItems),
    parts: {
      co: new Float64Array(nItems),
      taste: new Float64Array(nItems),
      seg: new Float64Array(nItems),
      pop: new Float64Array(nItems),
    },
    taste: new Float64Array(model.categories.length),
    anchorMass: new Float64Array(nItems),
  };
}

/** Members without item history share one item distribution; only their propensity differs. */
interface ColdMembers {
  state: UserState | null;
  propensity: number;
}

/** Adds one member's P(u) · P(i|u), split by mixture component (a cold member's propensity only). */
function addMember(
  ctx: QueryContext,
  segment: number,
  totals: SegmentTotals,
  userId: string,
  work: Scratch,
  cold: ColdMembers,
): void {
  const { model, history } = ctx;
  totals.size++;
  const u = userNumber(history, userId);
  if (u === undefined || (history.start[u + 1] as number) === (history.start[u] as number)) {
    cold.state ??= scoreUser(ctx, userId, scratch(model.itemIds.length));
    cold.propensity += model.hasPurchases ? propensityOf(model, history, u) : 1;
    return;
  }
  const state = scoreUser(ctx, userId, work);
  accumulateMember(model, segment, totals, state, state.propensity);
  for (let r = history.start[u] as number; r < (history.start[u + 1] as number); r++) {
    if (history.bought[r]) {
      const j = history.items[r] as number;
      totals.anchorMass[j] = (totals.anchorMass[j] as number) + 1;
    }
  }
}

/** Adds the cold members' shared state and normalises the taste mix. */
function finishTotals(
  model: RecommendModel,
  segment: number,
  totals: SegmentTotals,
  cold: ColdMembers,
): void {
  if (cold.state) accumulateMember(model, segment, totals, cold.state, cold.propensity);
  cold.state = null;
  cold.propensity = 0;
  let tasteTotal = 0;
  for (const v of totals.taste) tasteTotal += v;
  if (tasteTotal > 0)
    for (let c = 0; c < totals.taste.length; c++) totals.taste[c] = (totals.taste[c] as number) / tasteTotal;
}

/** Adds one member's scores (or the shared cold state's), weighted by `propensityMass`. */
function accumulateMember(
  model: RecommendModel,
  segment: number,
  totals: SegmentTotals,
  state: UserState,
  propensityMass: number,
): void {
  if (!(state.total > 0)) return;
  const segRow = model.segmentPopularity?.[segment];
  const { expected, parts } = totals;
  const scale = propensityMass / state.total;
  for (let c = 0; c < totals.taste.length; c++) {
    totals.taste[c] = (totals.taste[c] as number) + propensityMass * (state.tasteMix[c] as number);
  }
  for (let i = 0; i < expected.length; i++) {
    const m = state.mix[i] as number;
    if (m === 0) continue;
    expected[i] = (expected[i] as number) + scale * m;
    parts.co[i] = (parts.co[i] as number) + scale * (state.co[i] as number);
    parts.taste[i] = (parts.taste[i] as number) + scale * (state.cat[i] as number);
    if (segRow) parts.seg[i] = (parts.seg[i] as number) + scale * state.lambdaS * (segRow[i] as number);
    parts.pop[i] = (parts.pop[i] as number) + scale * state.lambdaP * (model.popularity[i] as number);
  }
}

/** The reason for recommending item i to a segment: the component that explains it, in words. */
function explainForSegment(
  ctx: QueryContext,
  totals: SegmentTotals,
  segment: number,
  i: number,
  minCohort: number,
): { reason: string; reasonKind: ReasonKind } {
  const { model } = ctx;
  const segRow = model.segmentPopularity?.[segment];
  const { parts } = totals;
  const contributions: Contributions = {
    co: parts.co[i] as number,
    taste: parts.taste[i] as number,
    seg: parts.seg[i] as number,
    pop: parts.pop[i] as number,
  };
  const c = model.itemCategory[i] as number;
  const segmentOver = segRow !== undefined && (segRow[i] as number) > 1.1 * (model.popularity[i] as number);
  const categoryFavoured = favoured(totals.taste, ctx.categoryPop, c);
  let kind = pickReason(contributions, categoryFavoured, segmentOver);
  if (kind === 'together') {
    const anchor = segmentAnchor(model, totals.anchorMass, i);
    if (anchor >= 0)
      return { reason: togetherReason(model, anchor, i, true, ctx, minCohort), reasonKind: kind };
    kind = pickReason({ ...contributions, co: 0 }, categoryFavoured, segmentOver);
  }
  if (kind === 'taste')
    return { reason: `popular in ${model.categories[c]}, a top category for this segment`, reasonKind: kind };
  if (kind === 'segment') {
    return {
      reason: 'a favourite of this segment: bought more here than across the audience',
      reasonKind: kind,
    };
  }
  return { reason: popularReason(model, ctx, i), reasonKind: 'popular' };
}

/** The segment's own purchases, weighted by how strongly each points at i, pick the anchor (-1: none). */
function segmentAnchor(model: RecommendModel, anchorMass: Float64Array, i: number): number {
  const graph = neighboursOf(model);
  let anchor = -1;
  let bestValue = 0;
  for (let j = 0; j < anchorMass.length; j++) {
    const mass = anchorMass[j] as number;
    if (mass === 0) continue;
    const e = neighbourEntry(graph, j, i);
    if (e < 0) continue;
    const v = mass * (graph.weights[e] as number);
    if (v > bestValue) {
      bestValue = v;
      anchor = j;
    }
  }
  return anchor;
}
