/**
 * The collaborative part of P(i|u): EASE (Steck, "Embarrassingly Shallow Autoencoders", WWW 2019), an item-item
 * linear model with a closed form, B = I − P · diag(1/diag(P)) with P = (XᵀX + λI)⁻¹, which beats popularity and
 * tuned neighbourhood models on the public ratings and basket benchmarks. X is the implicit feedback matrix:
 * each (user, item) carries the strongest interaction's weight by type (recommend.ts), optionally halved every
 * `halfLifeDays` of age.
 *
 * The inverse costs m³/2 multiply-adds (spd-inverse.ts), so the model covers the `maxItems` items most people
 * interacted with (2,000: the items of a MovieLens-1M-sized catalogue beyond that carry little of its feedback;
 * about 5 s of CPU at that size on this machine, 1 s at 1,200). Items outside it are reached through the backoff
 * terms. Each item keeps its `maxNeighbours` strongest weights (by magnitude: EASE's negative weights carry
 * "people who took j rarely take i"), which keeps the cached model small and a query fast.
 *
 * λ is chosen as a multiple of the mean diagonal of XᵀX over the VALIDATION_ITEMS most engaged items, measured on
 * the rows each fit sees: the validation fits (a sample of users, the hidden rows left out, only those items) and
 * the final fit (everyone, all the model's items) shrink those items alike, so the chosen λ transfers; a multiple
 * of the mean over all the model's items would not (the tail's small counts pull that mean down).
 *
 * EASE is fitted to rebuild whole histories, so it reads every item a query does not name as "not chosen"; a
 * recommendation query often names a handful of items out of the many the person likes. The emphasised denoising
 * form (EDLAE, Steck 2020, see `easeWithLambda`) fits the same closed form to histories with a share p of their
 * items dropped, which adds p / (1 − p) of each item's own diagonal to λ; p = 0 is plain EASE. Validation chooses
 * p with λ for short queries (at most SHORT_HISTORY items); long ones, whole histories, keep plain EASE. On the
 * MovieLens-shaped sets under given-5 it moved P@10 from about 1.0x to 1.05–1.08x of a plain, tuned EASE.
 *
 * The regularisation λ, the dropout rate, the time decay, the popularity half-life and the prior k of the history
 * weight n / (n + k) (how much a short history is trusted against the backoff) are chosen when the model is built, by
 * validation on the store's own data, in two groups that ask the two questions a recommendation answers. For
 * a third of a seeded sample of users with at least two items, "what comes next": their last session (every item
 * of their latest visit or basket) is hidden and the query is all their earlier history; for the others, "what
 * else do they like", asked as the given-N protocol does: the user keeps N random items, N drawn from the
 * history lengths of the store's users (one third) or from 1..SHORT_HISTORY (one third), and all the others are
 * hidden and to be found. Every candidate is scored by nDCG@10 against the hidden items in each group, and only
 * candidates at least as good as popularity in BOTH groups (beyond noise, on the paired per-user differences) are
 * eligible; among them the best total wins. Short queries (at most SHORT_HISTORY known items) and long ones are
 * chosen for apart: a handful of known items wants more shrinkage (λ) and more popularity (the prior k) than a
 * long history, so one λ for every length serves neither (Steck tunes λ for the protocol's history length). The
 * long choice is judged on the long queries; the short one on the short queries, with the whole model (each
 * user scored by the choice for their length) still no worse than popularity for both questions; when they
 * differ in λ the model keeps a second B for short histories, from the same Gram matrix. Popularity alone is a candidate, so where the model does not help (dense baskets from a
 * small catalogue, where items co-occur within a basket but the next basket is another aisle) the blend leans
 * to popularity or falls back to it (`share` 0), and a model that helps one question cannot hurt the other.
 * Pure, seeded and deterministic.
 */
import { createRng } from '../domain/random.ts';
import { invertSpdInPlace } from './spd-inverse.ts';

/** Implicit feedback per user in CSR form over the catalogue's item numbers. */
export interface Feedback {
  nItems: number;
  /** Rows of user u: start[u] .. start[u+1]-1. */
  start: Int32Array;
  items: Int32Array;
  /** Implicit weight before time decay; 0 means no positive signal. */
  weights: Float32Array;
  /** First and last time of the user's interactions with the item. */
  firstTs: Float64Array;
  lastTs: Float64Array;
  /** 1 when the row counts in popularity (a purchase; any positive row when the store has no purchases). */
  target: Uint8Array;
}

/**
 * What validation reads of the whole data: counts, not rows, so a backend can aggregate them where the data lives
 * (SQL) and hand over a bounded sample of users' rows (`FeedbackSample`) for the rest. Users are numbered in one
 * order (profiles in stored order, then people only seen in interactions by their first event); positions below
 * count in that order.
 */
export interface FeedbackCensus {
  nItems: number;
  /** Every user. */
  users: number;
  /** Users with at least two positive rows (validation candidates). */
  eligibleUsers: number;
  /** lengthHistogram[c]: eligible users with c positive rows (index 0 and 1 are 0). */
  lengthHistogram: readonly number[];
  /** Per item: users with a positive row (the model covers the most engaged items). */
  engaged: ArrayLike<number>;
  /** Per popularity half-life in days (see `popularityHalfLives`): per item, Σ of target rows' decay. */
  popularity: Readonly<Record<string, ArrayLike<number>>>;
}

/** Which users' rows validation reads: positions among eligible users, and among all users (null: all). */
export interface SamplePlan {
  eligible: Int32Array;
  users: Int32Array | null;
}

/** The rows of the planned users (`SamplePlan`) in user order, with each user's positions (-1: not eligible). */
export interface FeedbackSample extends Feedback {
  userRank: Int32Array;
  eligibleRank: Int32Array;
}

/** What validation chose (`chooseCollaborative`), before the model is fitted on the whole data. */
export type CollaborativeChoice = Omit<
  CollaborativeFit,
  'neighbourStart' | 'neighbourItems' | 'neighbourWeights' | 'shortNeighbours' | 'ridge' | 'short'
> & {
  short: Omit<ShortHistoryFit, 'ridge'> | null;
  /** The model's items, most engaged first: the Gram matrix to fit on is over these. */
  itemSet: number[];
};

/** Options of `fitCollaborative`; the grids are what validation chooses from. */
export interface CollaborativeOptions {
  asOf: number;
  seed: number;
  maxItems: number;
  maxNeighbours: number;
  /** λ candidates as multiples of the mean diagonal of XᵀX (the mean item's squared feedback). */
  lambdaGrid: readonly number[];
  /**
   * Dropout-rate candidates p of the emphasised denoising fit (EDLAE, see `easeWithLambda`): each item's ridge
   * gains p / (1 − p) times its own diagonal of XᵀX. 0 is plain EASE; validation tries the others for short
   * queries at DROPOUT_LAMBDA, then λ around it.
   */
  dropoutGrid: readonly number[];
  /** Half-life candidates in days for the model's input; 0 means no decay. */
  halfLifeGrid: readonly number[];
  /** Half-life candidates in days for popularity; 0 means no decay. */
  popularityHalfLifeGrid: readonly number[];
  /**
   * Candidate priors k of the history weight n / (n + k) given to the model against the backoff (n: the user's
   * summed feedback); a larger k trusts a short history less.
   */
  priorGrid: readonly number[];
  /** Users sampled for validation. */
  validationUsers: number;
}

/**
 * What validation chose for short histories (queries of at most `maxLength` positive items), when it differs from
 * the long-history choice: its own λ (as a multiple, and as added), blend prior and share.
 */
export interface ShortHistoryFit {
  maxLength: number;
  lambda: number;
  dropout: number;
  ridge: number;
  share: number;
  historyPrior: number;
}

/** Each item's neighbours and weights B(j,i) in CSR form over the catalogue's item numbers. */
export interface NeighbourLists {
  start: number[];
  items: number[];
  weights: number[];
}

/** The fitted model, plain JSON: neighbours in CSR form over the catalogue's item numbers. */
export interface CollaborativeFit {
  neighbourStart: number[];
  neighbourItems: number[];
  neighbourWeights: number[];
  /** B at the short-history λ, its own neighbours in the same form (null: short histories use the above). */
  shortNeighbours: NeighbourLists | null;
  /** The short-history choice (null: one choice for every history length). */
  short: ShortHistoryFit | null;
  /** What validation chose: λ as a multiple of the mean diagonal (see the module comment), and as added. */
  lambda: number;
  ridge: number;
  /** The dropout rate p of the emphasised denoising fit (0: plain EASE; see `easeWithLambda`). */
  dropout: number;
  halfLifeDays: number;
  popularityHalfLifeDays: number;
  /** 1 when the model beat popularity in validation (else 0: popularity and taste only), and its prior k. */
  share: number;
  historyPrior: number;
  /**
   * The validation behind the choice: users, and nDCG@10 of the chosen blend and of popularity, overall and per
   * group ("what comes next": the last session hidden; "other": a random item hidden).
   */
  validation: {
    users: number;
    ndcg: number;
    popularityNdcg: number;
    next: { ndcg: number; popularityNdcg: number };
    other: { ndcg: number; popularityNdcg: number };
  };
}

/** Defaults of `fitCollaborative`. */
export const DEFAULT_COLLABORATIVE_OPTIONS: Omit<CollaborativeOptions, 'asOf' | 'seed'> = {
  maxItems: 2000,
  maxNeighbours: 100,
  lambdaGrid: [0.2, 1, 2.5, 5, 10, 25, 100],
  dropoutGrid: [0, 0.9, 0.95, 0.98],
  halfLifeGrid: [0, 365, 90],
  popularityHalfLifeGrid: [0, 365, 30],
  priorGrid: [0.25, 1, 4, 16, 64, 256],
  validationUsers: 1500,
};

const DAY = 86_400_000;
const TOP = 10;
/** Validation fits use at most this many items (the most engaged): λ transfers, and each m³ inverse stays cheap. */
const VALIDATION_ITEMS = 800;
const VALIDATION_GRAM_USERS = 20_000;
/** Fewer validation users than this measure noise: the defaults are used instead. */
const MIN_VALIDATION_USERS = 30;
/**
 * Queries of at most this many positive items are "short": EASE's best λ and blend for a handful of known items
 * differ from those for a long history (a short query needs more shrinkage and more popularity), so validation
 * chooses them apart and the model keeps a second B for them when the choice differs.
 */
const SHORT_HISTORY = 10;
const DEFAULT_POPULARITY_HALF_LIFE = 30;
/**
 * The λ (as a multiple of the mean diagonal) each dropout rate is first tried at: the dropout term already
 * shrinks every item by its own diagonal, so the best λ with it is far below plain EASE's (1–5 against 25–100 on
 * the MovieLens-shaped sets); λ next to it in the grid is then tried at the best rate.
 */
const DROPOUT_LAMBDA = 2.5;
/** Rows within this time of a user's latest one belong to the same last session (a basket, a visit). */
const SESSION_MS = 3_600_000;
/** Hidden items this recent judge the popularity half-life. */
const RECENT_VALIDATION_DAYS = 365;
/**
 * Standard errors of noise allowed against a candidate before it counts as worse than popularity: two for "what
 * comes next" (the question a recommendation answers in use), one for "what else do they like".
 */
const NOISE_Z = { next: 2, other: 1 };

/** Validation nDCG@10 in the two groups of users: "what comes next" and "what else do they like". */
interface GroupScores {
  next: number;
  other: number;
}

function total(g: GroupScores): number {
  return g.next + g.other;
}

/**
 * Whether a candidate is at least as good as popularity for both questions, with room for noise taken against
 * the candidate: in each group the mean gain over popularity less NOISE_Z standard errors must not be negative.
 */
function noWorse(
  gains: Float64Array,
  popularity: Float64Array,
  isNext: Uint8Array,
  bucket: Uint8Array,
): boolean {
  for (const group of [0, 1]) {
    const diffs: number[] = [];
    for (let k = 0; k < gains.length; k++) {
      if (bucket[k] && isNext[k] === group) diffs.push((gains[k] as number) - (popularity[k] as number));
    }
    // A bucket's handful of one group's users (few short queries ask "what comes next") cannot tell noise apart.
    if (diffs.length < MIN_VALIDATION_USERS && bucket.some((b, k) => b === 1 && isNext[k] !== group))
      continue;
    if (lowerBound(diffs, group === 1 ? NOISE_Z.next : NOISE_Z.other) < 0) return false;
  }
  return true;
}

/** The mean of `diffs` less `z` standard errors of it; 0 for none, the one value for one. */
function lowerBound(diffs: readonly number[], z: number): number {
  const n = diffs.length;
  if (n === 0) return 0;
  const mean = diffs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return mean;
  const variance = diffs.reduce((a, d) => a + (d - mean) ** 2, 0) / (n - 1);
  return mean - z * Math.sqrt(variance / n);
}

function middle(grid: readonly number[]): number {
  return grid[Math.floor((grid.length - 1) / 2)] ?? 1;
}

/** The popularity half-lives a census sums: plain counts, the grid, and the default used without validation. */
export function popularityHalfLives(grid: readonly number[]): number[] {
  return [...new Set([0, ...grid, DEFAULT_POPULARITY_HALF_LIFE])].sort((a, b) => a - b);
}

/**
 * Which users validation reads (seeded): `validationUsers` eligible users (at most half of them), and for the
 * validation fits a sample of VALIDATION_GRAM_USERS users from its own stream (all users when there are fewer).
 */
export function validationSample(census: FeedbackCensus, seed: number, validationUsers: number): SamplePlan {
  const rng = createRng(seed);
  const maxUsers = Math.min(validationUsers, Math.floor(census.eligibleUsers / 2));
  const eligible =
    census.eligibleUsers > maxUsers
      ? rng.sampleIndices(census.eligibleUsers, maxUsers)
      : Int32Array.from({ length: census.eligibleUsers }, (_, k) => k);
  const users =
    census.users <= VALIDATION_GRAM_USERS
      ? null
      : createRng(seed + 1).sampleIndices(census.users, VALIDATION_GRAM_USERS - eligible.length);
  return { eligible, users };
}

/** The census of in-memory feedback (see FeedbackCensus); `users` are its rows. */
export function feedbackCensus(fb: Feedback, asOf: number, halfLives: readonly number[]): FeedbackCensus {
  const nUsers = fb.start.length - 1;
  const engaged = new Int32Array(fb.nItems);
  const lengthHistogram: number[] = [];
  let eligibleUsers = 0;
  for (let u = 0; u < nUsers; u++) {
    let positive = 0;
    for (let r = fb.start[u] as number; r < (fb.start[u + 1] as number); r++) {
      if (!((fb.weights[r] as number) > 0)) continue;
      positive++;
      engaged[fb.items[r] as number] = (engaged[fb.items[r] as number] as number) + 1;
    }
    if (positive < 2) continue;
    eligibleUsers++;
    while (lengthHistogram.length <= positive) lengthHistogram.push(0);
    lengthHistogram[positive] = (lengthHistogram[positive] as number) + 1;
  }
  const popularity: Record<string, Float64Array> = {};
  for (const h of halfLives) popularity[String(h)] = popularityOf(fb, null, asOf, h, false);
  return { nItems: fb.nItems, users: nUsers, eligibleUsers, lengthHistogram, engaged, popularity };
}

/** Each user's position among the eligible ones (at least two positive rows), -1 for the others. */
export function eligibleRanks(fb: Feedback): Int32Array {
  const nUsers = fb.start.length - 1;
  const ranks = new Int32Array(nUsers).fill(-1);
  let e = 0;
  for (let u = 0; u < nUsers; u++) {
    let positive = 0;
    for (let r = fb.start[u] as number; r < (fb.start[u + 1] as number) && positive < 2; r++) {
      if ((fb.weights[r] as number) > 0) positive++;
    }
    if (positive >= 2) ranks[u] = e++;
  }
  return ranks;
}

/** The planned users' rows of in-memory feedback, as the sample a backend would hand over. */
export function feedbackSample(fb: Feedback, plan: SamplePlan): FeedbackSample {
  const ranks = eligibleRanks(fb);
  const wantedEligible = new Set(plan.eligible);
  const wantedUser = plan.users ? new Set(plan.users) : null;
  const users: number[] = [];
  for (let u = 0; u < ranks.length; u++) {
    const rank = ranks[u] as number;
    if ((rank >= 0 && wantedEligible.has(rank)) || !wantedUser || wantedUser.has(u)) users.push(u);
  }
  return sliceFeedback(
    fb,
    users,
    Array.from(users, (u) => ranks[u] as number),
  );
}

/** The rows of `users` (in that order) as a feedback of their own. */
function sliceFeedback(
  fb: Feedback,
  users: readonly number[],
  eligibleRank: readonly number[],
): FeedbackSample {
  const start = new Int32Array(users.length + 1);
  let n = 0;
  users.forEach((u, k) => {
    n += (fb.start[u + 1] as number) - (fb.start[u] as number);
    start[k + 1] = n;
  });
  const rows = new Int32Array(n);
  let out = 0;
  for (const u of users)
    for (let r = fb.start[u] as number; r < (fb.start[u + 1] as number); r++) rows[out++] = r;
  return {
    nItems: fb.nItems,
    start,
    items: Int32Array.from(rows, (r) => fb.items[r] as number),
    weights: Float32Array.from(rows, (r) => fb.weights[r] as number),
    firstTs: Float64Array.from(rows, (r) => fb.firstTs[r] as number),
    lastTs: Float64Array.from(rows, (r) => fb.lastTs[r] as number),
    target: Uint8Array.from(rows, (r) => fb.target[r] as number),
    userRank: Int32Array.from(users),
    eligibleRank: Int32Array.from(eligibleRank),
  };
}

/** Fits EASE with validated λ, decay and share on in-memory feedback; see the module comment. */
export function fitCollaborative(fb: Feedback, options: CollaborativeOptions): CollaborativeFit {
  const census = feedbackCensus(fb, options.asOf, popularityHalfLives(options.popularityHalfLifeGrid));
  const sample = feedbackSample(fb, validationSample(census, options.seed, options.validationUsers));
  const choice = chooseCollaborative(census, sample, options);
  const gram = gramOf(fb, choice.itemSet, null, options.asOf, choice.halfLifeDays);
  return finishCollaborative(choice, gram, fb.nItems, options.maxNeighbours);
}

/** Validation on the census and the sample (see the module comment): λ, decay, share, and the model's items. */
export function chooseCollaborative(
  census: FeedbackCensus,
  sample: FeedbackSample,
  options: CollaborativeOptions,
): CollaborativeChoice {
  const itemSet = mostEngaged(census.engaged, options.maxItems);
  const split = validationSplit(sample, census, options.seed, options.validationUsers);
  const popChoice = choosePopularity(sample, census, split, options);
  const validated = split.users.length >= MIN_VALIDATION_USERS;
  const search =
    validated && itemSet.length > 1 ? searchModel(sample, split, itemSet, popChoice, options) : null;
  const long = search?.long ?? null;
  // Too few people to validate on: the defaults (the middle of each grid, popularity over the last 30 days).
  const chosen = long
    ? { ...long, share: 1 }
    : {
        lambda: validated ? (options.lambdaGrid[0] ?? 1) : middle(options.lambdaGrid),
        dropout: 0,
        // The Gram matrix of the final fit is at the decay short histories were validated at, if they use it.
        halfLifeDays: search?.short?.halfLifeDays ?? 0,
        share: validated ? 0 : 1,
        historyPrior: validated ? (options.priorGrid[0] ?? 1) : middle(options.priorGrid),
      };
  const short = search ? shortChoice(search, chosen, options) : null;
  const scores = search ? combinedScores(split, search, popChoice.gains) : popChoice.scores;
  const users = split.users.length;
  return {
    itemSet,
    lambda: chosen.lambda,
    dropout: chosen.dropout,
    halfLifeDays: chosen.halfLifeDays,
    popularityHalfLifeDays: validated ? popChoice.halfLifeDays : DEFAULT_POPULARITY_HALF_LIFE,
    share: chosen.share,
    historyPrior: chosen.historyPrior,
    short,
    validation: {
      users,
      ndcg: mean(total(scores), users),
      popularityNdcg: mean(total(popChoice.scores), users),
      next: {
        ndcg: mean2(scores.next, split.groups.next),
        popularityNdcg: mean2(popChoice.scores.next, split.groups.next),
      },
      other: {
        ndcg: mean2(scores.other, split.groups.other),
        popularityNdcg: mean2(popChoice.scores.other, split.groups.other),
      },
    },
  };
}

/**
 * The short-history choice: null when validation had no separate short bucket or chose for it what it chose for
 * the long one; popularity alone (`share` 0) when no candidate was at least as good as popularity there.
 */
function shortChoice(
  search: ModelSearch,
  long: { lambda: number; dropout: number; share: number; historyPrior: number },
  options: CollaborativeOptions,
): Omit<ShortHistoryFit, 'ridge'> | null {
  if (!search.shortBucket) return null;
  const pick = search.short;
  const share = pick ? 1 : 0;
  const lambda = pick?.lambda ?? long.lambda;
  const dropout = pick?.dropout ?? long.dropout;
  const historyPrior = pick?.historyPrior ?? options.priorGrid[0] ?? 1;
  const sameFit = lambda === long.lambda && dropout === long.dropout;
  if (share === long.share && sameFit && (share === 0 || historyPrior === long.historyPrior)) return null;
  return { maxLength: SHORT_HISTORY, lambda, dropout, share, historyPrior };
}

/** Validation nDCG@10 per group of what was chosen: each user scored by the choice for their history length. */
function combinedScores(split: Split, search: ModelSearch, popularity: Float64Array): GroupScores {
  const scores: GroupScores = { next: 0, other: 0 };
  for (let k = 0; k < split.users.length; k++) {
    const short = search.shortBucket?.[k] === 1;
    const pick = short ? search.short : search.long;
    const gain = (pick ? pick.gains[k] : popularity[k]) as number;
    if (split.isNext[k]) scores.next += gain;
    else scores.other += gain;
  }
  return scores;
}

/** The model from validation's choice and XᵀX over its items (row-major, `choice.itemSet` order). */
export function finishCollaborative(
  choice: CollaborativeChoice,
  gram: Float64Array,
  nItems: number,
  maxNeighbours: number,
): CollaborativeFit {
  const { itemSet, short, ...chosen } = choice;
  const m = itemSet.length;
  // λ over the same items' diagonal as in validation (the first VALIDATION_ITEMS are the most engaged ones).
  const head = Math.min(m, VALIDATION_ITEMS);
  let diag = 0;
  for (let a = 0; a < head; a++) diag += gram[a * m + a] as number;
  const ridgeOf = (lambda: number) => (lambda * diag) / Math.max(1, head);
  const ridge = ridgeOf(choice.lambda);
  const fitted = easeWithLambda(gram, m, ridge, choice.dropout);
  // A second B only when short histories are scored by the model at a λ or dropout rate of their own.
  const second =
    short && short.share > 0 && (short.lambda !== choice.lambda || short.dropout !== choice.dropout);
  const shortNeighbours = second
    ? sparseNeighbours(
        easeWithLambda(gram, m, ridgeOf(short.lambda), short.dropout),
        itemSet,
        nItems,
        maxNeighbours,
      )
    : null;
  return {
    ...sparseNeighbours(fitted, itemSet, nItems, maxNeighbours),
    shortNeighbours: shortNeighbours && {
      start: shortNeighbours.neighbourStart,
      items: shortNeighbours.neighbourItems,
      weights: shortNeighbours.neighbourWeights,
    },
    ...chosen,
    short: short ? { ...short, ridge: Number(ridgeOf(short.lambda).toPrecision(9)) } : null,
    ridge: Number(ridge.toPrecision(9)),
  };
}

function mean(sum: number, n: number): number {
  return n > 0 ? sum / n : 0;
}

function mean2(sum: number, n: number): number {
  return Number(mean(sum, n).toPrecision(6));
}

/** One validation fit: its per-user nDCG@10 at each prior of the grid. */
interface Trial {
  lambda: number;
  halfLifeDays: number;
  dropout: number;
  perPrior: Float64Array[];
}

/** The best trial and prior for a bucket of validation users, with every user's gain under it. */
interface Pick {
  lambda: number;
  halfLifeDays: number;
  dropout: number;
  historyPrior: number;
  gains: Float64Array;
}

/** The search's picks: for long histories (every user without a short bucket) and for short ones. */
interface ModelSearch {
  long: Pick | null;
  short: Pick | null;
  /** 1 for a user whose query is short (null: too few such users, or too few others, to choose apart). */
  shortBucket: Uint8Array | null;
}

/**
 * A coordinate search over the model's parameters: λ without decay (one Gram matrix for all) for plain EASE, and
 * for short queries each dropout rate at DROPOUT_LAMBDA, then λ around it at their best rate; then the decay at
 * the best long candidate; then λ, the dropout rate and the prior for short queries at the same decay (the final
 * fit has one Gram matrix; at a decay, plain EASE's λ grid and the short queries' best denoising fit without it).
 * Long queries are whole histories and keep plain EASE: on the hide-2 protocol (all but two items known) the
 * denoising fit chosen for them lost 7% of P@10 on the movie purchases. Each pick is the best candidate no worse
 * than popularity in both groups of its bucket.
 */
function searchModel(
  fb: Feedback,
  split: Split,
  itemSet: readonly number[],
  popChoice: { popularity: Float64Array; gains: Float64Array },
  options: CollaborativeOptions,
): ModelSearch {
  const subset = itemSet.slice(0, VALIDATION_ITEMS);
  const trials: Trial[] = [];
  const grams = new Map<number, Float64Array>();
  const trial = (lambda: number, halfLifeDays: number, dropout: number) => {
    if (trials.some((t) => t.lambda === lambda && t.halfLifeDays === halfLifeDays && t.dropout === dropout))
      return;
    let gram = grams.get(halfLifeDays);
    if (!gram) {
      gram = gramOf(fb, subset, split.hiddenMask, options.asOf, halfLifeDays, split.gramUsers);
      grams.set(halfLifeDays, gram);
    }
    const b = easeFromGram(gram, subset.length, lambda, dropout);
    trials.push({
      lambda,
      halfLifeDays,
      dropout,
      perPrior: scoreShares(fb, split, subset, b, popChoice.popularity, options, halfLifeDays),
    });
  };
  const buckets = bucketsOf(split);
  // Long queries are whole histories: plain EASE (the denoising fit is for queries that name few of the items).
  const pick = (bucket: Uint8Array, halfLifeDays: number | null) =>
    pickBest(
      trials.filter(
        (t) =>
          (halfLifeDays === null || t.halfLifeDays === halfLifeDays) &&
          (bucket === buckets.short || t.dropout === 0),
      ),
      options.priorGrid,
      popChoice.gains,
      split.isNext,
      bucket,
    );
  const grid = (halfLifeDays: number) => {
    for (const lambda of options.lambdaGrid) trial(lambda, halfLifeDays, 0);
    if (!buckets.short) return;
    for (const dropout of options.dropoutGrid) if (dropout > 0) trial(DROPOUT_LAMBDA, halfLifeDays, dropout);
    const best = pick(buckets.short, halfLifeDays);
    if (!best || best.dropout === 0) return;
    for (const lambda of around(options.lambdaGrid, DROPOUT_LAMBDA))
      trial(lambda, halfLifeDays, best.dropout);
  };
  grid(0);
  const first = pick(buckets.long, 0);
  const lambda = first?.lambda ?? options.lambdaGrid[0] ?? 1;
  const dropout = first?.dropout ?? 0;
  for (const halfLifeDays of options.halfLifeGrid) if (halfLifeDays > 0) trial(lambda, halfLifeDays, dropout);
  const long = pick(buckets.long, null);
  if (!buckets.short) return { long, short: null, shortBucket: null };
  const halfLifeDays = long?.halfLifeDays ?? 0;
  if (halfLifeDays > 0) {
    // At the long queries' decay: plain EASE's λ grid and the short queries' best denoising fit without decay.
    for (const l of options.lambdaGrid) trial(l, halfLifeDays, 0);
    const best = pick(buckets.short, 0);
    if (best && best.dropout > 0) trial(best.lambda, halfLifeDays, best.dropout);
  }
  const atDecay = trials.filter((t) => t.halfLifeDays === halfLifeDays);
  return {
    ...pickPair(atDecay, options.priorGrid, popChoice.gains, split.isNext, buckets.short),
    shortBucket: buckets.short,
  };
}

/** The grid's values next below and next above `value` (those that exist). */
function around(grid: readonly number[], value: number): number[] {
  const below = grid.filter((v) => v < value);
  const above = grid.filter((v) => v > value);
  return [...below.slice(-1), ...above.slice(0, 1)];
}

/**
 * The long and the short choice together (each a trial and prior, or popularity alone): the pair with the best
 * total gain over every validation user, each scored by the choice for their query's length, among the pairs
 * whose whole model is no worse than popularity for both questions.
 */
function pickPair(
  trials: readonly Trial[],
  priorGrid: readonly number[],
  popularity: Float64Array,
  isNext: Uint8Array,
  short: Uint8Array,
): { long: Pick | null; short: Pick | null } {
  const options: Array<Pick | null> = [null];
  for (const t of trials) {
    t.perPrior.forEach((gains, s) => {
      const historyPrior = priorGrid[s] as number;
      options.push({
        lambda: t.lambda,
        halfLifeDays: t.halfLifeDays,
        dropout: t.dropout,
        historyPrior,
        gains,
      });
    });
  }
  const sums = options.map((o) => {
    const gains = o?.gains ?? popularity;
    let long = 0;
    let shortSum = 0;
    for (let k = 0; k < gains.length; k++) {
      if (short[k]) shortSum += gains[k] as number;
      else long += gains[k] as number;
    }
    return { long, short: shortSum };
  });
  const pairs: Array<[number, number, number]> = [];
  options.forEach((_, a) => {
    // Long queries take plain EASE (see searchModel).
    if ((options[a]?.dropout ?? 0) > 0) return;
    options.forEach((_, b) => {
      pairs.push([a, b, (sums[a]?.long as number) + (sums[b]?.short as number)]);
    });
  });
  // Best total first; ties keep the earlier (simpler) option, popularity first.
  pairs.sort((x, y) => y[2] - x[2] || x[0] - y[0] || x[1] - y[1]);
  const everyone = new Uint8Array(short.length).fill(1);
  const whole = new Float64Array(short.length);
  for (const [a, b] of pairs) {
    const longGains = options[a]?.gains ?? popularity;
    const shortGains = options[b]?.gains ?? popularity;
    for (let k = 0; k < whole.length; k++) whole[k] = (short[k] ? shortGains[k] : longGains[k]) as number;
    if (noWorse(whole, popularity, isNext, everyone))
      return { long: options[a] ?? null, short: options[b] ?? null };
  }
  return { long: null, short: null };
}

/**
 * Validation users by query length: short (at most SHORT_HISTORY positive items known) and long. Both need
 * MIN_VALIDATION_USERS users to be chosen for apart; otherwise every user is in the one long bucket.
 */
function bucketsOf(split: Split): { long: Uint8Array; short: Uint8Array | null } {
  const n = split.users.length;
  const short = Uint8Array.from(split.queryLength, (len) => (len <= SHORT_HISTORY ? 1 : 0));
  const shortUsers = short.reduce((a, b) => a + b, 0);
  if (shortUsers < MIN_VALIDATION_USERS || n - shortUsers < MIN_VALIDATION_USERS) {
    return { long: new Uint8Array(n).fill(1), short: null };
  }
  return { long: short.map((v) => 1 - v), short };
}

/** The trial and prior with the best total gain over the bucket's users among those no worse than popularity. */
function pickBest(
  trials: readonly Trial[],
  priorGrid: readonly number[],
  popularity: Float64Array,
  isNext: Uint8Array,
  bucket: Uint8Array,
): Pick | null {
  let best: Pick | null = null;
  let bestTotal = Number.NEGATIVE_INFINITY;
  for (const t of trials) {
    t.perPrior.forEach((gains, s) => {
      if (!noWorse(gains, popularity, isNext, bucket)) return;
      let sum = 0;
      for (let k = 0; k < gains.length; k++) if (bucket[k]) sum += gains[k] as number;
      if (sum > bestTotal) {
        bestTotal = sum;
        const historyPrior = priorGrid[s] as number;
        best = { lambda: t.lambda, halfLifeDays: t.halfLifeDays, dropout: t.dropout, historyPrior, gains };
      }
    });
  }
  return best;
}

/** Item numbers by how many users have a positive row with them, most first (ties by number); none with 0. */
function mostEngaged(counts: ArrayLike<number>, maxItems: number): number[] {
  const items: number[] = [];
  for (let i = 0; i < counts.length; i++) if ((counts[i] as number) > 0) items.push(i);
  items.sort((a, b) => (counts[b] as number) - (counts[a] as number) || a - b);
  return items.slice(0, Math.max(0, maxItems));
}

/** Validation users and the row hidden for each (their most recent positive row). */
interface Split {
  users: number[];
  /** One hidden row per validation user, aligned with `users` (its time judges the popularity decay). */
  hiddenRows: number[];
  /** The hidden rows whose items a validation user's top 10 should find, aligned with `users`. */
  targets: number[][];
  hiddenMask: Uint8Array;
  /** 1 for the rows a validation user's query uses (a random number of their other rows, see validationSplit). */
  queryMask: Uint8Array;
  /** The users whose rows enter the validation fits (all validation users, plus a seeded sample of others). */
  gramUsers: Int32Array;
  /** 1 for a "what comes next" user (last session hidden, all earlier history known), aligned with `users`. */
  isNext: Uint8Array;
  /** Positive rows each user's query knows, aligned with `users` (which history-length bucket they judge). */
  queryLength: Int32Array;
  /** How many users each group has. */
  groups: GroupScores;
}

function validationSplit(fb: FeedbackSample, census: FeedbackCensus, seed: number, maxUsers: number): Split {
  const plan = validationSample(census, seed, maxUsers);
  const rng = createRng(seed);
  // The same draw validationSample made, so the stream continues as one (the rows of those users are here).
  if (plan.eligible.length < census.eligibleUsers)
    rng.sampleIndices(census.eligibleUsers, plan.eligible.length);
  const wanted = new Set(plan.eligible);
  const picked: number[] = [];
  for (let u = 0; u < fb.userRank.length; u++) {
    const rank = fb.eligibleRank[u] as number;
    if (rank >= 0 && wanted.has(rank)) picked.push(u);
  }
  // Half the users hide their last session (what comes next), half all but a few items (what else they like).
  // Someone whose items all come from one session has no "next" to ask about: they answer the other question.
  const isNext = new Uint8Array(picked.length);
  const hiddenMask = new Uint8Array(fb.items.length);
  const targets = picked.map((u, k) => {
    const session = k % 3 === 0 ? lastSession(fb, u) : null;
    if (!session) {
      // A third knows a short history (1..SHORT_HISTORY items), so short queries are judged in any store.
      const n =
        k % 3 === 2
          ? rng.int(1, SHORT_HISTORY)
          : lengthAt(census.lengthHistogram, rng.int(0, census.eligibleUsers - 1));
      return givenRows(fb, u, n, rng);
    }
    isNext[k] = 1;
    // Any of the session's new items: the first one in the data may be the first drawn, not a typical one.
    return {
      hidden: session.hidden,
      targets: [session.fresh[rng.int(0, session.fresh.length - 1)] as number],
    };
  });
  for (const t of targets) for (const r of t.hidden) hiddenMask[r] = 1;
  const queryMask = queryRows(fb, picked, hiddenMask);
  const queryLength = Int32Array.from(picked, (u) => positiveRows(fb, u).filter((r) => queryMask[r]).length);
  const nNext = isNext.reduce((a, b) => a + b, 0);
  return {
    users: picked,
    hiddenRows: targets.map((t) => t.targets[0] as number),
    targets: targets.map((t) => t.targets),
    hiddenMask,
    queryMask,
    gramUsers: gramUsersOf(fb, plan, wanted),
    isNext,
    queryLength,
    groups: { next: nNext, other: picked.length - nNext },
  };
}

/** The k-th smallest positive-row count of the eligible users (the histogram sorted, without the list). */
function lengthAt(histogram: readonly number[], k: number): number {
  let seen = 0;
  for (let c = 0; c < histogram.length; c++) {
    seen += histogram[c] as number;
    if (k < seen) return c;
  }
  return histogram.length - 1;
}

/** The sample's users whose rows enter the validation fits: the planned users and every validation user. */
function gramUsersOf(fb: FeedbackSample, plan: SamplePlan, eligible: ReadonlySet<number>): Int32Array {
  const users = plan.users ? new Set(plan.users) : null;
  const out: number[] = [];
  for (let u = 0; u < fb.userRank.length; u++) {
    const rank = fb.eligibleRank[u] as number;
    if (!users || users.has(fb.userRank[u] as number) || (rank >= 0 && eligible.has(rank))) out.push(u);
  }
  return Int32Array.from(out);
}

/**
 * The user's last session (rows last touched within SESSION_MS of their latest event: a basket, a visit): all of
 * it is hidden, since even a repeat bought in it says what the session was about, which is not known before it;
 * the items new in it (first chosen there) are what is predicted. Null when there is no new item or nothing
 * earlier to predict from.
 */
function lastSession(fb: Feedback, u: number): { hidden: number[]; fresh: number[] } | null {
  const latest = latestPositiveRow(fb, u);
  const since = (fb.lastTs[latest] as number) - SESSION_MS;
  const hidden: number[] = [];
  const fresh: number[] = [];
  for (let r = fb.start[u] as number; r < (fb.start[u + 1] as number); r++) {
    if (!((fb.weights[r] as number) > 0) || (fb.lastTs[r] as number) < since) continue;
    hidden.push(r);
    if ((fb.firstTs[r] as number) >= since) fresh.push(r);
  }
  const before = (fb.start[u + 1] as number) - (fb.start[u] as number) - hidden.length;
  return fresh.length === 0 || before === 0 ? null : { hidden, fresh };
}

/**
 * "What else do they like", asked as the given-N protocol asks it: the user keeps N random positive rows and
 * every other one is hidden and to be found. N is the positive-row count of a random eligible user (at most one
 * less than the user's own), so the queries have the history lengths of the people who will ask: a store of
 * short histories tunes for short ones, a store of long ones for those. Many hidden items per user make each
 * user's score far less noisy than one hidden item would (the old single hidden item left no candidate clearly
 * better than popularity on 300 users, although the model was).
 */
function givenRows(fb: Feedback, u: number, n: number, rng: ReturnType<typeof createRng>) {
  const rows = positiveRows(fb, u);
  const keep = new Set(rng.sampleIndices(rows.length, Math.max(1, Math.min(n, rows.length - 1))));
  const hidden = rows.filter((_, k) => !keep.has(k));
  return { hidden, targets: hidden };
}

function positiveRows(fb: Feedback, u: number): number[] {
  const rows: number[] = [];
  for (let r = fb.start[u] as number; r < (fb.start[u + 1] as number); r++) {
    if ((fb.weights[r] as number) > 0) rows.push(r);
  }
  return rows;
}

/** A validation user's query is every positive row not hidden: all earlier history, or the N kept ones. */
function queryRows(fb: Feedback, users: readonly number[], hidden: Uint8Array): Uint8Array {
  const mask = new Uint8Array(fb.items.length);
  for (const u of users) for (const r of positiveRows(fb, u)) if (!hidden[r]) mask[r] = 1;
  return mask;
}

function latestPositiveRow(fb: Feedback, u: number): number {
  let best = -1;
  for (let r = fb.start[u] as number; r < (fb.start[u + 1] as number); r++) {
    if (!((fb.weights[r] as number) > 0)) continue;
    if (best < 0 || (fb.lastTs[r] as number) >= (fb.lastTs[best] as number)) best = r;
  }
  return best;
}

let ownMarks = new Int32Array(0);
let ownStamp = 0;

/** Marks the user's items but the hidden ones with a fresh stamp (a reused array: no allocation per user). */
function ownMark(fb: Feedback, u: number, hidden: Uint8Array): Int32Array {
  if (ownMarks.length < fb.nItems) ownMarks = new Int32Array(fb.nItems);
  ownStamp = (ownStamp + 1) | 0;
  if (ownStamp === 0) {
    ownMarks.fill(0);
    ownStamp = 1;
  }
  for (let r = fb.start[u] as number; r < (fb.start[u + 1] as number); r++) {
    if (!hidden[r]) ownMarks[fb.items[r] as number] = ownStamp;
  }
  return ownMarks;
}

function decayFactor(halfLifeDays: number): number {
  return halfLifeDays > 0 ? Math.LN2 / (halfLifeDays * DAY) : 0;
}

/** Popularity over the target rows (hidden rows left out), each decayed from its last time; sums to 1 if `normalise`. */
export function popularityOf(
  fb: Feedback,
  hidden: Uint8Array | null,
  asOf: number,
  halfLifeDays: number,
  normalise = true,
): Float64Array {
  const decay = decayFactor(halfLifeDays);
  const pop = new Float64Array(fb.nItems);
  let total = 0;
  for (let r = 0; r < fb.items.length; r++) {
    if (!fb.target[r] || hidden?.[r]) continue;
    const w = Math.exp(-decay * Math.max(0, asOf - (fb.lastTs[r] as number)));
    pop[fb.items[r] as number] = (pop[fb.items[r] as number] as number) + w;
    total += w;
  }
  if (normalise && total > 0) for (let i = 0; i < pop.length; i++) pop[i] = (pop[i] as number) / total;
  return pop;
}

/**
 * The census's popularity at a half-life without the sample's hidden rows, normalised to sum to 1: what
 * `popularityOf` with the hidden mask gives on the whole data, from sums kept where the data lives.
 */
function popularityWithout(
  census: FeedbackCensus,
  fb: Feedback,
  hidden: Uint8Array,
  asOf: number,
  halfLifeDays: number,
): Float64Array {
  const sums = census.popularity[String(halfLifeDays)];
  if (!sums) throw new Error(`the census has no popularity at a half-life of ${halfLifeDays} days`);
  const pop = Float64Array.from(sums);
  const decay = decayFactor(halfLifeDays);
  for (let r = 0; r < fb.items.length; r++) {
    if (!fb.target[r] || !hidden[r]) continue;
    const i = fb.items[r] as number;
    pop[i] = (pop[i] as number) - Math.exp(-decay * Math.max(0, asOf - (fb.lastTs[r] as number)));
  }
  let total = 0;
  for (const v of pop) total += v;
  if (total > 0) for (let i = 0; i < pop.length; i++) pop[i] = (pop[i] as number) / total;
  return pop;
}

/**
 * The popularity half-life for "what sells now", judged by the "what comes next" users. Popularity is taken as of
 * asOf, so only their hidden items of the last RECENT_VALIDATION_DAYS judge the decay (what sold three years ago
 * says nothing about now; with too few of them, all of them do). A decay replaces plain counts only when its gain is clear: more than two standard
 * errors of the paired differences, so noise in a few hundred validation users does not pick a noisier list.
 */
function choosePopularity(
  fb: FeedbackSample,
  census: FeedbackCensus,
  split: Split,
  options: CollaborativeOptions,
) {
  const recentFrom = options.asOf - RECENT_VALIDATION_DAYS * DAY;
  const all = split.users.map((_, k) => k);
  // The "what comes next" users ask what sells now; the others' hidden items span their whole history.
  const next = all.filter((k) => split.isNext[k] === 1);
  const pool = next.length >= MIN_VALIDATION_USERS ? next : all;
  let judges = pool.filter((k) => (fb.lastTs[split.hiddenRows[k] as number] as number) >= recentFrom);
  if (judges.length < MIN_VALIDATION_USERS) judges = pool;
  const gainsOf = (popularity: Float64Array, users: readonly number[]) =>
    users.map((k) =>
      listGain(fb, split.users[k] as number, split.targets[k] as number[], split.hiddenMask, popularity),
    );
  const plain = popularityWithout(census, fb, split.hiddenMask, options.asOf, 0);
  const plainGains = gainsOf(plain, judges);
  let best = { halfLifeDays: 0, popularity: plain, margin: 0 };
  for (const halfLifeDays of options.popularityHalfLifeGrid) {
    if (halfLifeDays <= 0) continue;
    const popularity = popularityWithout(census, fb, split.hiddenMask, options.asOf, halfLifeDays);
    const diffs = gainsOf(popularity, judges).map((g, k) => g - (plainGains[k] as number));
    const margin = clearGain(diffs);
    if (margin > best.margin) best = { halfLifeDays, popularity, margin };
  }
  const scores: GroupScores = { next: 0, other: 0 };
  const gains = Float64Array.from(gainsOf(best.popularity, all));
  for (const k of all) {
    if (split.isNext[k]) scores.next += gains[k] as number;
    else scores.other += gains[k] as number;
  }
  return { halfLifeDays: best.halfLifeDays, scores, gains, popularity: best.popularity };
}

/** The mean of paired differences less two standard errors (positive: a clear gain), 0 for fewer than two. */
function clearGain(diffs: readonly number[]): number {
  return diffs.length < 2 ? 0 : lowerBound(diffs, 2);
}

const topItems = new Int32Array(TOP);

/**
 * nDCG@10 of the top 10 of `scores` (over the items the user has no known row with) against the target rows'
 * items: each found item adds 1 / log2(rank + 2), over the ideal for min(targets, 10) items. With one target it
 * is that item's gain; unlike a plain hit, it still tells rankings apart on a catalogue of ten items or fewer.
 */
function listGain(
  fb: Feedback,
  u: number,
  targets: readonly number[],
  hidden: Uint8Array,
  scores: Float64Array,
): number {
  const own = ownMark(fb, u, hidden);
  let n = 0;
  // Insertion into a short sorted list; ties rank by item number, as the recommender's top list does.
  for (let i = 0; i < scores.length; i++) {
    if (own[i] === ownStamp) continue;
    const v = scores[i] as number;
    if (n === TOP && !(v > (scores[topItems[TOP - 1] as number] as number))) continue;
    let p = n < TOP ? n++ : TOP - 1;
    while (p > 0 && v > (scores[topItems[p - 1] as number] as number)) {
      topItems[p] = topItems[p - 1] as number;
      p--;
    }
    topItems[p] = i;
  }
  const wanted = ownMarks;
  const stamp = -ownStamp;
  for (const r of targets) wanted[fb.items[r] as number] = stamp;
  let dcg = 0;
  for (let p = 0; p < n; p++) if (wanted[topItems[p] as number] === stamp) dcg += 1 / Math.log2(p + 2);
  let ideal = 0;
  for (let p = 0; p < Math.min(TOP, targets.length); p++) ideal += 1 / Math.log2(p + 2);
  return ideal > 0 ? dcg / ideal : 0;
}

/** XᵀX over `subset` from the rows not hidden, each weight decayed by age. */
export function gramOf(
  fb: Feedback,
  subset: readonly number[],
  hidden: Uint8Array | null,
  asOf: number,
  halfLifeDays: number,
  users: Int32Array | null = null,
): Float64Array {
  const m = subset.length;
  const local = new Int32Array(fb.nItems).fill(-1);
  for (let a = 0; a < m; a++) local[subset[a] as number] = a;
  const gram = new Float64Array(m * m);
  const decay = decayFactor(halfLifeDays);
  let maxRow = 0;
  for (let u = 0; u + 1 < fb.start.length; u++) {
    maxRow = Math.max(maxRow, (fb.start[u + 1] as number) - (fb.start[u] as number));
  }
  const idx = new Int32Array(maxRow);
  const val = new Float64Array(maxRow);
  const nUsers = users ? users.length : fb.start.length - 1;
  for (let k = 0; k < nUsers; k++) {
    const u = users ? (users[k] as number) : k;
    let n = 0;
    for (let r = fb.start[u] as number; r < (fb.start[u + 1] as number); r++) {
      const a = local[fb.items[r] as number] as number;
      const w = fb.weights[r] as number;
      if (a < 0 || !(w > 0) || hidden?.[r]) continue;
      idx[n] = a;
      val[n++] = decay > 0 ? w * Math.exp(-decay * Math.max(0, asOf - (fb.lastTs[r] as number))) : w;
    }
    addOuter(gram, m, idx, val, n);
  }
  return gram;
}

/** EASE's weights from a Gram matrix (not changed): λ is `lambdaScale` times its mean diagonal. */
export function easeFromGram(gram: Float64Array, m: number, lambdaScale: number, dropout = 0): Float64Array {
  let diag = 0;
  for (let a = 0; a < m; a++) diag += gram[a * m + a] as number;
  return easeWithLambda(gram, m, (lambdaScale * diag) / Math.max(1, m), dropout);
}

/**
 * EASE's weights B = I − P · diag(1/diag P), P = (G + Λ)⁻¹, from a Gram matrix G (not changed). Λ = λI for plain
 * EASE; with a dropout rate p > 0 it is the emphasised denoising autoencoder's full-rank closed form (EDLAE,
 * Steck, "Autoencoders that don't overfit towards the Identity", NeurIPS 2020): Λ = λI + p / (1 − p) · diag(G),
 * what training to rebuild each item from histories with a share p of their items dropped comes to. A query of
 * a handful of known items is such a history, and a plain EASE fitted on whole histories reads every item the
 * query does not name as "not chosen"; each item's own diagonal also shrinks popular items as much as rare ones.
 */
export function easeWithLambda(gram: Float64Array, m: number, lambda: number, dropout = 0): Float64Array {
  const p = gram.slice();
  const ridge = Math.max(1e-6, lambda);
  const emphasis = dropout > 0 ? dropout / (1 - dropout) : 0;
  for (let a = 0; a < m; a++) {
    const d = p[a * m + a] as number;
    p[a * m + a] = d + ridge + emphasis * d;
  }
  invertSpdInPlace(p, m);
  // B_ab = −P_ab / P_bb off the diagonal, 0 on it.
  const pDiag = new Float64Array(m);
  for (let a = 0; a < m; a++) pDiag[a] = p[a * m + a] as number;
  for (let a = 0; a < m; a++) {
    const row = a * m;
    for (let c = 0; c < m; c++) p[row + c] = a === c ? 0 : -(p[row + c] as number) / (pDiag[c] as number);
  }
  return p;
}

/** gram += x xᵀ for one user's sparse vector. */
function addOuter(gram: Float64Array, m: number, idx: Int32Array, val: Float64Array, n: number): void {
  for (let p = 0; p < n; p++) {
    const row = (idx[p] as number) * m;
    const v = val[p] as number;
    for (let q = 0; q < n; q++) {
      const c = row + (idx[q] as number);
      gram[c] = (gram[c] as number) + v * (val[q] as number);
    }
  }
}

/** Per-user validation nDCG@10 of the model blended with popularity by n / (n + k), at each prior k of the grid. */
function scoreShares(
  fb: Feedback,
  split: Split,
  subset: readonly number[],
  b: Float64Array,
  popularity: Float64Array,
  options: CollaborativeOptions,
  halfLifeDays: number,
): Float64Array[] {
  const perPrior = options.priorGrid.map(() => new Float64Array(split.users.length));
  const model = new Float64Array(fb.nItems);
  const blend = new Float64Array(fb.nItems);
  const local = new Int32Array(fb.nItems).fill(-1);
  for (let a = 0; a < subset.length; a++) local[subset[a] as number] = a;
  for (let k = 0; k < split.users.length; k++) {
    const u = split.users[k] as number;
    const targets = split.targets[k] as number[];
    const n = modelScores(fb, u, split.queryMask, local, b, decayFactor(halfLifeDays), options.asOf, model);
    for (let s = 0; s < options.priorGrid.length; s++) {
      const w = n > 0 ? n / (n + (options.priorGrid[s] as number)) : 0;
      for (let i = 0; i < blend.length; i++) {
        blend[i] = w * (model[i] as number) + (1 - w) * (popularity[i] as number);
      }
      (perPrior[s] as Float64Array)[k] = listGain(fb, u, targets, split.hiddenMask, blend);
    }
  }
  return perPrior;
}

/**
 * One validation user's model scores, clipped at 0 and normalised to sum to 1 (all 0 without evidence); returns
 * the summed feedback n of the query (0 when the model has nothing for it).
 */
function modelScores(
  fb: Feedback,
  u: number,
  queryMask: Uint8Array,
  local: Int32Array,
  b: Float64Array,
  decay: number,
  asOf: number,
  out: Float64Array,
): number {
  out.fill(0);
  let n = 0;
  const m = Math.round(Math.sqrt(b.length));
  const dense = new Float64Array(m);
  for (let r = fb.start[u] as number; r < (fb.start[u + 1] as number); r++) {
    const a = local[fb.items[r] as number] as number;
    const w = (fb.weights[r] as number) * Math.exp(-decay * Math.max(0, asOf - (fb.lastTs[r] as number)));
    if (!queryMask[r] || !(w > 0)) continue;
    n += w;
    if (a < 0) continue;
    const row = a * m;
    for (let c = 0; c < m; c++) dense[c] = (dense[c] as number) + w * (b[row + c] as number);
  }
  let total = 0;
  for (let c = 0; c < m; c++) if ((dense[c] as number) > 0) total += dense[c] as number;
  if (!(total > 0)) return 0;
  for (let i = 0; i < local.length; i++) {
    const c = local[i] as number;
    if (c >= 0 && (dense[c] as number) > 0) out[i] = (dense[c] as number) / total;
  }
  return n;
}

/** Keeps each source item's `k` largest weights by magnitude, as CSR over catalogue item numbers. */
function sparseNeighbours(b: Float64Array, subset: readonly number[], nItems: number, k: number) {
  const m = subset.length;
  const rowOf = new Int32Array(nItems).fill(-1);
  for (let a = 0; a < m; a++) rowOf[subset[a] as number] = a;
  const neighbourStart: number[] = [0];
  const neighbourItems: number[] = [];
  const neighbourWeights: number[] = [];
  const order = new Array<number>(m);
  for (let j = 0; j < nItems; j++) {
    const a = rowOf[j] as number;
    if (a >= 0) {
      for (let c = 0; c < m; c++) order[c] = c;
      const row = a * m;
      const kept = order
        .filter((c) => c !== a && b[row + c] !== 0)
        .sort((x, y) => Math.abs(b[row + y] as number) - Math.abs(b[row + x] as number) || x - y)
        .slice(0, k)
        .sort((x, y) => (subset[x] as number) - (subset[y] as number));
      for (const c of kept) {
        neighbourItems.push(subset[c] as number);
        neighbourWeights.push(Number((b[row + c] as number).toPrecision(9)));
      }
    }
    neighbourStart.push(neighbourItems.length);
  }
  return { neighbourStart, neighbourItems, neighbourWeights };
}
