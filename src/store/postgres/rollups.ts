/**
 * Rollups for `stats`, kept by triggers in the same transaction as every change to profiles and interactions
 * (imports, COPY included, forget, retention, a sample load, a transfer), so no code path can forget them:
 *
 * - `profile_tallies`: how many profiles have each country, platform and interest, and the profile total: the
 *   top lists and the total without reading a profile.
 * - `person_activity`: per person, the latest event of any kind, of reach (a view or an engagement), of
 *   engagement and of purchase: who was active, reached, engaged or bought in a window ending at or after the
 *   latest event is one read of this table (one row per person), not of every event. No index covers `last_at`,
 *   so keeping it is an in-page (HOT) update (migration 7).
 * - `interaction_days`: events per UTC day and type: the 30-day view and engagement counts read whole days here
 *   and only the partial days at the window's two ends from the interactions.
 *
 * Statement-level triggers with transition tables aggregate each statement's rows once (a COPY of a million
 * rows is one GROUP BY, not a million row triggers). `stats` itself reads these with the 10-minute slices of
 * stats-buckets.ts (migration 9), which follow these tables' rows with triggers of their own.
 */

import type { Queryable } from './claims.ts';
import { rebuildFeatureWindows } from './feature-windows.ts';
import { rebuildPseudonyms } from './pseudonyms.ts';
import { rebuildStatsBuckets } from './stats-buckets.ts';
import { statementTrigger } from './trigger-sql.ts';
import { rebuildWeekEdges } from './week-edges.ts';

const REACH_TYPES = `'view', 'like', 'share', 'comment', 'click'`;
const ENGAGE_TYPES = `'like', 'share', 'comment', 'click'`;

// The tally rows one profile row contributes (`sign` 1 when added, -1 when removed).
const tallyDeltas = (rows: string, sign: number) => `
  SELECT team_id, 'total' AS dim, '' AS value, ${sign} AS n FROM ${rows}
  UNION ALL SELECT team_id, 'country', country, ${sign} FROM ${rows} WHERE country IS NOT NULL
  UNION ALL SELECT team_id, 'platform', platform, ${sign} FROM ${rows} WHERE platform IS NOT NULL
  UNION ALL SELECT team_id, 'interest', v, ${sign} FROM ${rows}, unnest(interests) AS v`;

const addTallies = (deltas: string) => `
  INSERT INTO profile_tallies AS t (team_id, dim, value, n)
  SELECT team_id, dim, value, sum(n) FROM (${deltas}) d GROUP BY 1, 2, 3 HAVING sum(n) <> 0
  ON CONFLICT (team_id, dim, value) DO UPDATE SET n = t.n + EXCLUDED.n`;
const applyTallies = (deltas: string) => `${addTallies(deltas)};
  DELETE FROM profile_tallies WHERE n = 0;`;

// The activity rows of a set of interactions (new ones, or every remaining one of some people).
const activityOf = (rows: string) => `
  SELECT team_id, user_id, max(at),
         max(at) FILTER (WHERE type IN (${REACH_TYPES})), max(at) FILTER (WHERE type IN (${ENGAGE_TYPES})),
         max(at) FILTER (WHERE type = 'purchase')
    FROM ${rows} GROUP BY team_id, user_id`;

// The removal trigger's body around the statement that re-inserts the recomputed people's activity rows.
const REMAINING = `(SELECT i.* FROM unnest(teams, users) AS t(team_id, user_id)
      JOIN interactions i ON i.team_id = t.team_id AND i.user_id = t.user_id) AS remaining`;
const removedActivity = (insert: string) => `DECLARE teams text[]; users text[];
BEGIN
  UPDATE interaction_days d SET events = d.events - g.n
    FROM (SELECT team_id, (at AT TIME ZONE 'UTC')::date AS day, type, count(*) AS n FROM removed GROUP BY 1, 2, 3) g
   WHERE d.team_id = g.team_id AND d.day = g.day AND d.type = g.type;
  DELETE FROM interaction_days WHERE events = 0;
  SELECT array_agg(r.team_id), array_agg(r.user_id) INTO teams, users
    FROM (SELECT team_id, user_id, max(at) AS at FROM removed GROUP BY 1, 2) r
    JOIN person_activity a ON a.team_id = r.team_id AND a.user_id = r.user_id
   WHERE r.at >= least(a.last_at, a.last_reach_at, a.last_engage_at, a.last_buy_at);
  IF teams IS NULL THEN RETURN NULL; END IF;
  DELETE FROM person_activity a USING unnest(teams, users) AS t(team_id, user_id)
   WHERE a.team_id = t.team_id AND a.user_id = t.user_id;
  ${insert};
  RETURN NULL;
END $$;`;

/** The migration that creates the rollups, their triggers and indexes, and fills them from the rows there are. */
export const ROLLUPS_SQL = `
CREATE TABLE profile_tallies (
  team_id text NOT NULL,
  dim     text NOT NULL CHECK (dim IN ('total', 'country', 'platform', 'interest')),
  value   text NOT NULL,
  n       bigint NOT NULL,
  PRIMARY KEY (team_id, dim, value)
);
CREATE TABLE person_activity (
  team_id        text NOT NULL,
  user_id        text NOT NULL,
  last_at        timestamptz NOT NULL,
  last_reach_at  timestamptz,
  last_engage_at timestamptz,
  last_buy_at    timestamptz,
  PRIMARY KEY (team_id, user_id)
);
CREATE INDEX person_activity_recent ON person_activity (team_id, last_at);
CREATE TABLE interaction_days (
  team_id text NOT NULL,
  day     date NOT NULL,
  type    text NOT NULL,
  events  bigint NOT NULL,
  PRIMARY KEY (team_id, day, type)
);
CREATE INDEX profiles_by_created ON profiles (team_id, created_at);
CREATE INDEX profiles_by_seen ON profiles (team_id, last_active_at);
CREATE INDEX interactions_purchases ON interactions (team_id, at) WHERE type = 'purchase';

CREATE FUNCTION rollup_profiles_added() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN ${applyTallies(tallyDeltas('added', 1))} RETURN NULL; END $$;
CREATE FUNCTION rollup_profiles_removed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN ${applyTallies(tallyDeltas('removed', -1))} RETURN NULL; END $$;
CREATE FUNCTION rollup_profiles_changed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN ${applyTallies(`${tallyDeltas('added', 1)} UNION ALL ${tallyDeltas('removed', -1)}`)} RETURN NULL; END $$;
${statementTrigger('profiles_added', 'INSERT', 'profiles', 'rollup_profiles_added')}
${statementTrigger('profiles_removed', 'DELETE', 'profiles', 'rollup_profiles_removed')}
${statementTrigger('profiles_changed', 'UPDATE', 'profiles', 'rollup_profiles_changed')}

CREATE FUNCTION rollup_interactions_added() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO interaction_days AS d (team_id, day, type, events)
  SELECT team_id, (at AT TIME ZONE 'UTC')::date, type, count(*) FROM added GROUP BY 1, 2, 3
  ON CONFLICT (team_id, day, type) DO UPDATE SET events = d.events + EXCLUDED.events;
  INSERT INTO person_activity AS a (team_id, user_id, last_at, last_reach_at, last_engage_at, last_buy_at)
  ${activityOf('added')}
  ON CONFLICT (team_id, user_id) DO UPDATE SET last_at = greatest(a.last_at, EXCLUDED.last_at),
    last_reach_at = greatest(a.last_reach_at, EXCLUDED.last_reach_at),
    last_engage_at = greatest(a.last_engage_at, EXCLUDED.last_engage_at),
    last_buy_at = greatest(a.last_buy_at, EXCLUDED.last_buy_at);
  RETURN NULL;
END $$;
-- A removal subtracts its events per day; people whose latest event of some kind may be among the removed
-- (retention removes old events, so usually nobody) get their row recomputed from what remains.
CREATE FUNCTION rollup_interactions_removed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
${removedActivity(`INSERT INTO person_activity (team_id, user_id, last_at, last_reach_at, last_engage_at, last_buy_at)
  ${activityOf(REMAINING)}`)}
${statementTrigger('interactions_added', 'INSERT', 'interactions', 'rollup_interactions_added')}
${statementTrigger('interactions_removed', 'DELETE', 'interactions', 'rollup_interactions_removed')}
-- Events are appended and removed, never edited: an edit would bypass the rollups, so it is refused.
CREATE FUNCTION refuse_interaction_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'interactions are not updated in place (the stats rollups rely on it)'; END $$;
CREATE TRIGGER interactions_not_updated BEFORE UPDATE ON interactions
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_interaction_update();

${applyTallies(tallyDeltas('profiles', 1))}
INSERT INTO interaction_days (team_id, day, type, events)
  SELECT team_id, (at AT TIME ZONE 'UTC')::date, type, count(*) FROM interactions GROUP BY 1, 2, 3;
INSERT INTO person_activity (team_id, user_id, last_at, last_reach_at, last_engage_at, last_buy_at)
  ${activityOf('interactions')};
`;

// Migration 6: whether each active person has a profile, kept on `person_activity` itself, so `stats` reads the
// recently active people without looking every one of them up in `profiles` (which made the planner read every
// profile once most of the audience is active). Profiles' triggers set it; new activity rows look it up once.
const KNOWN = (team: string, user: string) =>
  `EXISTS (SELECT 1 FROM profiles p WHERE p.team_id = ${team} AND p.id = ${user})`;
const markKnown = (rows: string, known: boolean) => `
  UPDATE person_activity a SET known = ${known} FROM ${rows} r
   WHERE a.team_id = r.team_id AND a.user_id = r.id AND a.known <> ${known};`;
const withKnown = (rows: string) =>
  `SELECT x.*, ${KNOWN('x.team_id', 'x.user_id')} FROM (${activityOf(rows)}) AS x (team_id, user_id, l, r, e, b)`;

/** The migration that keeps `person_activity.known` (see above). */
export const PERSON_KNOWN_SQL = `
ALTER TABLE person_activity ADD COLUMN known boolean NOT NULL DEFAULT false;
UPDATE person_activity a SET known = true WHERE ${KNOWN('a.team_id', 'a.user_id')};
DROP INDEX person_activity_recent;
CREATE INDEX person_activity_recent ON person_activity (team_id, known, last_at);

CREATE OR REPLACE FUNCTION rollup_profiles_added() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN ${applyTallies(tallyDeltas('added', 1))} ${markKnown('added', true)} RETURN NULL; END $$;
CREATE OR REPLACE FUNCTION rollup_profiles_removed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN ${applyTallies(tallyDeltas('removed', -1))} ${markKnown('removed', false)} RETURN NULL; END $$;

CREATE OR REPLACE FUNCTION rollup_interactions_added() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO interaction_days AS d (team_id, day, type, events)
  SELECT team_id, (at AT TIME ZONE 'UTC')::date, type, count(*) FROM added GROUP BY 1, 2, 3
  ON CONFLICT (team_id, day, type) DO UPDATE SET events = d.events + EXCLUDED.events;
  INSERT INTO person_activity AS a (team_id, user_id, last_at, last_reach_at, last_engage_at, last_buy_at, known)
  ${withKnown('added')}
  ON CONFLICT (team_id, user_id) DO UPDATE SET last_at = greatest(a.last_at, EXCLUDED.last_at),
    last_reach_at = greatest(a.last_reach_at, EXCLUDED.last_reach_at),
    last_engage_at = greatest(a.last_engage_at, EXCLUDED.last_engage_at),
    last_buy_at = greatest(a.last_buy_at, EXCLUDED.last_buy_at);
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION rollup_interactions_removed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
${removedActivity(`INSERT INTO person_activity (team_id, user_id, last_at, last_reach_at, last_engage_at, last_buy_at, known)
  ${withKnown(REMAINING)}`)}
`;

// Migration 7: cheaper upkeep of `person_activity`, which every event import writes once per person in it (200k
// events of 116k people into a 1M-profile store: the upsert alone 7.0 s -> 1.2 s, pages dirtied 99k -> 9k, load 5).
// - The activity rows are upserted in key order, so the probes of this table's key and of profiles' key (the
//   `known` lookup) walk each index once in order instead of reading one random page per person.
// - A row is rewritten only when one of the person's latest events moves (an import of older events writes none).
// - The table keeps 30% of each page free and no index covers `last_at`: an update then stays on its page and adds
//   no index entry (a HOT update). `person_activity_recent` (team, known, last_at) made every update add an entry to
//   both indexes on a new page. The people without a profile, which `stats` lists, get a partial index whose
//   columns an activity update never changes. The table is rewritten in key order with the new fill factor.
// The upsert's merge: a row is rewritten only when one of the person's latest events moves.
const MERGE_ACTIVITY = `  ON CONFLICT (team_id, user_id) DO UPDATE SET last_at = greatest(a.last_at, EXCLUDED.last_at),
    last_reach_at = greatest(a.last_reach_at, EXCLUDED.last_reach_at),
    last_engage_at = greatest(a.last_engage_at, EXCLUDED.last_engage_at),
    last_buy_at = greatest(a.last_buy_at, EXCLUDED.last_buy_at)
  WHERE EXCLUDED.last_at > a.last_at OR EXCLUDED.last_reach_at > coalesce(a.last_reach_at, '-infinity')
    OR EXCLUDED.last_engage_at > coalesce(a.last_engage_at, '-infinity')
    OR EXCLUDED.last_buy_at > coalesce(a.last_buy_at, '-infinity');`;
// Migrations 7 and 19's insert trigger on interactions: events per day, then the activity upsert.
const addedFunction = (
  upsert: string,
) => `CREATE OR REPLACE FUNCTION rollup_interactions_added() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO interaction_days AS d (team_id, day, type, events)
  SELECT team_id, (at AT TIME ZONE 'UTC')::date, type, count(*) FROM added GROUP BY 1, 2, 3
  ON CONFLICT (team_id, day, type) DO UPDATE SET events = d.events + EXCLUDED.events;
  ${upsert}
  RETURN NULL;
END $$;`;
const UPSERT_ACTIVITY = (rows: string) => `
  INSERT INTO person_activity AS a (team_id, user_id, last_at, last_reach_at, last_engage_at, last_buy_at, known)
  SELECT x.*, ${KNOWN('x.team_id', 'x.user_id')}
    FROM (${activityOf(rows)} ORDER BY team_id, user_id) AS x (team_id, user_id, l, r, e, b)
${MERGE_ACTIVITY}`;

/** The migration that makes the activity upkeep cheap (see above). */
export const ACTIVITY_UPKEEP_SQL = `
DROP INDEX person_activity_recent;
CREATE INDEX person_activity_strangers ON person_activity (team_id, user_id) WHERE NOT known;
ALTER TABLE person_activity SET (fillfactor = 70);
CLUSTER person_activity USING person_activity_pkey;

${addedFunction(UPSERT_ACTIVITY('added'))}
`;

// Migration 19: every insert into person_activity reads each person's profile once for both `known` and `seen`
// (the profile's last_active_at, stats-buckets.ts), and migration 12's BEFORE INSERT row trigger that set `seen` is
// dropped. It ran for every proposed row of the activity upsert, updates included, though an update never takes
// the new row's `seen`: 1M events of 311k people, 156k of them with a profile without last_active_at, spent 5.1 s
// in its calls of a 35.5 s upsert (load 14).
const WITH_PROFILE = (x: string) => `LEFT JOIN LATERAL (SELECT true AS found, q.last_active_at FROM profiles q
    WHERE q.team_id = ${x}.team_id AND q.id = ${x}.user_id OFFSET 0) p ON true`;
// Migration 23 sorts by bytes (`'bytes'`): the same order as the keys' under the database's C.UTF-8 (code points),
// without a strcoll call per comparison (410k ids: 1.29 s under C.UTF-8, 0.60 s under "C").
const ORDERS = {
  false: '',
  true: ' ORDER BY team_id, user_id',
  bytes: ' ORDER BY team_id, user_id COLLATE "C"',
};
const ACTIVITY_ROWS = (rows: string, ordered: boolean | 'bytes') => `
  SELECT x.*, p.found IS NOT NULL, p.last_active_at
    FROM (${activityOf(rows)}${ORDERS[`${ordered}`]}) AS x (team_id, user_id, l, r, e, b)
    ${WITH_PROFILE('x')}`;
const ACTIVITY_COLUMNS = 'team_id, user_id, last_at, last_reach_at, last_engage_at, last_buy_at, known, seen';
const UPSERT_ACTIVITY_SEEN = (rows: string) => `
  INSERT INTO person_activity AS a (${ACTIVITY_COLUMNS}) ${ACTIVITY_ROWS(rows, true)}
${MERGE_ACTIVITY}`;

/** Migration 19's part for the activity rollup (see above); the removal's body is migration 6's otherwise. */
export const ACTIVITY_SEEN_SQL = `
${addedFunction(UPSERT_ACTIVITY_SEEN('added'))}
CREATE OR REPLACE FUNCTION rollup_interactions_removed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
${removedActivity(`INSERT INTO person_activity (${ACTIVITY_COLUMNS})
  ${ACTIVITY_ROWS(REMAINING, false)}`)}
DROP TRIGGER stats_activity_seen ON person_activity;
DROP FUNCTION stats_activity_seen();
`;

/** Migration 23's part for the activity rollup: its rows sorted by bytes (see ORDERS). */
export const ACTIVITY_BYTES_ORDER_SQL = addedFunction(`
  INSERT INTO person_activity AS a (${ACTIVITY_COLUMNS}) ${ACTIVITY_ROWS('added', 'bytes')}
${MERGE_ACTIVITY}`);

/**
 * Recounts one workspace's rollups from its profiles and interactions (what the triggers keep, from scratch):
 * after a load that bypassed the triggers (a bulk generator, a restore), in the caller's transaction; with the
 * per-person window counters (feature-windows.ts). Its per-person GROUP BY holds one row per active person: a
 * caller with millions of them sets `work_mem` so that fits in memory.
 */
export async function rebuildRollups(db: Queryable, team: string): Promise<void> {
  for (const table of ['profile_tallies', 'person_activity', 'interaction_days'])
    await db.query(`DELETE FROM ${table} WHERE team_id = $1`, [team]);
  const profiles = '(SELECT * FROM profiles WHERE team_id = $1) AS profiles';
  await db.query(addTallies(tallyDeltas(profiles, 1)), [team]);
  await db.query(
    `INSERT INTO interaction_days (team_id, day, type, events)
     SELECT team_id, (at AT TIME ZONE 'UTC')::date, type, count(*) FROM interactions WHERE team_id = $1 GROUP BY 1, 2, 3`,
    [team],
  );
  // In key order: the table is then laid out as migration 7 leaves it, and the profile lookups walk the key once.
  await db.query(
    `INSERT INTO person_activity (${ACTIVITY_COLUMNS})
     ${ACTIVITY_ROWS('(SELECT * FROM interactions WHERE team_id = $1) AS mine', 'bytes')}`,
    [team],
  );
  await rebuildStatsBuckets(db, team);
  await rebuildWeekEdges(db, team);
  await rebuildPseudonyms(db, team);
  // The per-person window counters too (feature-windows.ts).
  await rebuildFeatureWindows(db, team);
}
