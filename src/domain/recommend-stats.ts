/**
 * What the recommender's fit reads of the data, as statistics a backend can aggregate where the data lives (SQL)
 * instead of handing every interaction to the app (issue #14): counts per item and per person kind, a bounded
 * sample of people's rows for validation and taste, and the item-pair sums over the model's items. The engine
 * (src/engine/recommend.ts) defines what each number means and computes the same ones from memory for the file
 * backend; both paths then fit through the same functions, so they give the same model.
 *
 * People are numbered in one order: profiles in stored order, then people only seen in interactions, by their
 * first event before asOf in data order. A person's (person, item) cells are in the order of their first event
 * with the item. "Positive" means a cell weight above 0; "truncated" weights keep only the person's `maxHistory`
 * most recent cells (by last event, ties by that order).
 */
import type { Interaction, InteractionType, Product, Profile } from './types.ts';

/** How interactions become (person, item) cells: the rules a backend applies. */
export interface RecommendCellRules {
  /** Only interactions strictly before this instant (epoch ms) count. */
  asOf: number;
  /** Weight per interaction type, as 32-bit floats; a rating's is its weight when positive. */
  typeWeights: Readonly<Record<InteractionType, number>>;
  /** The weight of a rating below both the threshold and the person's mean rating (or without stars). */
  lowRatingWeight: number;
  /** Ratings at or above it are positive; null: 80% of the highest rating before asOf (at least 8 above 5, else 4). */
  ratingThreshold: number | null;
  /** Types after which a person knows an item (it is not recommended to them again unless repeatable). */
  knownTypes: readonly InteractionType[];
  /** Truncated weights keep this many most recent cells per person. */
  maxHistory: number;
  /** P(u)'s purchase window, in days. */
  propensityWindowDays: number;
  /** "Recent purchases" of an item, in days. */
  recentDays: number;
  /** Half-lives (days, 0: none) at which per-item popularity is summed. */
  popularityHalfLives: readonly number[];
}

/** Counts over the whole data (see the module comment for the terms). */
export interface RecommendCensus {
  /** Catalogue items (arrays below are per item, in catalogue order). */
  nItems: number;
  /** The rating threshold the rules resolved to. */
  ratingThreshold: number;
  /** Whether any catalogue item was bought before asOf (targets are then purchases, else positive cells). */
  anyPurchase: boolean;
  /** People (profiles and people only seen in interactions before asOf). */
  users: number;
  /** People with at least two positive truncated cells, and how many have each number of them. */
  eligibleUsers: number;
  lengthHistogram: number[];
  /** People with at least one positive cell (taste evidence). */
  evidenceUsers: number;
  /** Purchases (of anything) in P(u)'s window, and Σ of people's exposure weeks (each as a 32-bit float). */
  windowPurchases: number;
  exposureWeeks: number;
  /** People with a positive truncated cell; with a target cell; with a positive cell; who bought it twice or more. */
  engaged: number[];
  buyers: number[];
  engagers: number[];
  repeaters: number[];
  /** With purchases: purchase events in the recent window; without: target cells last touched in it. */
  recentPurchases: number[];
  /** Per half-life (key: its days as a string): Σ over target cells of 2^(−age of the last event / half-life). */
  popularity: Record<string, number[]>;
}

/** Whose cells the fit reads: positions among eligible people, among all (null: all), among those with evidence (null: all). */
export interface RecommendSamplePlan {
  eligible: readonly number[];
  users: readonly number[] | null;
  evidence: readonly number[] | null;
}

/** The cells of the planned people, in person order, CSR: person k's cells are start[k] .. start[k+1]-1. */
export interface RecommendSample {
  nItems: number;
  /** Each person's positions among all, among eligible and among people with evidence (-1: not one). */
  userRank: Int32Array;
  eligibleRank: Int32Array;
  evidenceRank: Int32Array;
  start: Int32Array;
  /** Catalogue item number. */
  items: Int32Array;
  /** Truncated weight. */
  weights: Float32Array;
  /** Σ of the weights of every interaction with the item (32-bit float). */
  evidence: Float32Array;
  firstTs: Float64Array;
  lastTs: Float64Array;
  /** 1 for a target cell (bought; a positive cell when nothing was bought). */
  target: Uint8Array;
}

/** Item-pair sums over the model's items (row-major m × m, in `items` order). */
export interface RecommendPairSums {
  items: readonly number[];
  /** Σ over people of a(i) · a(j), a = truncated weight decayed by `halfLifeDays` from the cell's last event. */
  gram: Float64Array;
  /** People with a target cell on both i and j (i ≠ j). */
  coBought: Int32Array;
  /** People with a positive cell on i and a target cell on j (i ≠ j). */
  coEngaged: Int32Array;
}

/** The sampled people's own rows (the engine turns them into cells by its own rules, see RecommendSample). */
export interface RecommendSampleRows {
  /** Each planned person's id and positions (see RecommendSample). */
  people: Array<{ id: string; userRank: number; eligibleRank: number; evidenceRank: number }>;
  /** Their profiles, and their interactions before asOf in data order. */
  profiles: Profile[];
  interactions: Interaction[];
}

/** Per segment of a stored run, per item: Σ over its members' cells of purchases decayed from the last one. */
export interface RecommendSegmentSums {
  counts: number[][];
  totals: number[];
}

/**
 * A backend's recommender statistics (the storage seam's `audience.recommendStats`): one scan reads one state of
 * the data from `open` to `release`.
 */
export interface RecommendStatsSource {
  open(): Promise<RecommendStatsScan>;
}

/** One build's reads (see RecommendStatsSource); `cells` first, `release` always. */
export interface RecommendStatsScan {
  /** The data version the scan reads. */
  readonly version: number;
  /** The latest interaction's time (epoch ms), null without interactions. */
  readonly latest: number | null;
  /** The catalogue, in stored order (item numbers are positions in it). */
  products(): Promise<Product[]>;
  /** Turns the interactions into cells by `rules`; the reads below are over them. */
  cells(rules: RecommendCellRules): Promise<void>;
  census(): Promise<RecommendCensus>;
  sample(plan: RecommendSamplePlan): Promise<RecommendSampleRows>;
  pairs(items: readonly number[], halfLifeDays: number): Promise<RecommendPairSums>;
  /** Segment sums of stored run `runId` with `segments` segments, purchases halved every `halfLifeDays`. */
  segmentSums(runId: string, segments: number, halfLifeDays: number): Promise<RecommendSegmentSums>;
  release(): Promise<void>;
}
