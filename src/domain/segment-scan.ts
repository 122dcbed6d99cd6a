/**
 * What a backend that computes per-person features itself (a database, in SQL) hands the segmentation, so that
 * segments are fitted and described without the audience in the app: column statistics, a seeded sample of
 * rows to fit on, and per-segment sums once everyone is assigned to the fitted centres. The engine fits on the
 * sample (src/engine/segments.ts `fitSegments`) and describes the segments from the sums
 * (`segmentsFromSummary`); the store computes the features with the engine's definitions
 * (src/engine/features.ts) and assigns everyone to the nearest centre with the same arithmetic.
 */

/** Which features, as of when, for whom (people whose profile existed before `asOf`, or of unknown age). */
export interface PersonFeatureQuery {
  /** Feature names, as `computeFeatures` takes them. */
  features: readonly string[];
  /** Epoch ms: only interactions before it count. */
  asOf: number;
}

/** One feature column over everyone, before any scaling; missing values are left out of every figure. */
export interface PersonFeatureColumn {
  name: string;
  /** People without a value. */
  missing: number;
  /** Median of the values (mean of the middle two for an even count); 0 without values. */
  median: number;
  /** Smallest and largest value (NaN without values). */
  min: number;
  max: number;
  /** Every value is 0 or 1 (a yes/no feature). */
  binary: boolean;
}

/** Rows of the feature table: `columns[j][i]` is feature j of person `userIds[i]`; NaN = missing. */
export interface PersonFeatureRows {
  userIds: string[];
  columns: Float64Array[];
}

/**
 * How everyone is placed: missing values filled with the column median, optionally sign(x)·ln(1+|x|), centred
 * and divided by the sd, then the nearest centre (squared Euclidean distance; a tie goes to the lower index).
 */
export interface CentreAssignment {
  /** The features clustered on (some of the scan's columns), in the centres' order. */
  features: string[];
  medians: number[];
  means: number[];
  sds: number[];
  log: boolean;
  /** One row per centre, in the scaled space. */
  centres: number[][];
}

/** What the segments are described from, per centre (index as in `CentreAssignment.centres`). */
export interface AssignedSummary {
  /** People per centre. */
  sizes: number[];
  /** Per centre and clustered feature, the sum of the scaled values. */
  sums: number[][];
  /** Per centre and clustered feature, the sum of the squared scaled values. */
  squares: number[][];
  /** Per centre, the purchase amount of the last 365 days (the `monetary` feature), summed. */
  revenue: number[];
  /** Per centre and clustered feature, the median and mean of the values as described (missing left out). */
  medians: number[][];
  means: number[][];
  /** The same over everyone. */
  allMedians: number[];
  allMeans: number[];
  /**
   * Where the backend kept everyone's nearest centre from this pass (a database: rows of an unlogged table under
   * this key), so recording the run copies them instead of placing everyone again; absent when it keeps nothing.
   */
  kept?: string;
}

/** A feature table kept by the backend for one segmentation (see AudienceReads.personFeatures). */
export interface PersonFeatureScan {
  /** People with a row. */
  readonly n: number;
  readonly columns: readonly PersonFeatureColumn[];
  /** Means and sample standard deviations after filling with the medians (and the signed log, when asked). */
  moments(log: boolean): Promise<{ means: number[]; sds: number[] }>;
  /**
   * A sample of `size` rows, seeded (the same seed and data give the same rows); everyone, in stored order,
   * when there are no more than `size`.
   */
  sample(size: number, seed: number): Promise<PersonFeatureRows>;
  /** Everyone placed as `assignment` says, summed per centre. */
  summarize(assignment: CentreAssignment): Promise<AssignedSummary>;
}

/** A feature scan held by the backend until released (a database: a connection and a temporary table). */
export interface HeldFeatureScan extends PersonFeatureScan {
  release(): Promise<void>;
}

/** Per-person features a backend computes itself (a database: in SQL), for segmenting without a snapshot. */
export interface PersonFeatureSource {
  /** Epoch ms of the latest interaction, or null without any (what the data is "as of"). */
  latestInteraction(): Promise<number | null>;
  /** Everyone's features as of `query.asOf`, until released; null when one of them is not computed here. */
  open(query: PersonFeatureQuery): Promise<HeldFeatureScan | null>;
  /** Everyone's segment under a placement, in stored order: a run not stored yet, read whole (a digest's). */
  placed(placement: SegmentPlacement): Promise<{ userIds: string[]; labels: number[] }>;
}

/**
 * How a run's assignments were found by a backend that placed everyone itself: the backend writes them when the
 * run is stored (`user_ids` and `labels` are then empty in the app).
 */
export interface SegmentPlacement {
  /** The clustered features as of when (people who existed then, as in the scan). */
  query: PersonFeatureQuery;
  assignment: CentreAssignment;
  /** Segment of each fit centre (segments are numbered by size). */
  order: number[];
  /** The key of everyone's centres kept by the scan that summed the segments (`AssignedSummary.kept`), if any. */
  kept?: string;
}
