/**
 * The week before last without reading that week's events (migration 21): `stats` counts the people with an event
 * in [A, A + 7 d), A = asOf − 14 d, and that week holds a growing share of the audience (123k people at 2M / 20M).
 *
 * Take a person's distinct event times and the gaps between consecutive ones, with a gap from −∞ before the first
 * and one to +∞ after the last. The person has no event in [A, A + 7 d) exactly when one gap (l, r) spans it:
 * l < A and r ≥ A + 7 d, which needs r − l > 7 d (a *long* gap; the infinite ones are long). Call the finite left
 * end of a long gap a *start* and its finite right end an *end*. Then the people with an event in [A, A + 7 d) are
 * #{starts ≥ A} − #{ends ≥ A + 7 d}: a person's long gaps up to the first one with r ≥ A + 7 d have their start
 * before A, the later ones add one start and one end each, and that first one adds a start ≥ A exactly when the
 * person has an event in the week (its left end is then an event at or after A, and the person's events before
 * A + 7 d reach it in steps of at most 7 days).
 *
 * `week_edges` keeps, per workspace and 10-minute slice (like stats-buckets.ts), the starts and the ends in it, so
 * the count is two sums over the slices from A on plus the times of the two partial slices at A and A + 7 d (each
 * checked against the person's neighbouring event); rollup-stats.ts reads it.
 *
 * Upkeep (statement triggers on interactions, so imports, forget, retention and a sample load all keep it): a
 * statement adds or removes some distinct times (a time that still has, or already had, another row of the person
 * changes nothing). In the set E of those times and their neighbours in the table as it is after the statement
 * (two probes of `interactions_by_user_at` each), consecutive elements are neighbours in the before and after
 * states alike wherever one of them changed; so the gaps touching a changed time, and the gaps between the
 * unchanged elements that changed times sit in, are the only gaps that appear or disappear. An insert adds the
 * first and removes the second; a removal does the opposite. Each gap adds or removes its start and end if long.
 */

import type { Queryable } from './claims.ts';

const bucketOf = (at: string) => `date_bin('10 minutes', ${at}, 'epoch'::timestamptz)`;
// 7 days as hours, so that timestamptz arithmetic never meets a daylight saving change of the session's zone.
export const WEEK = `interval '168 hours'`;

// The changed distinct times of a statement's rows: new ones (every row at that time is the statement's) or gone.
const changedTimes = (rows: string, added: boolean) => `
  SELECT g.team_id, g.user_id, g.at FROM (SELECT team_id, user_id, at, count(*) AS n FROM ${rows} GROUP BY 1, 2, 3) g
   WHERE ${
     added
       ? `(SELECT count(*) FROM interactions i WHERE i.team_id = g.team_id AND i.user_id = g.user_id AND i.at = g.at) = g.n`
       : `NOT EXISTS (SELECT 1 FROM interactions i WHERE i.team_id = g.team_id AND i.user_id = g.user_id AND i.at = g.at)`
   }`;

// The person's neighbouring event times around c.at in the table as it is now (one index probe each way).
const NEIGHBOURS = `
  (SELECT i.at FROM interactions i WHERE i.team_id = c.team_id AND i.user_id = c.user_id AND i.at < c.at
    ORDER BY i.at DESC LIMIT 1)
  UNION ALL
  (SELECT i.at FROM interactions i WHERE i.team_id = c.team_id AND i.user_id = c.user_id AND i.at > c.at
    ORDER BY i.at LIMIT 1)`;

/**
 * The statement that applies the gaps a statement's rows (`rows`, a transition table) made appear or disappear:
 * `added` for an insert, else a removal. See the file's comment.
 */
const applyEdges = (rows: string, added: boolean) => {
  const sign = added ? 1 : -1;
  return `
WITH c AS MATERIALIZED (${changedTimes(rows, added)}),
e AS (
  SELECT team_id, user_id, at, bool_or(changed) AS changed FROM (
    SELECT team_id, user_id, at, true AS changed FROM c
    UNION ALL SELECT c.team_id, c.user_id, n.at, false FROM c CROSS JOIN LATERAL (${NEIGHBOURS}) AS n (at)) x
   GROUP BY 1, 2, 3),
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
            FROM (SELECT DISTINCT team_id, user_id, at FROM interactions WHERE ${where}) t
          WINDOW w AS (PARTITION BY team_id, user_id ORDER BY at)) x) y
 WHERE st > 0 OR en > 0 GROUP BY 1, 2`;

const fn = (name: string, body: string) => `
CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN ${body}; RETURN NULL; END $$;`;

/**
 * Migration 21: the table, the index on (team, person, time) that finds a person's neighbouring events (it
 * replaces the (team, person) index, which it serves too), the triggers, and the slices from the rows there are.
 */
export const WEEK_EDGES_SQL = `
CREATE TABLE week_edges (
  team_id text NOT NULL,
  bucket  timestamptz NOT NULL,
  starts  bigint NOT NULL,
  ends    bigint NOT NULL,
  PRIMARY KEY (team_id, bucket)
) WITH (fillfactor = 70);
CREATE INDEX interactions_by_user_at ON interactions (team_id, user_id, at);
DROP INDEX interactions_by_user;
${fn('week_edges_added', applyEdges('added', true))}
${fn('week_edges_removed', applyEdges('removed', false))}
CREATE TRIGGER week_edges_added AFTER INSERT ON interactions REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION week_edges_added();
CREATE TRIGGER week_edges_removed AFTER DELETE ON interactions REFERENCING OLD TABLE AS removed
  FOR EACH STATEMENT EXECUTE FUNCTION week_edges_removed();
${recount('team_id IS NOT NULL')};
`;

/** Recounts one workspace's `week_edges` from its interactions: after a load that bypassed the triggers. */
export async function rebuildWeekEdges(db: Queryable, team: string): Promise<void> {
  await db.query('DELETE FROM week_edges WHERE team_id = $1', [team]);
  await db.query(recount('team_id = $1'), [team]);
}

/**
 * The people with an event in [$2, $3) (a week: $3 = $2 + 7 d), from the slices from $4 = the first slice at or
 * after $2 on, plus the starts among the events of [$2, $4) and the ends among those of [$3, $5) ($5 = the first
 * slice at or after $3), each checked against the person's neighbouring event.
 */
export const WEEK_PEOPLE = `(
  SELECT coalesce(sum(starts), 0) - coalesce(sum(ends) FILTER (WHERE bucket >= $5), 0)
    FROM week_edges WHERE team_id = $1 AND bucket >= $4)
  + (SELECT count(*) FROM (SELECT DISTINCT user_id, at FROM interactions WHERE team_id = $1 AND at >= $2 AND at < $4) x
      WHERE NOT EXISTS (SELECT 1 FROM interactions j WHERE j.team_id = $1 AND j.user_id = x.user_id
                          AND j.at > x.at AND j.at <= x.at + ${WEEK}))
  - (SELECT count(*) FROM (SELECT DISTINCT user_id, at FROM interactions WHERE team_id = $1 AND at >= $3 AND at < $5) x
      WHERE NOT EXISTS (SELECT 1 FROM interactions j WHERE j.team_id = $1 AND j.user_id = x.user_id
                          AND j.at < x.at AND j.at >= x.at - ${WEEK}))`;
