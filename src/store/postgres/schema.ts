/**
 * The PostgreSQL schema, as versioned migrations: plain SQL, applied in order by migrate.ts. They live in a
 * TypeScript module rather than .sql files so a compiled build (tsc to dist/) carries them without a copy step.
 *
 * Rules every migration keeps:
 * - Every table but the ledger (`schema_migrations`) has `team_id` (the Slack workspace) first in its primary
 *   key and in every index, and every query filters on it: one database can serve several workspaces, and a
 *   distributed engine (Citus) can shard every table by `team_id` with co-located joins.
 * - Times are `timestamptz` (what operations people expect to query); the app converts to and from epoch ms
 *   (sql.ts `msIn`/`msOut`), exactly, since PostgreSQL keeps microseconds.
 * - Interactions are range-partitioned by month on `at`: retention drops whole partitions, a time window
 *   reads only its months. Partitions are created before the rows that need them (partitions.ts); there is no
 *   default partition, so a missing month is an error, never a slow scan of a catch-all table.
 * - Never edit a released migration: append a new one. Names are kebab-case, numbers dense from 1.
 */

import { CONNECTIONS_SQL } from './connections.ts';
import {
  FEATURE_ACTIVE_MASK_SQL,
  FEATURE_MASK_DROP_SQL,
  FEATURE_PENDING_SQL,
  FEATURE_UPKEEP_SQL,
  FEATURE_WINDOWS_SQL,
} from './feature-windows.ts';
import { SEGMENT_PLACEMENTS_SQL } from './person-features.ts';
import { PSEUDONYMS_INLINE_SQL, PSEUDONYMS_SQL } from './pseudonyms.ts';
import {
  ACTIVITY_BYTES_ORDER_SQL,
  ACTIVITY_SEEN_SQL,
  ACTIVITY_UPKEEP_SQL,
  PERSON_KNOWN_SQL,
  ROLLUPS_SQL,
} from './rollups.ts';
import { STATS_BUCKETS_SQL, STATS_SEEN_ON_INSERT_SQL } from './stats-buckets.ts';
import { WEEK_EDGES_SPAN_SQL, WEEK_EDGES_SQL } from './week-edges.ts';

/** One migration: the SQL that takes the schema from `version - 1` to `version`. */
export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

const INITIAL = `
CREATE TABLE audience_meta (
  team_id      text PRIMARY KEY,
  -- The data version: bumped once per change to profiles, products or interactions (store.ts contract).
  data_version bigint NOT NULL DEFAULT 0,
  updated_at   timestamptz,
  source       text CHECK (source IN ('sample', 'import'))
);

-- Custom profile attributes live in profiles.attrs (jsonb); their kinds are here, so reads extract them typed.
CREATE TABLE attribute_kinds (
  team_id text NOT NULL,
  name    text NOT NULL,
  kind    text NOT NULL CHECK (kind IN ('number', 'category', 'date', 'list', 'boolean')),
  seq     bigint NOT NULL,
  PRIMARY KEY (team_id, name)
);

CREATE SEQUENCE audience_row_seq;

CREATE TABLE profiles (
  team_id        text NOT NULL,
  id             text NOT NULL,
  -- Stored order (the file backend's array order), kept so both backends list people alike.
  seq            bigint NOT NULL DEFAULT nextval('audience_row_seq'),
  platform       text,
  country        text,
  created_at     timestamptz,
  last_active_at timestamptz,
  followers      bigint CHECK (followers >= 0),
  interests      text[] NOT NULL DEFAULT '{}',
  attrs          jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (team_id, id)
);
CREATE INDEX profiles_order ON profiles (team_id, seq);

CREATE TABLE products (
  team_id  text NOT NULL,
  id       text NOT NULL,
  seq      bigint NOT NULL DEFAULT nextval('audience_row_seq'),
  name     text NOT NULL,
  category text NOT NULL,
  price    double precision NOT NULL CHECK (price >= 0),
  in_stock boolean NOT NULL,
  PRIMARY KEY (team_id, id)
);
CREATE INDEX products_order ON products (team_id, seq);

CREATE TABLE interactions (
  team_id text NOT NULL,
  seq     bigint NOT NULL DEFAULT nextval('audience_row_seq'),
  user_id text NOT NULL,
  item_id text,
  type    text NOT NULL,
  value   double precision,
  at      timestamptz NOT NULL
) PARTITION BY RANGE (at);
CREATE INDEX interactions_by_time ON interactions (team_id, at);
CREATE INDEX interactions_by_user ON interactions (team_id, user_id);

-- A segmentation; who was in which segment is in segment_assignments, one row per person.
CREATE TABLE segment_runs (
  team_id      text NOT NULL,
  id           text NOT NULL,
  seq          bigint NOT NULL DEFAULT nextval('audience_row_seq'),
  created_at   timestamptz NOT NULL,
  data_version bigint NOT NULL,
  k            integer NOT NULL,
  features     text[] NOT NULL,
  scaling      text NOT NULL,
  names        text[] NOT NULL,
  sizes        integer[] NOT NULL,
  centroids    jsonb NOT NULL,
  PRIMARY KEY (team_id, id)
);

CREATE TABLE segment_assignments (
  team_id text NOT NULL,
  run_id  text NOT NULL,
  -- Position in the run's user list, so a run reads back in the order it was stored.
  ord     integer NOT NULL,
  user_id text NOT NULL,
  label   integer NOT NULL,
  PRIMARY KEY (team_id, run_id, ord),
  FOREIGN KEY (team_id, run_id) REFERENCES segment_runs (team_id, id) ON DELETE CASCADE
);
CREATE INDEX segment_assignments_by_user ON segment_assignments (team_id, user_id);

-- Fitted models as JSON. json, not jsonb: the text comes back exactly as stored (key order included), and
-- nothing queries inside a model.
CREATE TABLE models (
  team_id      text NOT NULL,
  key          text NOT NULL,
  kind         text NOT NULL,
  data_version bigint NOT NULL,
  created_at   timestamptz NOT NULL,
  model        json NOT NULL,
  PRIMARY KEY (team_id, key)
);
CREATE INDEX models_by_kind ON models (team_id, kind, created_at);

CREATE TABLE digest_schedules (
  team_id    text NOT NULL,
  id         text NOT NULL,
  seq        bigint NOT NULL DEFAULT nextval('audience_row_seq'),
  channel_id text NOT NULL,
  owner_id   text NOT NULL,
  cadence    text NOT NULL CHECK (cadence IN ('daily', 'weekly', 'monthly')),
  weekdays   smallint[] NOT NULL,
  local_time text NOT NULL,
  time_zone  text NOT NULL,
  paused     boolean NOT NULL,
  last_error text,
  created_at timestamptz NOT NULL,
  options    jsonb NOT NULL,
  PRIMARY KEY (team_id, id)
);

-- The claim on one occurrence: whoever inserts (or takes over an expired) row posts it; see claims.ts.
CREATE TABLE digest_occurrences (
  team_id       text NOT NULL,
  key           text NOT NULL,
  schedule_id   text NOT NULL,
  claimed_by    text NOT NULL,
  claimed_until timestamptz NOT NULL,
  -- claimed: being prepared, safe to take over once expired; posting: the post may have reached Slack;
  -- done: finished (delivered, failed or skipped: the outcome is in digest_deliveries).
  state         text NOT NULL CHECK (state IN ('claimed', 'posting', 'done')),
  attempts      integer NOT NULL DEFAULT 1,
  PRIMARY KEY (team_id, key)
);
CREATE INDEX digest_occurrences_open ON digest_occurrences (team_id, claimed_until) WHERE state <> 'done';

CREATE TABLE digest_deliveries (
  team_id     text NOT NULL,
  key         text NOT NULL,
  schedule_id text NOT NULL,
  status      text NOT NULL CHECK (status IN ('started', 'delivered', 'failed', 'skipped')),
  at          timestamptz NOT NULL,
  detail      text,
  PRIMARY KEY (team_id, key)
);
CREATE INDEX digest_deliveries_by_time ON digest_deliveries (team_id, at);

CREATE TABLE audit (
  team_id text NOT NULL,
  seq     bigint NOT NULL DEFAULT nextval('audience_row_seq'),
  at      timestamptz NOT NULL,
  actor   text NOT NULL,
  action  text NOT NULL,
  detail  text NOT NULL,
  PRIMARY KEY (team_id, seq)
);

-- The secret behind keyed pseudonyms when PSEUDONYM_KEY is not set (the file backend's key file).
CREATE TABLE pseudonym_keys (
  team_id    text PRIMARY KEY,
  key        bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
`;

// Delivery records list in the order they were first written (a replaced record keeps its place), as the file
// backend's array does.
const DELIVERY_ORDER = `
ALTER TABLE digest_deliveries ADD COLUMN seq bigint NOT NULL DEFAULT nextval('audience_row_seq');
CREATE INDEX digest_deliveries_order ON digest_deliveries (team_id, seq);
`;

// Row counts per workspace, kept by every change (change.ts), so counts() (read by /healthz every few seconds on
// every replica) is one primary-key read instead of counting tens of millions of rows.
const AUDIENCE_COUNTS = `
ALTER TABLE audience_meta ADD COLUMN profiles bigint NOT NULL DEFAULT 0,
  ADD COLUMN products bigint NOT NULL DEFAULT 0, ADD COLUMN interactions bigint NOT NULL DEFAULT 0;
INSERT INTO audience_meta (team_id)
  SELECT team_id FROM profiles UNION SELECT team_id FROM products UNION SELECT team_id FROM interactions
  ON CONFLICT (team_id) DO NOTHING;
UPDATE audience_meta m SET
  profiles = (SELECT count(*) FROM profiles p WHERE p.team_id = m.team_id),
  products = (SELECT count(*) FROM products p WHERE p.team_id = m.team_id),
  interactions = (SELECT count(*) FROM interactions i WHERE i.team_id = m.team_id);
`;

// A run's request and whether it is a default run (SegmentRun.request, .default): NULL on runs stored before,
// which count as defaults, as on the file.
const SEGMENT_RUN_REQUEST = `
ALTER TABLE segment_runs ADD COLUMN request jsonb, ADD COLUMN is_default boolean;
`;

// Migration 14: a run's assignments go with it by a statement trigger instead of a foreign key: the key's check
// ran once per assignment written (10 of 43 s recording a million at 1M / 10M), the trigger once per deletion.
const ASSIGNMENTS_CASCADE = `
ALTER TABLE segment_assignments DROP CONSTRAINT segment_assignments_team_id_run_id_fkey;
CREATE FUNCTION segment_runs_removed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  DELETE FROM segment_assignments a USING gone g WHERE a.team_id = g.team_id AND a.run_id = g.id;
  RETURN NULL;
END $$;
CREATE TRIGGER segment_runs_removed AFTER DELETE ON segment_runs REFERENCING OLD TABLE AS gone
  FOR EACH STATEMENT EXECUTE FUNCTION segment_runs_removed();
`;

/** Every migration, oldest first. */
export const PG_MIGRATIONS: readonly PgMigration[] = [
  { version: 1, name: 'initial-schema', sql: INITIAL },
  { version: 2, name: 'delivery-order', sql: DELIVERY_ORDER },
  { version: 3, name: 'connections', sql: CONNECTIONS_SQL },
  { version: 4, name: 'audience-counts', sql: AUDIENCE_COUNTS },
  { version: 5, name: 'stats-rollups', sql: ROLLUPS_SQL },
  { version: 6, name: 'person-known', sql: PERSON_KNOWN_SQL },
  { version: 7, name: 'activity-upkeep', sql: ACTIVITY_UPKEEP_SQL },
  { version: 9, name: 'stats-buckets-and-pseudonyms', sql: `${STATS_BUCKETS_SQL}\n${PSEUDONYMS_SQL}` },
  { version: 10, name: 'feature-windows', sql: FEATURE_WINDOWS_SQL + SEGMENT_RUN_REQUEST },
  { version: 12, name: 'stats-seen-on-insert', sql: STATS_SEEN_ON_INSERT_SQL },
  { version: 13, name: 'feature-upkeep', sql: FEATURE_UPKEEP_SQL },
  { version: 14, name: 'assignments-cascade', sql: ASSIGNMENTS_CASCADE },
  { version: 18, name: 'feature-mask-drop', sql: FEATURE_MASK_DROP_SQL },
  { version: 19, name: 'import-upkeep', sql: FEATURE_PENDING_SQL + ACTIVITY_SEEN_SQL },
  { version: 20, name: 'pseudonyms-inline', sql: PSEUDONYMS_INLINE_SQL },
  { version: 21, name: 'segment-placements', sql: SEGMENT_PLACEMENTS_SQL },
  { version: 22, name: 'week-edges', sql: WEEK_EDGES_SQL },
  { version: 23, name: 'bulk-import-upkeep', sql: WEEK_EDGES_SPAN_SQL + ACTIVITY_BYTES_ORDER_SQL },
  { version: 24, name: 'feature-active-mask', sql: FEATURE_ACTIVE_MASK_SQL },
];

/** Tables that hold a workspace's data (all of them carry team_id); the ledger is not among them. */
export const TEAM_TABLES = [
  'audience_meta',
  'attribute_kinds',
  'profiles',
  'products',
  'interactions',
  'segment_runs',
  'segment_assignments',
  'models',
  'digest_schedules',
  'digest_occurrences',
  'digest_deliveries',
  'audit',
  'pseudonym_keys',
  'connections',
  'connection_keys',
  'connection_metrics',
  'profile_tallies',
  'person_activity',
  'interaction_days',
  'event_buckets',
  'activity_buckets',
  'profile_pseudonyms',
  'feature_anchors',
  'person_windows',
  'feature_pending',
  'segment_placements',
  'week_edges',
] as const;
