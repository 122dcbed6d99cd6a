/**
 * The audience data model shared by the store, the importer, the sample generator and the engine.
 * Times are epoch milliseconds (UTC) everywhere in memory and on disk: cheap to compare and compact to store.
 */

/** How a custom profile attribute is typed on import. */
export type AttributeKind = 'number' | 'category' | 'date' | 'list' | 'boolean';

/** A custom attribute value; dates are epoch ms, lists are string arrays, missing is null. */
export type AttributeValue = number | string | boolean | string[] | null;

/** One person in the audience; every key is always present (null when unknown) so objects share a shape. */
export interface Profile {
  id: string;
  platform: string | null;
  country: string | null;
  created_at: number | null;
  last_active_at: number | null;
  followers: number | null;
  interests: string[];
  /** Custom attributes brought by an import, typed by `AudienceData.attributes`. */
  attrs: Record<string, AttributeValue>;
}

/** One product in the catalogue. */
export interface Product {
  id: string;
  name: string;
  category: string;
  price: number;
  in_stock: boolean;
}

/** The kinds of interaction an export can hold. */
export const INTERACTION_TYPES = ['view', 'like', 'share', 'comment', 'click', 'purchase', 'rating'] as const;
/** One of `INTERACTION_TYPES`. */
export type InteractionType = (typeof INTERACTION_TYPES)[number];

/** One event: a user did something, optionally with a product; `value` is the amount (purchase) or rating. */
export interface Interaction {
  user_id: string;
  item_id: string | null;
  type: InteractionType;
  value: number | null;
  timestamp: number;
}

/** A weekly (or daily, monthly) digest schedule, stored as local time plus IANA zone, never as a UTC instant. */
export interface DigestSchedule {
  id: string;
  channel_id: string;
  owner_id: string;
  cadence: 'daily' | 'weekly' | 'monthly';
  weekdays: number[];
  local_time: string;
  time_zone: string;
  paused: boolean;
  last_error: string | null;
  created_at: number;
  options: Record<string, unknown>;
}

/** One delivery attempt of a digest occurrence, keyed for idempotency. */
export interface DeliveryRecord {
  key: string;
  schedule_id: string;
  status: 'started' | 'delivered' | 'failed' | 'skipped';
  at: number;
  detail: string | null;
}

/** A stored segmentation: who was in which segment at a point in time, so digests can compare weeks. */
export interface SegmentRun {
  id: string;
  created_at: number;
  data_version: number;
  k: number;
  features: string[];
  scaling: string;
  names: string[];
  sizes: number[];
  /** Centroids in scaled feature space, one row per segment. */
  centroids: number[][];
  user_ids: string[];
  labels: number[];
  /** What the run was asked for; absent on runs stored before requests were recorded. */
  request?: SegmentRunRequest;
  /**
   * Whether the run is a default segmentation, the one `segment=N`, buttons, digests and exports refer to (the
   * newest default run is the current one). Absent on runs stored before this was recorded, which count as
   * defaults, as every run did then.
   */
  default?: boolean;
}

/** What a segmentation was asked for, recorded with each run so that runs are compared only with like runs. */
export interface SegmentRunRequest {
  k: number | 'auto';
  /** Chosen features, or null for the default set. */
  features: string[] | null;
  scaling: 'zscore' | 'log-zscore' | 'none';
  /** The `where=` filter, or null for the whole audience. */
  where: string | null;
  seed: number;
}

/** A fitted model stored as plain JSON, valid for one data version. */
export interface CachedModel {
  kind: string;
  key: string;
  data_version: number;
  created_at: number;
  model: unknown;
}

/** One admin action, without personal data. */
export interface AuditEntry {
  at: number;
  actor: string;
  action: string;
  detail: string;
}

/** The audience's version stamp: `dataVersion` changes with every change to profiles, products or interactions. */
export interface AudienceMeta {
  /** Bumped on every change to profiles, products or interactions; cached models are keyed by it. */
  dataVersion: number;
  updatedAt: number | null;
  source: 'sample' | 'import' | null;
}

/** How many rows the audience holds (cheap on every backend: array lengths, or rollups kept on write). */
export interface AudienceCounts {
  profiles: number;
  products: number;
  interactions: number;
}

/** A half-open time window [from, to) in epoch ms; a missing end is open. */
export interface TimeWindow {
  from?: number;
  to?: number;
}

/**
 * One profile row of an import: a null (or missing) field keeps the stored value, so an empty cell never
 * erases; `attrs` merges key by key the same way (a null only lands where the key was absent).
 */
export interface ProfilePatch {
  id: string;
  platform?: string | null;
  country?: string | null;
  created_at?: number | null;
  last_active_at?: number | null;
  followers?: number | null;
  interests?: string[] | null;
  attrs?: Record<string, AttributeValue> | null;
}

/** One product row of an import; null fields keep the stored value, a new product needs a price. */
export interface ProductPatch {
  id: string;
  name?: string | null;
  category?: string | null;
  price?: number | null;
  in_stock?: boolean | null;
}

/** What removing people took away from the audience and the stored segment runs, in counts. */
export interface PeopleRemoval {
  profiles: number;
  interactions: number;
  /** Rows (person -> segment) removed from stored segment runs, and how many runs had any. */
  segmentAssignments: number;
  segmentRuns: number;
}

/** Everything the app persists; owned by the store module. */
export interface AudienceData {
  schemaVersion: number;
  meta: AudienceMeta;
  /** Types of the custom profile attributes seen so far. */
  attributes: Record<string, AttributeKind>;
  profiles: Profile[];
  products: Product[];
  interactions: Interaction[];
  schedules: DigestSchedule[];
  deliveries: DeliveryRecord[];
  segmentRuns: SegmentRun[];
  models: Record<string, CachedModel>;
  audit: AuditEntry[];
}

/** A source of the current time; only the scheduler calls it on its own, everything else receives it. */
export type Clock = () => Date;

/** An empty data set at the current schema version. */
export function emptyAudienceData(schemaVersion: number): AudienceData {
  return {
    schemaVersion,
    meta: { dataVersion: 0, updatedAt: null, source: null },
    attributes: {},
    profiles: [],
    products: [],
    interactions: [],
    schedules: [],
    deliveries: [],
    segmentRuns: [],
    models: {},
    audit: [],
  };
}
