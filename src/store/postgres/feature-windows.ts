/**
 * Per-person window counters kept on write (issue #14), so segments and predict read one row per person instead
 * of every event of the engagement window and the year's purchases (feature-sql.ts `personEvents`, the same
 * figures computed from the events).
 *
 * A workspace has a few anchors (`feature_anchors`: one instant per slot, the last "as of" features were asked
 * at). `person_windows` holds, per anchor A and person, what `personEvents` gives as of A: views, likes, shares,
 * comments, clicks and engagements in [A − 56 d, A), the window's active days as a bit mask relative to A − 56 d,
 * purchases (count, exact numeric sum) in [A − 365 d, A) and the latest of them. It also keeps the active days'
 * candidates: the first and last event of each UTC day of the window. The active days are 24-hour periods from the
 * window's start, not calendar days, so a mask cannot be shifted by a fraction of a day; but a UTC day meets at most
 * two periods of any window, and its first and last events stand for every period it has events in, so the mask
 * at any later instant is exact from the candidates.
 *
 * Kept by statement triggers on `interactions` (one GROUP BY per statement, as rollups.ts): an insert folds the
 * events before each anchor into its rows (events after it, the usual live import, cost a join with no match);
 * a delete recomputes the people it touched (forget removes them; retention's old months usually touch nobody).
 * Moving an anchor to a later instant (`anchorFeatures`) adds the events entering the windows and subtracts those
 * leaving (the touched people's candidates pruned to the new window); an earlier or far instant is recounted from
 * scratch. The active-days mask is computed when read, from the candidates (`countersAt`).
 * Writers and a move exclude each other per workspace by an advisory lock (shared for writers, exclusive for a
 * move), so a move never misses a write in flight, whichever commits first.
 */
import type pg from 'pg';
import type { Queryable } from './claims.ts';
import { ts } from './rows.ts';
import { statementTrigger } from './trigger-sql.ts';

const DAY = 86_400_000;
/** The anchors: "now" (segments, predict's forecast), predict's cutoff, and the cutoff 30 days before it. */
export const FEATURE_SLOTS = { now: 0, train: 1, earlier: 2 } as const;
/** A move longer than this recounts from scratch (the windows' entering and leaving events would overlap). */
const MAX_ROLL_MS = 28 * DAY;
// Exact lengths (hours, not calendar days, which follow the session's time zone).
const WIN = `interval '1344 hours'`;
const LOOK = `interval '8760 hours'`;
const ENGAGE = `('like', 'share', 'comment', 'click')`;
const FINITE = `value NOT IN ('NaN', 'Infinity', '-Infinity')`;
/** Advisory lock class of the writers (shared) and anchor moves (exclusive), keyed by hashtext(team). */
const LOCK_CLASS = 1_480_810_008;
const COUNTERS = 'views, likes, shares, comments, clicks, engagements, days, frequency, monetary, last';
/**
 * Migrations 10 and 13 (their text is kept as applied) also wrote a stored mask, `active`, which nothing read once
 * readers computed the mask from the day candidates; migration 18 drops the column.
 */
const COUNTERS_WITH_MASK =
  'views, likes, shares, comments, clicks, engagements, active, days, frequency, monetary, last';

/**
 * The rows of `events` (columns team_id, user_id, type, value, at) for every anchor `a` they fall before: one per
 * (team, slot, person), columns in `COUNTERS` order after team_id, slot, user_id. The day candidates are every
 * window event's instant (`raw`, a superset that stands for the same periods, reduced when the anchor moves), or
 * already reduced to each UTC day's first and last (migration 10's text, kept as it was applied).
 */
function windowRows(
  events: string,
  anchors = 'feature_anchors',
  days: 'reduced' | 'raw' = 'reduced',
  mask = false,
): string {
  const inWindow = `i.at >= a.at - ${WIN}`;
  const typed = (type: string) => `count(*) FILTER (WHERE ${inWindow} AND i.type = '${type}')`;
  return `SELECT i.team_id, a.slot, i.user_id, ${typed('view')}, ${typed('like')}, ${typed('share')},
       ${typed('comment')}, ${typed('click')}, count(*) FILTER (WHERE ${inWindow} AND i.type IN ${ENGAGE}),${
         mask
           ? `
       coalesce(bit_or(1::bigint << floor(date_part('epoch', i.at - (a.at - ${WIN})) / 86400)::int) FILTER (WHERE ${inWindow}), 0),`
           : ''
       }
       ${
         days === 'raw'
           ? `coalesce(array_agg(i.at) FILTER (WHERE ${inWindow}), '{}')`
           : `feature_days(coalesce(array_agg(i.at) FILTER (WHERE ${inWindow}), '{}'), a.at - ${WIN})`
       },
       count(*) FILTER (WHERE i.type = 'purchase'),
       coalesce(sum(i.value::numeric) FILTER (WHERE i.type = 'purchase' AND i.${FINITE}), 0),
       max(i.at) FILTER (WHERE i.type = 'purchase')
  FROM ${events} JOIN ${anchors} a ON a.team_id = i.team_id
 WHERE i.at < a.at AND (${inWindow} OR (i.type = 'purchase' AND i.at >= a.at - ${LOOK}))
 GROUP BY i.team_id, a.slot, a.at, i.user_id`;
}

const DAYS_MERGE = {
  reduced: "feature_days(w.days || EXCLUDED.days, '-infinity')",
  raw: 'w.days || EXCLUDED.days',
  // A move's: reduced to what is left in the window at the new instant ($4), for the people it touches.
  pruned: `feature_days(w.days || EXCLUDED.days, $4::timestamptz - ${WIN})`,
};

// Rows merged into existing ones (an insert's events before the anchor, or a move's entering and leaving events);
// the day candidates reduced at once (migration 10), or appended and reduced when the anchor moves (`raw`).
const mergeRows = (
  days: keyof typeof DAYS_MERGE,
  mask = false,
) => `ON CONFLICT (team_id, slot, user_id) DO UPDATE SET views = w.views + EXCLUDED.views,
    likes = w.likes + EXCLUDED.likes, shares = w.shares + EXCLUDED.shares, comments = w.comments + EXCLUDED.comments,
    clicks = w.clicks + EXCLUDED.clicks, engagements = w.engagements + EXCLUDED.engagements,
    ${mask ? 'active = w.active | EXCLUDED.active, ' : ''}days = ${DAYS_MERGE[days]},
    frequency = w.frequency + EXCLUDED.frequency, monetary = w.monetary + EXCLUDED.monetary,
    last = greatest(w.last, EXCLUDED.last)`;
const MERGE = mergeRows('reduced', true);

/**
 * The anchors a workspace starts with, from `latest` (team_id, latest: its latest event): "now" just after the
 * latest event (what segments and the forecast ask), predict's cutoff 30 days before, and 30 days before that.
 */
const INITIAL_ANCHORS = (latest: string) => `
INSERT INTO feature_anchors (team_id, slot, at)
SELECT l.team_id, s.slot, l.latest + interval '1 millisecond' - s.back
  FROM ${latest}, (VALUES (${FEATURE_SLOTS.now}, interval '0 hours'), (${FEATURE_SLOTS.train}, interval '720 hours'),
       (${FEATURE_SLOTS.earlier}, interval '1440 hours')) AS s (slot, back)
 WHERE l.latest IS NOT NULL`;

// Writers take the workspace's lock shared, so an anchor move (exclusive) waits for them and they for it.
const WRITERS_LOCK = (rows: string) =>
  `PERFORM pg_advisory_xact_lock_shared(${LOCK_CLASS}, hashtext(t.team_id)) FROM (SELECT DISTINCT team_id FROM ${rows}) t;`;

/** The removed events' people's events (the delete trigger recounts them). */
const REMOVED_PEOPLE = `(SELECT i.* FROM unnest(teams, users) AS t(team_id, user_id)
      JOIN interactions i ON i.team_id = t.team_id AND i.user_id = t.user_id) AS i`;

// The people with removed events inside some anchor's windows are recounted from what remains (migration 19: after
// folding the pending events, which the recount includes).
const removedBody = (mask: boolean, foldFirst = false) => `DECLARE teams text[]; users text[];
BEGIN
  ${WRITERS_LOCK('removed')}
  SELECT array_agg(team_id), array_agg(user_id) INTO teams, users FROM (
    SELECT DISTINCT r.team_id, r.user_id FROM removed r JOIN feature_anchors a ON a.team_id = r.team_id
     WHERE r.at < a.at AND r.at >= a.at - ${LOOK}) g;
  IF teams IS NULL THEN RETURN NULL; END IF;${foldFirst ? '\n  PERFORM feature_fold(t) FROM (SELECT DISTINCT unnest(teams) AS t) g;' : ''}
  DELETE FROM person_windows w USING unnest(teams, users) AS t(team_id, user_id)
   WHERE w.team_id = t.team_id AND w.user_id = t.user_id;
  INSERT INTO person_windows (team_id, slot, user_id, ${mask ? COUNTERS_WITH_MASK : COUNTERS})
  ${windowRows(REMOVED_PEOPLE, 'feature_anchors', 'reduced', mask)};
  RETURN NULL;
END`;

/** The migration: the tables, the candidates' helpers, the triggers (filled by `rebuildFeatureWindows`). */
export const FEATURE_WINDOWS_SQL = `
CREATE TABLE feature_anchors (
  team_id text NOT NULL,
  slot    smallint NOT NULL,
  at      timestamptz NOT NULL,
  PRIMARY KEY (team_id, slot)
);
CREATE TABLE person_windows (
  team_id     text NOT NULL,
  slot        smallint NOT NULL,
  user_id     text NOT NULL,
  views       bigint NOT NULL,
  likes       bigint NOT NULL,
  shares      bigint NOT NULL,
  comments    bigint NOT NULL,
  clicks      bigint NOT NULL,
  engagements bigint NOT NULL,
  active      bigint NOT NULL,
  days        timestamptz[] NOT NULL,
  frequency   bigint NOT NULL,
  monetary    numeric NOT NULL,
  last        timestamptz,
  PRIMARY KEY (team_id, slot, user_id)
);
-- The active days' candidates: the first and last of the instants at or after lo of each UTC day, in order.
CREATE FUNCTION feature_days(a timestamptz[], lo timestamptz) RETURNS timestamptz[] LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(array_agg(DISTINCT x ORDER BY x), '{}') FROM (
    SELECT unnest(ARRAY[min(x), max(x)]) AS x FROM unnest(a) x WHERE x >= lo GROUP BY (x AT TIME ZONE 'UTC')::date) d $$;
-- The active days' mask of the window [ws, t) from the candidates (bit d: the d-th 24 hours from ws).
CREATE FUNCTION feature_mask(a timestamptz[], ws timestamptz, t timestamptz) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(bit_or(1::bigint << floor(date_part('epoch', x - ws) / 86400)::int), 0)
    FROM unnest(a) x WHERE x >= ws AND x < t $$;

CREATE FUNCTION feature_windows_added() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  ${WRITERS_LOCK('added')}
  INSERT INTO person_windows AS w (team_id, slot, user_id, ${COUNTERS_WITH_MASK})
  ${windowRows('added i', 'feature_anchors', 'reduced', true)}
  ${MERGE};
  RETURN NULL;
END $$;
-- The people with removed events inside some anchor's windows are recounted from what remains.
CREATE FUNCTION feature_windows_removed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
${removedBody(true)} $$;
${statementTrigger('feature_windows_added', 'INSERT', 'interactions')}
${statementTrigger('feature_windows_removed', 'DELETE', 'interactions')}

${INITIAL_ANCHORS('(SELECT team_id, max(at) AS latest FROM interactions GROUP BY team_id) l')};
INSERT INTO person_windows (team_id, slot, user_id, ${COUNTERS_WITH_MASK}) ${windowRows('interactions i', 'feature_anchors', 'reduced', true)};
`;

// The statement triggers' bodies (migration 10's were the same with the candidates reduced per row: a SQL function
// call per person cost 15 of 48 s for 1M backfilled events into 600k people, and the sort 10 s more).
const addedBody = (mask: boolean) => `BEGIN
  ${WRITERS_LOCK('added')}
  INSERT INTO person_windows AS w (team_id, slot, user_id, ${mask ? COUNTERS_WITH_MASK : COUNTERS})
  ${windowRows('added i', 'feature_anchors', 'raw', mask)}
  ${mergeRows('raw', mask)};
  RETURN NULL;
END`;

/**
 * Migration 13: cheaper upkeep on insert: the day candidates appended as they come (reduced when the anchor
 * moves) and the statement's events grouped by hashing (a sort of a million text keys took longer than the rest).
 */
export const FEATURE_UPKEEP_SQL = `
CREATE OR REPLACE FUNCTION feature_windows_added() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT SET enable_sort = off AS $$
${addedBody(true)} $$;
`;

/**
 * Migration 18: the stored mask `active` goes (stale since readers compute the mask from the day candidates, and
 * its bit_or cost every insert a little); both triggers' bodies are migrations 13's and 10's without it.
 */
export const FEATURE_MASK_DROP_SQL = `
ALTER TABLE person_windows DROP COLUMN active;
CREATE OR REPLACE FUNCTION feature_windows_added() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT SET enable_sort = off AS $$
${addedBody(false)} $$;
CREATE OR REPLACE FUNCTION feature_windows_removed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
${removedBody(false)} $$;
`;

// Migration 19: an insert no longer folds its events into the counters; it notes which of them are pending, and the
// counters are brought up to date (`feature_fold`) before they are read, moved, rebuilt or recounted for a delete.
// 1M events of the last month into a 1M / 10M store: the fold, in the insert, was 52.6 s of a 120 s INSERT (load
// 7-9); noting the pending events is one pass over the statement's rows. A long import (or many in a row) is then
// folded once, by the first reader, under the exclusive anchor lock.
// Pending events are named by (workspace, UTC day, a range of seq): the events of that workspace and day whose seq
// lies in the range. That names exactly the statements' own events: a fold waits for the writers in flight (they
// hold the shared lock), so a statement noted after a fold numbered its rows after every event folded before it
// (seq comes from one sequence). Only events that can count for some anchor are noted: before the latest anchor,
// within a year of the earliest; a live import after "now" notes nothing.
const DAY_OF = (at: string) => `date_bin('24 hours', ${at}, 'epoch'::timestamptz)`;
const NOTE_PENDING = `BEGIN
  ${WRITERS_LOCK('added')}
  INSERT INTO feature_pending AS f (team_id, day, seq_lo, seq_hi)
  SELECT i.team_id, ${DAY_OF('i.at')}, min(i.seq), max(i.seq)
    FROM added i JOIN (SELECT team_id, min(at) - ${LOOK} AS lo, max(at) AS hi FROM feature_anchors GROUP BY team_id) a
      ON a.team_id = i.team_id
   WHERE i.at >= a.lo AND i.at < a.hi
   GROUP BY 1, 2
  ON CONFLICT (team_id, day, seq_lo) DO UPDATE SET seq_hi = greatest(f.seq_hi, EXCLUDED.seq_hi);
  RETURN NULL;
END`;

// The pending events of workspace `t` (a plpgsql variable): each noted day's events (time index) whose seq a range
// of that day covers (several ranges covering one event count it once).
const PENDING_EVENTS = (
  t: string,
) => `(SELECT x.* FROM (SELECT DISTINCT day FROM feature_pending WHERE team_id = ${t}) d
    CROSS JOIN LATERAL (SELECT * FROM interactions x WHERE x.team_id = ${t} AND x.at >= d.day
      AND x.at < d.day + interval '24 hours' AND EXISTS (SELECT 1 FROM feature_pending p
        WHERE p.team_id = ${t} AND p.day = d.day AND x.seq BETWEEN p.seq_lo AND p.seq_hi)) x) i`;

/** Migration 19: the pending events, the insert trigger that notes them, the fold, the delete trigger folding first. */
export const FEATURE_PENDING_SQL = `
CREATE TABLE feature_pending (
  team_id text NOT NULL,
  day     timestamptz NOT NULL,
  seq_lo  bigint NOT NULL,
  seq_hi  bigint NOT NULL,
  PRIMARY KEY (team_id, day, seq_lo)
);
-- Folds a workspace's pending events into its counters (what the insert trigger did before), by hashing as
-- migration 13's trigger did; the caller holds the anchor lock (exclusive), or the shared one with the change lock.
CREATE FUNCTION feature_fold(t text) RETURNS void LANGUAGE plpgsql
  SET search_path FROM CURRENT SET enable_sort = off AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM feature_pending WHERE team_id = t) THEN RETURN; END IF;
  INSERT INTO person_windows AS w (team_id, slot, user_id, ${COUNTERS})
  ${windowRows(PENDING_EVENTS('t'), '(SELECT * FROM feature_anchors WHERE team_id = t)', 'raw')}
  ${mergeRows('raw')};
  DELETE FROM feature_pending WHERE team_id = t;
END $$;
CREATE OR REPLACE FUNCTION feature_windows_added() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
${NOTE_PENDING} $$;
-- A delete recounts the people it touched from the events there are, pending ones included: fold those first.
CREATE OR REPLACE FUNCTION feature_windows_removed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
${removedBody(false, true)} $$;
`;

/** Folds the workspace's pending events into its counters (migration 19), in the caller's transaction. */
async function fold(db: Queryable, team: string): Promise<void> {
  await db.query('SELECT feature_fold($1)', [team]);
}

/** Takes the workspace's exclusive anchor lock (waits for writers in flight), in the caller's transaction. */
async function lockAnchors(db: Queryable, team: string): Promise<void> {
  await db.query(`SELECT pg_advisory_xact_lock(${LOCK_CLASS}, hashtext($1))`, [team]);
}

/** Recounts one anchor (slot) at `at` from the interactions, in the caller's transaction (holding the lock). */
async function recount(db: Queryable, team: string, slot: number, at: string): Promise<void> {
  await db.query('DELETE FROM person_windows WHERE team_id = $1 AND slot = $2', [team, slot]);
  await db.query(
    `INSERT INTO feature_anchors (team_id, slot, at) VALUES ($1, $2, $3)
     ON CONFLICT (team_id, slot) DO UPDATE SET at = EXCLUDED.at`,
    [team, slot, at],
  );
  await db.query(
    `INSERT INTO person_windows (team_id, slot, user_id, ${COUNTERS})
     ${windowRows(
       `(SELECT * FROM interactions WHERE team_id = $1 AND at < $3::timestamptz AND at >= $3::timestamptz - ${LOOK}
           AND (type = 'purchase' OR at >= $3::timestamptz - ${WIN})) i`,
       '(SELECT * FROM feature_anchors WHERE team_id = $1 AND slot = $2)',
       'raw',
     )}`,
    [team, slot, at],
  );
}

/**
 * Moves anchor `slot` from `from` to the later `to` (less than MAX_ROLL_MS apart), in the caller's transaction:
 * events in [from, to) enter, those in [from − 56 d, to − 56 d) leave the window and purchases in
 * [from − 365 d, to − 365 d) the lookback.
 */
async function roll(db: Queryable, team: string, slot: number, from: string, to: string): Promise<void> {
  const p = [team, slot, from, to];
  await db.query(
    `CREATE TEMPORARY TABLE feature_roll ON COMMIT DROP AS
     SELECT user_id, type, value, at,
            CASE WHEN at >= $3::timestamptz THEN 1 WHEN at >= $3::timestamptz - ${WIN} THEN -1 ELSE 0 END AS win,
            CASE WHEN at >= $3::timestamptz THEN 1 WHEN at < $4::timestamptz - ${LOOK} THEN -1 ELSE 0 END AS look
       FROM interactions
      WHERE team_id = $1 AND $2::smallint IS NOT NULL
        AND ((at >= $3::timestamptz AND at < $4::timestamptz)
          OR (at >= $3::timestamptz - ${WIN} AND at < $4::timestamptz - ${WIN})
          OR (type = 'purchase' AND at >= $3::timestamptz - ${LOOK} AND at < $4::timestamptz - ${LOOK}))`,
    p,
  );
  // Statistics for the joins below (a temporary table has none, and a guess of a few rows chose nested loops).
  await db.query('ANALYZE feature_roll');
  const typed = (type: string) => `coalesce(sum(win) FILTER (WHERE type = '${type}'), 0)`;
  // Entering events' candidates are merged, and the touched people's reduced to the new window: whoever has a
  // candidate leaving the window has an event leaving it, so every stale candidate goes at the move it leaves.
  // (The mask column is not kept up on a move: readers compute it from the candidates, `countersAt`.)
  await db.query(
    `INSERT INTO person_windows AS w (team_id, slot, user_id, ${COUNTERS})
     SELECT $1, $2, user_id, ${typed('view')}, ${typed('like')}, ${typed('share')}, ${typed('comment')},
            ${typed('click')}, coalesce(sum(win) FILTER (WHERE type IN ${ENGAGE}), 0),
            coalesce(array_agg(at) FILTER (WHERE win = 1), '{}'),
            coalesce(sum(look) FILTER (WHERE type = 'purchase'), 0),
            coalesce(sum(look * value::numeric) FILTER (WHERE type = 'purchase' AND ${FINITE}), 0),
            max(at) FILTER (WHERE type = 'purchase' AND look = 1)
       FROM feature_roll WHERE $3::timestamptz IS NOT NULL AND $4::timestamptz IS NOT NULL GROUP BY user_id
     ${mergeRows('pruned')}`,
    [team, slot, from, to],
  );
  await db.query('UPDATE feature_anchors SET at = $3 WHERE team_id = $1 AND slot = $2', [team, slot, to]);
  // Purchases that left the lookback: its latest is gone too (only people with a purchase leaving can be affected).
  await db.query(
    `UPDATE person_windows w SET last = NULL
      WHERE w.team_id = $1 AND w.slot = $2 AND w.last < $3::timestamptz - ${LOOK}
        AND w.user_id IN (SELECT user_id FROM feature_roll WHERE look = -1)`,
    [team, slot, to],
  );
  await db.query(
    `DELETE FROM person_windows w USING (SELECT DISTINCT user_id FROM feature_roll) r
      WHERE w.team_id = $1 AND w.slot = $2 AND w.user_id = r.user_id AND w.views = 0 AND w.likes = 0
        AND w.shares = 0 AND w.comments = 0 AND w.clicks = 0 AND w.engagements = 0
        AND w.frequency = 0 AND w.last IS NULL`,
    [team, slot],
  );
  await db.query('DROP TABLE feature_roll');
}

/**
 * The counters of anchor `slot` for reading at `at` (SQL, a timestamptz: the anchor's instant), one row per person
 * with `personEvents`'s columns (feature-sql.ts). The active-days mask is computed here from the day candidates
 * (only when `withActive`): a move of the anchor shifts every active person's mask, so keeping it would
 * rewrite every active person's row per move. `team` is SQL too.
 */
export function countersAt(team: string, slot: number, at: string, withActive: boolean): string {
  const columns =
    'w.user_id, w.views, w.likes, w.shares, w.comments, w.clicks, w.engagements, w.frequency, w.monetary, w.last';
  if (!withActive)
    return `SELECT ${columns}, NULL::bigint AS active FROM person_windows w WHERE w.team_id = ${team} AND w.slot = ${slot}`;
  // Per row, so a parallel scan computes each row's mask once, not a hash of everyone's per worker; by a function
  // (migration 24), since a correlated subquery would keep the whole statement in one process.
  return `SELECT ${columns}, feature_active_mask(w.days, ${at} - ${WIN}, ${at}) AS active
     FROM person_windows w WHERE w.team_id = ${team} AND w.slot = ${slot}`;
}

/**
 * Migration 24: the active-days mask of a row's day candidates in [since, until), bit d for the d-th 24 hours from
 * `since` (null without any), as `countersAt`'s LATERAL subquery computed it: PostgreSQL plans no parallel scan
 * under a correlated subquery, and a plpgsql loop over a few candidates costs no more than the subquery did.
 */
export const FEATURE_ACTIVE_MASK_SQL = `
CREATE FUNCTION feature_active_mask(days timestamptz[], since timestamptz, until timestamptz) RETURNS bigint
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  mask bigint;
  x timestamptz;
BEGIN
  FOREACH x IN ARRAY days LOOP
    IF x >= since AND x < until THEN
      mask := coalesce(mask, 0) | (1::bigint << floor(date_part('epoch', x - since) / 86400)::int);
    END IF;
  END LOOP;
  RETURN mask;
END $$;
`;

/** Moves or recounts anchor `slot` to `at` in the caller's transaction (which takes the anchor lock). */
export async function moveAnchor(db: Queryable, team: string, slot: number, at: number): Promise<void> {
  await lockAnchors(db, team);
  await fold(db, team);
  const to = ts(at) as string;
  const { rows } = await db.query<{ from: string; same: boolean; ahead: boolean; near: boolean }>(
    `SELECT at::text AS from, at = $3::timestamptz AS same, at < $3::timestamptz AS ahead,
            $3::timestamptz - at <= $4::float8 * interval '1 millisecond' AS near
       FROM feature_anchors WHERE team_id = $1 AND slot = $2`,
    [team, slot, to, MAX_ROLL_MS],
  );
  const anchor = rows[0];
  if (anchor?.same) return;
  if (anchor?.ahead && anchor.near) await roll(db, team, slot, anchor.from, to);
  else await recount(db, team, slot, to);
}

/**
 * Brings anchor `slot` to `at` in a transaction of its own (committed before the caller reads, so the caller's
 * snapshot sees it); the caller checks `anchoredAt` in its snapshot, since another move may have come between.
 */
export async function anchorFeatures(pool: pg.Pool, team: string, slot: number, at: number): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query("SET LOCAL work_mem = '256MB'");
    await client.query('SET LOCAL jit = off');
    await moveAnchor(client, team, slot, at);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Whether anchor `slot` is at `at` in the caller's snapshot (its `person_windows` rows are then the features'). */
export async function anchoredAt(db: Queryable, team: string, slot: number, at: number): Promise<boolean> {
  // Not while events are pending (migration 19): the counters lack them until a fold.
  const { rows } = await db.query(
    `SELECT 1 FROM feature_anchors WHERE team_id = $1 AND slot = $2 AND at = $3::timestamptz
        AND NOT EXISTS (SELECT 1 FROM feature_pending WHERE team_id = $1)`,
    [team, slot, ts(at)],
  );
  return rows.length > 0;
}

/**
 * Recounts every anchor of a workspace from scratch (after a load that bypassed the triggers), in the caller's
 * transaction; a workspace without anchors gets the initial ones (`INITIAL_ANCHORS`) when it has events.
 */
export async function rebuildFeatureWindows(db: Queryable, team: string): Promise<void> {
  await lockAnchors(db, team);
  let { rows } = await db.query('SELECT 1 FROM feature_anchors WHERE team_id = $1', [team]);
  if (rows.length === 0) {
    await db.query(
      INITIAL_ANCHORS(
        '(SELECT $1::text AS team_id, max(at) AS latest FROM interactions WHERE team_id = $1) l',
      ),
      [team],
    );
    ({ rows } = await db.query('SELECT 1 FROM feature_anchors WHERE team_id = $1', [team]));
  }
  if (rows.length === 0) return;
  // Every anchor in one pass over the workspace's events (pending ones included, so none is pending after).
  await db.query('DELETE FROM person_windows WHERE team_id = $1', [team]);
  await db.query('DELETE FROM feature_pending WHERE team_id = $1', [team]);
  await db.query(
    `INSERT INTO person_windows (team_id, slot, user_id, ${COUNTERS})
     ${windowRows('(SELECT * FROM interactions WHERE team_id = $1) i', '(SELECT * FROM feature_anchors WHERE team_id = $1)', 'raw')}`,
    [team],
  );
}
