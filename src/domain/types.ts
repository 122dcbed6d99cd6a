/**
 * The audience data model shared by the store, the importer, the sample generator and the engine.
 * Times are epoch milliseconds (UTC) everywhere in memory and on disk: cheap to compare and compact to store.
 */

import type { SegmentPlacement } from './segment-scan.ts';

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
   * Set on a run whose assignments the backend computed (user_ids and labels empty until stored): the store
   * writes them from this when the run is added.
   */
  placement?: SegmentPlacement;
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

/**
 * A stored connection to a platform (issue #15): what to sync, with which (sealed) credentials, and how the last
 * sync went. `credentials` is ciphertext sealed with the data key (src/connectors/credentials.ts), never a token.
 */
export interface ConnectionRecord {
  /** The name people use (`audience sync shop`), unique; lower case letters, digits and dashes. */
  id: string;
  /** The connector kind: 'instagram' | 'youtube' | 'shopify'. */
  kind: string;
  /** Who connected it (a Slack user id, or `cli`); told when the connection pauses. */
  owner_id: string;
  /** Non-secret settings (page / channel id, shop domain). */
  settings: Record<string, string>;
  /** The API root; null: the platform's public API. A stand-in's URL in tests and demos. */
  base_url: string | null;
  /** Sealed credentials (base64 container), or null when none are stored. */
  credentials: string | null;
  created_at: number;
  /** Minutes between scheduled syncs; 0 = manual only. */
  interval_minutes: number;
  /** The connector's cursor after the last committed batch; null before the first. */
  cursor: string | null;
  /** Paused connections are not synced by the schedule until resumed (new token, `resume_at` reached). */
  paused: boolean;
  /** Why it is paused: a ConnectorError code ('auth_expired', 'permission', 'quota', 'config') or 'manual'. */
  paused_reason: string | null;
  /** A quota pause ends by itself at this time (epoch ms). */
  resume_at: number | null;
  /** When the last sync ended (successfully or not), and how many rows it added. */
  last_sync_at: number | null;
  last_sync_status: 'ok' | 'failed' | 'paused' | null;
  rows_added: number;
  /** Rows added over the connection's life. */
  total_rows: number;
  next_run_at: number | null;
  /** One line for people (no secrets, no identifiers); null after a clean sync. */
  last_error: string | null;
  /** A running sync's holder and lease end: one sync at a time per connection, across processes. */
  lease_holder: string | null;
  lease_until: number | null;
}

/** A per-content figure from a platform (reach, impressions, saves, views…): the latest value per content and name. */
export interface ContentMetric {
  connection_id: string;
  content_id: string;
  name: string;
  value: number;
  at: number;
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
  /** Platform connections (issue #15); absent until the first one is made. */
  connectors?: ConnectorState;
}

/** The file backend's connection state: the records, synced event keys per connection, latest metrics. */
export interface ConnectorState {
  connections: ConnectionRecord[];
  /** Connection id -> source ids of the events it committed (the dedupe keys). */
  keys: Record<string, string[]>;
  metrics: ContentMetric[];
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
