/**
 * The week before last without reading that week's events (migration 22): `stats` counts the people with a profile
 * and an event or a `last_active_at` in [A, A + 7 d), A = asOf − 14 d, and that week holds a growing share of the
 * audience (168k people at 2M / 20M).
 *
 * A person's *times* are their distinct event times and their profile's `last_active_at`. Take the gaps between
 * consecutive times, with one from −∞ before the first and one to +∞ after the last. The person has no time in
 * [A, A + 7 d) exactly when one gap (l, r) spans it: l < A and r ≥ A + 7 d, which needs r − l > 7 d (a *long* gap;
 * the infinite ones are long). Call the finite left end of a long gap a *start* and its finite right end an *end*.
 * Then the people with a time in [A, A + 7 d) are #{starts ≥ A} − #{ends ≥ A + 7 d}: a person's long gaps before
 * the first one with r ≥ A + 7 d have their start before A, the later ones add one start and one end each, and
 * that first one adds a start ≥ A exactly when the person has a time in the week (its left end is then a time at
 * or after A, and the person's times before A + 7 d reach it in steps of at most 7 days).
 *
 * `week_edges` keeps, per workspace and 10-minute slice (like stats-buckets.ts), the starts and the ends in it, so
 * the count is two sums over the slices from A on plus the times of the two partial slices at A and A + 7 d (each
 * checked against the person's neighbouring times); rollup-stats.ts reads it and takes out the people without a
 * profile (a handful, read by key).
 *
 * Upkeep (statement triggers on interactions and profiles, so imports, forget, retention, a sample load and a
 * transfer all keep it): a statement adds or removes some times (an event at a time the person already has, or
 * still has, changes nothing; a profile update moves its time: the old one goes, then the new one comes). In the
 * set E of those times and their neighbours in the state after the change (a probe of `interactions_by_user_at`
 * each way, and the profile's time), consecutive elements are neighbours before and after alike wherever one of
 * them changed; so the gaps touching a changed time, and the gaps between the unchanged elements that changed
 * times sit in, are the only gaps that appear or disappear. Adding makes the first appear and the second go;
 * removing the opposite. Each gap adds or removes its start and end if long.
 */

import type { Queryable } from './claims.ts';
import { triggerFunction as fn, statementTrigger } from './trigger-sql.ts';

const bucketOf = (at: string) => `date_bin('10 minutes', ${at}, 'epoch'::timestamptz)`;
// 7 days as hours, so that timestamptz arithmetic never meets a daylight saving change of the session's zone.
export const WEEK = `interval '168 hours'`;

// A time more than 7 days before (after) a changed time stands for −∞ (+∞): a gap from it to the changed time, or
// across it, is long either way, and its start (end) is counted once before and once after the change, so it
// cancels. So E only needs the person's times within 7 days of the changed ones: one range read a person.

// E for a statement's events (`rows`), per person: every time of theirs from 7 days before their first time in the
// statement to 7 days after their last (one range read of the index), with the profile's last_active_at if in
// that range. A time is changed when the statement added its every row (removed its last one) and the profile
// does not hold it. People in key order: the profile and index reads then walk each index once.
const eventTimes = (rows: string, added: boolean) => `
g AS MATERIALIZED (SELECT team_id, user_id, at, count(*) AS n FROM ${rows} GROUP BY 1, 2, 3),
p AS MATERIALIZED (
  SELECT k.team_id, k.user_id, k.lo, k.hi, q.seen
    FROM (SELECT team_id, user_id, min(at) - ${WEEK} AS lo, max(at) + ${WEEK} AS hi FROM g GROUP BY 1, 2
          ORDER BY 1, 2) k
    LEFT JOIN LATERAL (SELECT q.last_active_at AS seen FROM profiles q
       WHERE q.team_id = k.team_id AND q.id = k.user_id OFFSET 0) q ON true),
r AS (
  SELECT p.team_id, p.user_id, i.at, count(*) AS n FROM p CROSS JOIN LATERAL (SELECT i.at FROM interactions i
     WHERE i.team_id = p.team_id AND i.user_id = p.user_id AND i.at >= p.lo AND i.at <= p.hi OFFSET 0) i
   GROUP BY 1, 2, 3),
e AS (
  SELECT team_id, user_id, at, bool_and(changed) AS changed FROM (
    SELECT coalesce(r.team_id, g.team_id) AS team_id, coalesce(r.user_id, g.user_id) AS user_id,
           coalesce(r.at, g.at) AS at, ${added ? 'coalesce(r.n = g.n, false)' : 'r.n IS NULL'} AS changed
      FROM r FULL JOIN g ON g.team_id = r.team_id AND g.user_id = r.user_id AND g.at = r.at
    UNION ALL SELECT team_id, user_id, seen, false FROM p WHERE seen >= lo AND seen <= hi) x
   GROUP BY 1, 2, 3)`;

// E for profiles' last_active_at (`rows` has team_id, id, last_active_at; one row a person): the changed time
// (unless an event lies at it) and the person's events within 7 days of it.
const seenTimes = (rows: string) => `
c (team_id, user_id, at) AS MATERIALIZED (
  SELECT r.team_id, r.id, r.last_active_at FROM ${rows} r WHERE r.last_active_at IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM interactions i WHERE i.team_id = r.team_id AND i.user_id = r.id AND i.at = r.last_active_at)),
e AS (
  SELECT c.team_id, c.user_id, c.at, true AS changed FROM c
  UNION SELECT c.team_id, c.user_id, i.at, false FROM c CROSS JOIN LATERAL (SELECT i.at FROM interactions i
     WHERE i.team_id = c.team_id AND i.user_id = c.user_id AND i.at >= c.at - ${WEEK} AND i.at <= c.at + ${WEEK}
     OFFSET 0) i)`;

/**
 * The statement that applies the gaps that appear or disappear around the changed times of E (`times`: CTEs ending
 * in `e` (team_id, user_id, at, changed), from eventTimes or seenTimes): `added` when they were added, else removed.
 * See the file's comment.
 */
const applyEdges = (times: string, added: boolean) => {
  const sign = added ? 1 : -1;
  return `
WITH ${times},
o AS MATERIALIZED (
  SELECT team_id, user_id, at, changed, lag(at) OVER w AS prev_at, lag(changed) OVER w AS prev_changed,
         lead(at) OVER w AS next_at, count(*) FILTER (WHERE NOT changed) OVER (w ROWS UNBOUNDED PRECEDING) AS grp
    FROM e WINDOW w AS (PARTITION BY team_id, user_id ORDER BY at)),
-- The gaps with a changed end (NULL is −∞ or +∞: a changed time's neighbour would be in E).
touched AS (
  SELECT team_id, prev_at AS l, at AS r FROM o WHERE changed OR coalesce(prev_changed, false)
  UNION ALL SELECT team_id, at, NULL FROM o WHERE changed AND next_at IS NULL),
-- The gaps between unchanged times with changed ones inside: one per group of changed times.
spanned AS (
  SELECT k.team_id, lo.at AS l, hi.at AS r
    FROM (SELECT DISTINCT team_id, user_id, grp FROM o WHERE changed) k
    LEFT JOIN o lo ON lo.team_id = k.team_id AND lo.user_id = k.user_id AND NOT lo.changed AND lo.grp = k.grp
    LEFT JOIN o hi ON hi.team_id = k.team_id AND hi.user_id = k.user_id AND NOT hi.changed AND hi.grp = k.grp + 1),
long AS (
  SELECT team_id, l, r, s FROM (SELECT *, ${sign} AS s FROM touched UNION ALL SELECT *, ${-sign} FROM spanned) g
   WHERE l IS NULL OR r IS NULL OR r > l + ${WEEK})
INSERT INTO week_edges AS w (team_id, bucket, starts, ends)
SELECT team_id, bucket, sum(st), sum(en) FROM (
  SELECT team_id, ${bucketOf('l')} AS bucket, s AS st, 0 AS en FROM long WHERE l IS NOT NULL
  UNION ALL SELECT team_id, ${bucketOf('r')}, 0, s FROM long WHERE r IS NOT NULL) d
 GROUP BY 1, 2 HAVING sum(st) <> 0 OR sum(en) <> 0 ORDER BY 1, 2
ON CONFLICT (team_id, bucket) DO UPDATE SET starts = w.starts + EXCLUDED.starts, ends = w.ends + EXCLUDED.ends`;
};

// Every start and end of the rows `where` selects, from scratch (a window over each person's distinct times).
const recount = (where: string) => `
INSERT INTO week_edges (team_id, bucket, starts, ends)
SELECT team_id, bucket, sum(st), sum(en) FROM (
  SELECT team_id, ${bucketOf('at')} AS bucket, (nxt IS NULL OR nxt > at + ${WEEK})::int AS st,
         (prv IS NULL OR prv < at - ${WEEK})::int AS en
    FROM (SELECT team_id, at, lag(at) OVER w AS prv, lead(at) OVER w AS nxt
            FROM (SELECT team_id, user_id, at FROM interactions WHERE ${where}
                  UNION SELECT team_id, id, last_active_at FROM profiles WHERE ${where} AND last_active_at IS NOT NULL) t
          WINDOW w AS (PARTITION BY team_id, user_id ORDER BY at)) x) y
 WHERE st > 0 OR en > 0 GROUP BY 1, 2`;

// An update's profiles whose last_active_at moved, as `side` has them: the old time goes (to the person's events
// alone), then the new one comes (to their events).
const MOVED = (side: string, other: string) => `(SELECT s.team_id, s.id, s.last_active_at FROM ${side} s
    JOIN ${other} o ON o.team_id = s.team_id AND o.id = s.id WHERE s.last_active_at IS DISTINCT FROM o.last_active_at)`;

/**
 * Migration 22: the table, the index on (team, person, time) that finds a person's neighbouring events (it
 * replaces the (team, person) index, which it serves too), the triggers, and the slices from the rows there are.
 */
export const WEEK_EDGES_SQL = `
-- For the rest of the migration's transaction: the index build and the recount's per-person sort in memory.
SET LOCAL maintenance_work_mem = '512MB';
SET LOCAL work_mem = '256MB';
CREATE TABLE week_edges (
  team_id text NOT NULL,
  bucket  timestamptz NOT NULL,
  starts  bigint NOT NULL,
  ends    bigint NOT NULL,
  PRIMARY KEY (team_id, bucket)
) WITH (fillfactor = 70);
CREATE INDEX interactions_by_user_at ON interactions (team_id, user_id, at);
DROP INDEX interactions_by_user;
${fn('week_edges_added', applyEdges(eventTimes('added', true), true))}
${fn('week_edges_removed', applyEdges(eventTimes('removed', false), false))}
${statementTrigger('week_edges_added', 'INSERT', 'interactions')}
${statementTrigger('week_edges_removed', 'DELETE', 'interactions')}
${fn('week_edges_profiles_added', applyEdges(seenTimes('added'), true))}
${fn('week_edges_profiles_removed', applyEdges(seenTimes('removed'), false))}
${fn(
  'week_edges_profiles_changed',
  `${applyEdges(seenTimes(MOVED('removed', 'added')), false)};
  ${applyEdges(seenTimes(MOVED('added', 'removed')), true)}`,
)}
${statementTrigger('week_edges_profiles_added', 'INSERT', 'profiles')}
${statementTrigger('week_edges_profiles_removed', 'DELETE', 'profiles')}
${statementTrigger('week_edges_profiles_changed', 'UPDATE', 'profiles')}
${recount('team_id IS NOT NULL')};
`;

// Migration 23: a large insert recounts the slices it can change instead of applying each changed time's gaps.
// Only times within 7 days of an added one change start or end (see the file's comment), so the slices from 7 days
// before the statement's first event to 7 days after its last are recounted from every person's times there, each
// with its neighbours up to 7 days beyond (a farther one counts as none). That is one read of the span's events and
// profiles, one sort and one window pass, against the delta's per-person range reads, full join and self-joins
// over the same rows: 1M events of 385k people into 2M / 20M, the delta 64-73 s, the recount 11-18 s (load 5-7).
// Taken when the span's stored events (interaction_days, the statement's included) are at most RECOUNT_RATIO
// times the statement's: a small insert into a large history keeps the delta, which reads only its people.
// Repeated times need no DISTINCT: of k equal times the first carries the end and the last the start, as one would.
const RECOUNT_RATIO = 8;
const recountSpan = (team: string, lo: string, hi: string) => `
  DELETE FROM week_edges WHERE team_id = ${team} AND bucket >= ${lo} AND bucket < ${hi};
  INSERT INTO week_edges (team_id, bucket, starts, ends)
  SELECT ${team}, bucket, sum(st), sum(en) FROM (
    SELECT ${bucketOf('at')} AS bucket, (nxt IS NULL OR nxt > at + ${WEEK})::int AS st,
           (prv IS NULL OR prv < at - ${WEEK})::int AS en
      FROM (SELECT at, lag(at) OVER w AS prv, lead(at) OVER w AS nxt
              FROM (SELECT user_id COLLATE "C" AS user_id, at FROM interactions
                     WHERE team_id = ${team} AND at >= ${lo} - ${WEEK} AND at < ${hi} + ${WEEK}
                    UNION ALL SELECT id, last_active_at FROM profiles
                     WHERE team_id = ${team} AND last_active_at >= ${lo} - ${WEEK} AND last_active_at < ${hi} + ${WEEK}) t
            WINDOW w AS (PARTITION BY user_id ORDER BY at)) x
     WHERE at >= ${lo} AND at < ${hi}) y
   WHERE st > 0 OR en > 0 GROUP BY bucket ORDER BY bucket`;

/** Migration 23 (see above): the insert trigger on interactions recounts its span when that is cheaper. */
export const WEEK_EDGES_SPAN_SQL = `
CREATE OR REPLACE FUNCTION week_edges_added() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE span_team text; span_lo timestamptz; span_hi timestamptz; span_rows bigint; near numeric;
BEGIN
  -- One workspace (an import's statement always is); otherwise, or for an empty statement, the delta.
  SELECT min(team_id), min(at), max(at), count(*) INTO span_team, span_lo, span_hi, span_rows FROM added HAVING min(team_id) = max(team_id);
  IF span_team IS NOT NULL THEN
    span_lo := ${bucketOf(`span_lo - ${WEEK}`)};
    span_hi := ${bucketOf(`span_hi + ${WEEK}`)} + interval '10 minutes';
    SELECT coalesce(sum(events), 0) INTO near FROM interaction_days WHERE team_id = span_team
       AND day >= ((span_lo - ${WEEK}) AT TIME ZONE 'UTC')::date AND day <= ((span_hi + ${WEEK}) AT TIME ZONE 'UTC')::date;
    IF near <= ${RECOUNT_RATIO} * span_rows THEN
      ${recountSpan('span_team', 'span_lo', 'span_hi')};
      RETURN NULL;
    END IF;
  END IF;
  ${applyEdges(eventTimes('added', true), true)};
  RETURN NULL;
END $$;
`;

/** Recounts one workspace's `week_edges` from its interactions: after a load that bypassed the triggers. */
export async function rebuildWeekEdges(db: Queryable, team: string): Promise<void> {
  await db.query('DELETE FROM week_edges WHERE team_id = $1', [team]);
  await db.query(recount('team_id = $1'), [team]);
}

// A person's times in [from, to): events, and the profile's last_active_at.
const timesIn = (from: string, to: string) => `(
  SELECT user_id, at FROM interactions WHERE team_id = $1 AND at >= ${from} AND at < ${to}
  UNION SELECT id, last_active_at FROM profiles WHERE team_id = $1 AND last_active_at >= ${from} AND last_active_at < ${to})`;
// No other time of the person x in the range `cond` gives around x.at.
const noneWithin = (cond: (at: string) => string) => `
  NOT EXISTS (SELECT 1 FROM interactions j WHERE j.team_id = $1 AND j.user_id = x.user_id AND ${cond('j.at')})
  AND NOT EXISTS (SELECT 1 FROM profiles q WHERE q.team_id = $1 AND q.id = x.user_id AND ${cond('q.last_active_at')})`;

/**
 * The people with an event or a profile seen in [$2, $3) (a week: $3 = $2 + 7 d), from the slices from $4 = the
 * first slice at or after $2 on, plus the starts among the times of [$2, $4) and the ends among those of [$3, $5)
 * ($5 = the first slice at or after $3), each checked against the person's neighbouring times.
 */
export const WEEK_PEOPLE = `(
  SELECT coalesce(sum(starts), 0) - coalesce(sum(ends) FILTER (WHERE bucket >= $5), 0)
    FROM week_edges WHERE team_id = $1 AND bucket >= $4)
  + (SELECT count(*) FROM ${timesIn('$2', '$4')} x
      WHERE ${noneWithin((at) => `${at} > x.at AND ${at} <= x.at + ${WEEK}`)})
  - (SELECT count(*) FROM ${timesIn('$3', '$5')} x
      WHERE ${noneWithin((at) => `${at} < x.at AND ${at} >= x.at - ${WEEK}`)})`;
