/**
 * Ten-minute rollups for `stats` (migration 9), so that "as of now" reads a few thousand small rows however large
 * the audience, instead of every recently active person and every purchase of 60 days (rollup-stats.ts):
 *
 * - `event_buckets`: per 10-minute slice, the views, the engagements and the exact sum of the purchases' values
 *   (`numeric`, each value converted exactly by `exact_numeric`): the revenue of any window is the sum of its
 *   whole slices plus the purchases of the two partial ones, rounded once, which is the engine's figure
 *   (domain/exact-sum.ts) whatever the order of the events.
 * - `activity_buckets`: how many people with a profile have their latest activity (`active`: their latest event
 *   or their profile's `last_active_at`, whichever is later), reach, engagement or purchase in each slice. "People
 *   active since T" is the sum of the slices from T on, plus the people of the one partial slice (found from that
 *   slice's events and profiles), less the profiles whose `last_active_at` lies in the future (the engine counts
 *   it only before "as of"; usually none).
 * - `person_activity.seen`: the profile's `last_active_at` beside the person's latest events, so the `active`
 *   slice of a person is known from their row alone.
 *
 * Kept by statement triggers of their own (on interactions, person_activity and profiles), beside the rollup
 * triggers of rollups.ts, which they do not change: whatever writes person_activity (those triggers, a rebuild),
 * these follow its rows' changes. Profiles without any event count in `active` from their profile row.
 */

import type { Queryable } from './claims.ts';
import { triggerFunction as fn, statementTrigger } from './trigger-sql.ts';

/** The slice width, as an SQL interval and in ms (the read side finds partial slices with it). */
export const BUCKET_MS = 600_000;
const BUCKET = `'10 minutes'`;
const bucketOf = (at: string) => `date_bin(${BUCKET}, ${at}, 'epoch'::timestamptz)`;
const ENGAGE = `'like', 'share', 'comment', 'click'`;
const REACH = `'view', ${ENGAGE}`;

/** The exact value of a double as `numeric` (PostgreSQL's own cast keeps 15 digits); NaN counts as 0. */
const EXACT_NUMERIC = `
CREATE FUNCTION exact_numeric(v float8) RETURNS numeric LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE
    WHEN v = 'NaN'::float8 THEN 0::numeric
    WHEN v IN ('Infinity'::float8, '-Infinity'::float8) THEN v::numeric
    WHEN e >= 0 THEN s * m * power(2::numeric, e)
    -- m * 2^e = m * 5^-e * 10^e: an integer times a power of ten, which numeric's input reads exactly.
    ELSE s * ((m * trunc(power(5::numeric, -e)))::text || 'e' || e)::numeric
  END
  FROM (SELECT CASE WHEN b < 0 THEN -1 ELSE 1 END AS s,
               (CASE WHEN (b >> 52) & 2047 = 0 THEN b & 4503599627370495
                     ELSE (b & 4503599627370495) + 4503599627370496 END)::numeric AS m,
               CASE WHEN (b >> 52) & 2047 = 0 THEN -1074 ELSE ((b >> 52) & 2047)::int - 1075 END AS e
          FROM (SELECT ('x' || encode(float8send(v), 'hex'))::bit(64)::bigint AS b) AS raw) AS parts
$$;`;

// Per-slice event deltas of a set of interaction rows (`sign` 1 added, -1 removed).
const eventDeltas = (rows: string, sign: number) => `
  SELECT team_id, ${bucketOf('at')} AS bucket,
         ${sign} * count(*) FILTER (WHERE type = 'view') AS views,
         ${sign} * count(*) FILTER (WHERE type IN (${ENGAGE})) AS engagements,
         ${sign} * coalesce(sum(exact_numeric(coalesce(value, 0))) FILTER (WHERE type = 'purchase'), 0) AS revenue
    FROM ${rows} WHERE type IN (${REACH}, 'purchase') GROUP BY 1, 2`;

const addEvents = (deltas: string) => `
  INSERT INTO event_buckets AS e (team_id, bucket, views, engagements, revenue) ${deltas}
  ON CONFLICT (team_id, bucket) DO UPDATE SET views = e.views + EXCLUDED.views,
    engagements = e.engagements + EXCLUDED.engagements, revenue = e.revenue + EXCLUDED.revenue`;

// Per-slice people deltas of a set of person_activity rows: only people with a profile (`known`) count.
const activityDeltas = (rows: string, sign: number) => `
  SELECT r.team_id, k.kind, ${bucketOf('k.at')} AS bucket, ${sign} * count(*) AS people
    FROM ${rows} r CROSS JOIN LATERAL (VALUES ('active', greatest(r.last_at, r.seen)), ('reach', r.last_reach_at),
         ('engage', r.last_engage_at), ('buy', r.last_buy_at)) AS k (kind, at)
   WHERE r.known AND k.at IS NOT NULL GROUP BY 1, 2, 3`;

// The `active` slice of profiles that have no person_activity row (only a last_active_at).
const profileOnlyDeltas = (rows: string, sign: number) => `
  SELECT p.team_id, 'active', ${bucketOf('p.last_active_at')}, ${sign} * count(*) FROM ${rows} p
   WHERE p.last_active_at IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM person_activity a WHERE a.team_id = p.team_id AND a.user_id = p.id)
   GROUP BY 1, 2, 3`;

// Migration 12 upserts in key order (`ordered`): a delta touches slices all over the history (people's previous
// latest activity), and key order makes those index reads sequential.
const addActivity = (deltas: string, ordered = false) => `
  INSERT INTO activity_buckets AS b (team_id, kind, bucket, people)
  SELECT team_id, kind, bucket, sum(people) FROM (${deltas}) AS d (team_id, kind, bucket, people)
   GROUP BY 1, 2, 3 HAVING sum(people) <> 0${ordered ? ' ORDER BY team_id, kind COLLATE "C", bucket' : ''}
  ON CONFLICT (team_id, kind, bucket) DO UPDATE SET people = b.people + EXCLUDED.people`;

// A person's first event row: they leave the profile-only count, and their row takes the profile's last_active_at
// (an update, which the update trigger counts). Migration 12 replaces this with `seen` set on insert.
const ACTIVITY_ADDED = `${addActivity(`${activityDeltas('added', 1)} UNION ALL
  SELECT p.team_id, 'active', ${bucketOf('p.last_active_at')}, -count(*) FROM added a
    JOIN profiles p ON p.team_id = a.team_id AND p.id = a.user_id WHERE p.last_active_at IS NOT NULL GROUP BY 1, 2, 3`)};
  UPDATE person_activity a SET seen = p.last_active_at FROM added n
    JOIN profiles p ON p.team_id = n.team_id AND p.id = n.user_id
   WHERE a.team_id = n.team_id AND a.user_id = n.user_id AND a.seen IS DISTINCT FROM p.last_active_at`;

// A removed row of someone who keeps their profile: they count from the profile again.
const activityRemoved = (ordered = false) =>
  addActivity(
    `${activityDeltas('removed', -1)} UNION ALL
  SELECT r.team_id, 'active', ${bucketOf('r.seen')}, count(*) FROM removed r
   WHERE r.seen IS NOT NULL
     AND EXISTS (SELECT 1 FROM profiles p WHERE p.team_id = r.team_id AND p.id = r.user_id) GROUP BY 1, 2, 3`,
    ordered,
  );

const activityChanged = (ordered = false) =>
  addActivity(`${activityDeltas('added', 1)} UNION ALL ${activityDeltas('removed', -1)}`, ordered);

// Migration 12's update delta: the old and new rows' slices summed in one hash aggregate (the old slices lie
// all over the history, so grouping each side first barely shrinks them), then upserted in key order.
const activityRows = (rows: string, sign: number) => `
  SELECT r.team_id, k.kind, ${bucketOf('k.at')}, ${sign} FROM ${rows} r
   CROSS JOIN LATERAL (VALUES ('active', greatest(r.last_at, r.seen)), ('reach', r.last_reach_at),
         ('engage', r.last_engage_at), ('buy', r.last_buy_at)) AS k (kind, at)
   WHERE r.known AND k.at IS NOT NULL`;
const ACTIVITY_CHANGED_FLAT = `
  INSERT INTO activity_buckets AS b (team_id, kind, bucket, people)
  SELECT team_id, kind, bucket, sum(people)
    FROM (${activityRows('added', 1)} UNION ALL ${activityRows('removed', -1)}) AS d (team_id, kind, bucket, people)
   GROUP BY 1, 2, 3 HAVING sum(people) <> 0 ORDER BY team_id, kind COLLATE "C", bucket
  ON CONFLICT (team_id, kind, bucket) DO UPDATE SET people = b.people + EXCLUDED.people`;

// Profiles: their last_active_at goes onto their person_activity row (if any), or counts on its own.
const seenOnto = (rows: string, seen: string) => `
  UPDATE person_activity a SET seen = ${seen} FROM ${rows} p
   WHERE a.team_id = p.team_id AND a.user_id = p.id AND a.seen IS DISTINCT FROM ${seen}`;
const profilesAdded = (ordered = false) =>
  `${seenOnto('added', 'p.last_active_at')}; ${addActivity(profileOnlyDeltas('added', 1), ordered)}`;
const profilesRemoved = (ordered = false) =>
  `${seenOnto('removed', 'NULL::timestamptz')}; ${addActivity(profileOnlyDeltas('removed', -1), ordered)}`;
const profilesChanged = (ordered = false) => `${seenOnto('added', 'p.last_active_at')};
  ${addActivity(`${profileOnlyDeltas('added', 1)} UNION ALL ${profileOnlyDeltas('removed', -1)}`, ordered)}`;

/** The migration: the two tables, the `seen` column, their triggers, and their contents from the rows there are. */
export const STATS_BUCKETS_SQL = `
${EXACT_NUMERIC}
CREATE TABLE event_buckets (
  team_id     text NOT NULL,
  bucket      timestamptz NOT NULL,
  views       bigint NOT NULL,
  engagements bigint NOT NULL,
  revenue     numeric NOT NULL,
  PRIMARY KEY (team_id, bucket)
);
CREATE TABLE activity_buckets (
  team_id text NOT NULL,
  kind    text NOT NULL CHECK (kind IN ('active', 'reach', 'engage', 'buy')),
  bucket  timestamptz NOT NULL,
  people  bigint NOT NULL,
  PRIMARY KEY (team_id, kind, bucket)
);
ALTER TABLE person_activity ADD COLUMN seen timestamptz;
-- The profiles seen in a window, by id, without reading the profiles (the week before last, the partial slices).
DROP INDEX profiles_by_seen;
CREATE INDEX profiles_by_seen ON profiles (team_id, last_active_at) INCLUDE (id);
${recount('team_id IS NOT NULL').join(';\n')};
${fn('stats_events_added', addEvents(eventDeltas('added', 1)))}
${fn('stats_events_removed', addEvents(eventDeltas('removed', -1)))}
${statementTrigger('stats_events_added', 'INSERT', 'interactions')}
${statementTrigger('stats_events_removed', 'DELETE', 'interactions')}
${fn('stats_activity_added', ACTIVITY_ADDED)}
${fn('stats_activity_removed', activityRemoved())}
${fn('stats_activity_changed', activityChanged())}
${statementTrigger('stats_activity_added', 'INSERT', 'person_activity')}
${statementTrigger('stats_activity_removed', 'DELETE', 'person_activity')}
${statementTrigger('stats_activity_changed', 'UPDATE', 'person_activity')}
${fn('stats_profiles_added', profilesAdded())}
${fn('stats_profiles_removed', profilesRemoved())}
${fn('stats_profiles_changed', profilesChanged())}
${statementTrigger('stats_profiles_added', 'INSERT', 'profiles')}
${statementTrigger('stats_profiles_removed', 'DELETE', 'profiles')}
${statementTrigger('stats_profiles_changed', 'UPDATE', 'profiles')}
`;

/** The statements that recount `seen` and the buckets from the base tables, for the teams `where` selects. */
function recount(where: string): string[] {
  return [
    `UPDATE person_activity a SET seen = p.last_active_at FROM profiles p
      WHERE a.${where} AND p.team_id = a.team_id AND p.id = a.user_id AND a.seen IS DISTINCT FROM p.last_active_at`,
    `DELETE FROM event_buckets WHERE ${where}`,
    `DELETE FROM activity_buckets WHERE ${where}`,
    addEvents(eventDeltas(`(SELECT * FROM interactions WHERE ${where}) AS i`, 1)),
    addActivity(`${activityDeltas(`(SELECT * FROM person_activity WHERE ${where})`, 1)} UNION ALL
      ${profileOnlyDeltas(`(SELECT * FROM profiles WHERE ${where})`, 1)}`),
  ];
}

// Migration 12's exact_numeric: the same value as migration 9's, as one expression PostgreSQL inlines into the
// query (a SQL function with a FROM clause, or a STRICT one, is called row by row: 67 µs a purchase at load 11).
const BITS = `('x' || encode(float8send(v), 'hex'))::bit(64)::bigint`;
const EXACT_NUMERIC_INLINE = `
CREATE OR REPLACE FUNCTION exact_numeric(v float8) RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN v = 'NaN'::float8 THEN 0::numeric
    WHEN v IN ('Infinity'::float8, '-Infinity'::float8) THEN v::numeric
    WHEN v = 0 THEN 0::numeric
    WHEN (${BITS} >> 52) & 2047 = 0 THEN
      sign(v)::numeric * (((${BITS} & 4503599627370495)::numeric * trunc(power(5::numeric, 1074)))::text || 'e-1074')::numeric
    WHEN (${BITS} >> 52) & 2047 >= 1075 THEN
      sign(v)::numeric * ((${BITS} & 4503599627370495) + 4503599627370496)::numeric
        * power(2::numeric, ((${BITS} >> 52) & 2047)::int - 1075)
    ELSE sign(v)::numeric * ((((${BITS} & 4503599627370495) + 4503599627370496)::numeric
        * trunc(power(5::numeric, 1075 - ((${BITS} >> 52) & 2047)::int)))::text
        || 'e' || (((${BITS} >> 52) & 2047)::int - 1075))::numeric
  END
$$;`;

/**
 * Migration 12: a person's first row takes the profile's last_active_at as it is inserted (a BEFORE row trigger,
 * one primary-key read of the profile, as the rollup's own `known` check does), instead of migration 9's UPDATE
 * of the new rows after the statement, which doubled an import of events for many new people.
 */
export const STATS_SEEN_ON_INSERT_SQL = `
${EXACT_NUMERIC_INLINE}
ALTER TABLE activity_buckets SET (fillfactor = 70);
ALTER TABLE event_buckets SET (fillfactor = 70);
CREATE FUNCTION stats_activity_seen() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF NEW.known THEN
    NEW.seen := (SELECT p.last_active_at FROM profiles p WHERE p.team_id = NEW.team_id AND p.id = NEW.user_id);
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER stats_activity_seen BEFORE INSERT ON person_activity FOR EACH ROW EXECUTE FUNCTION stats_activity_seen();
${fn(
  'stats_activity_added',
  addActivity(
    `${activityDeltas('added', 1)} UNION ALL
  SELECT team_id, 'active', ${bucketOf('seen')}, -count(*) FROM added WHERE known AND seen IS NOT NULL GROUP BY 1, 2, 3`,
    true,
  ),
  true,
)}
${fn('stats_activity_removed', activityRemoved(true), true)}
${fn('stats_activity_changed', ACTIVITY_CHANGED_FLAT, true)}
${fn('stats_profiles_added', profilesAdded(true), true)}
${fn('stats_profiles_removed', profilesRemoved(true), true)}
${fn('stats_profiles_changed', profilesChanged(true), true)}
`;

/**
 * Recounts one workspace's buckets (and `seen`) from its rows: after rebuildRollups (rollups.ts), in the caller's
 * transaction. `seen` is set first (its triggers' deltas are then dropped with the old buckets), then the buckets.
 */
export async function rebuildStatsBuckets(db: Queryable, team: string): Promise<void> {
  for (const statement of recount('team_id = $1')) await db.query(statement, [team]);
}
