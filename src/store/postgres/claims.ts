/**
 * Exactly-once digests across replicas: before a replica prepares or posts an occurrence it claims it, with one
 * atomic statement on `digest_occurrences` (primary key team_id + key). The database takes over the file lock's
 * role: any number of replicas run the scheduler, and for each occurrence exactly one of them wins.
 *
 * A claim is a lease (`claimed_until`, on the database's clock, so replicas' clocks need not agree). Its states:
 * - `claimed`: the holder is preparing the digest. If the holder dies, the lease runs out and the next replica
 *   to try takes it over (attempts + 1) and delivers it: nothing can have reached Slack yet.
 * - `posting`: the holder is about to post or posting (`startPosting`, fenced: a holder whose claim was taken
 *   over cannot get here). If the holder dies now the post may or may not have reached Slack; a takeover is
 *   still granted, marked `mayHavePosted`, so the new holder checks the channel before posting again (or
 *   records it as interrupted, as the file backend does).
 * - `done`: finished; the outcome is in `digest_deliveries`, written in the same transaction (`finish`).
 * Leases are renewed (`renew`) while work goes on, so only a dead replica's claims expire. The lease must be
 * shorter than the grace period (DIGEST_GRACE_HOURS), so a takeover still delivers in time.
 */
import type pg from 'pg';
import type { OccurrenceClaim } from '../store.ts';

/** A pool or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

/** A won claim (the storage interface's OccurrenceClaim). */
export type Claim = OccurrenceClaim;

/** What to claim, for whom and for how long. */
export interface ClaimRequest {
  key: string;
  scheduleId: string;
  /** Who claims: a replica id, unique per process (hostname, pid, random). */
  holder: string;
  leaseMs: number;
  /** A retry by hand: a finished occurrence may be claimed anew. */
  again?: boolean;
}

/**
 * Claims an occurrence: inserts the claim, or takes over one whose lease has run out and that is not done.
 * Returns null when another holder has it (or it is done). One statement, so two replicas racing for the
 * same key are ordered by the primary key's lock: exactly one gets a row back. A retry by hand (`again`) may
 * also reopen a finished one (its record failed, skipped or interrupted): two Retry presses on two replicas race
 * for the same row the same way, and the one that loses sees it claimed.
 */
export async function claimOccurrence(
  db: Queryable,
  teamId: string,
  req: ClaimRequest,
): Promise<Claim | null> {
  const { rows } = await db.query<{ attempts: number; state: string }>(
    `INSERT INTO digest_occurrences AS o (team_id, key, schedule_id, claimed_by, claimed_until, state)
     VALUES ($1, $2, $3, $4, clock_timestamp() + $5 * interval '1 millisecond', 'claimed')
     ON CONFLICT (team_id, key) DO UPDATE
       SET claimed_by = EXCLUDED.claimed_by, claimed_until = EXCLUDED.claimed_until,
           attempts = o.attempts + 1,
           -- A takeover keeps the state: one that was posting returns 'posting', hence mayHavePosted.
           state = CASE WHEN o.state = 'done' THEN 'claimed' ELSE o.state END
       WHERE (o.state <> 'done' AND o.claimed_until < clock_timestamp()) OR ($6 AND o.state = 'done')
     RETURNING o.attempts, o.state`,
    [teamId, req.key, req.scheduleId, req.holder, req.leaseMs, req.again === true],
  );
  const row = rows[0];
  if (!row) return null;
  const claim = {
    key: req.key,
    holder: req.holder,
    attempt: row.attempts,
    mayHavePosted: row.state === 'posting',
  };
  return req.again ? { ...claim, again: true } : claim;
}

/**
 * Marks a held claim as posting, right before the post; false when the claim is no longer ours (taken over
 * after our lease ran out): then we must not post.
 */
export async function startPosting(
  db: Queryable,
  teamId: string,
  claim: Claim,
  leaseMs: number,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE digest_occurrences
        SET state = 'posting', claimed_until = clock_timestamp() + $4 * interval '1 millisecond'
      WHERE team_id = $1 AND key = $2 AND claimed_by = $3 AND state <> 'done'`,
    [teamId, claim.key, claim.holder, leaseMs],
  );
  return rowCount === 1;
}

/**
 * Marks a claim done; call it in the transaction that records the delivery, so the outcome and the end of the
 * claim commit together. False when the claim was not ours any more (the caller rolls back).
 */
export async function finishOccurrence(db: Queryable, teamId: string, claim: Claim): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE digest_occurrences SET state = 'done'
      WHERE team_id = $1 AND key = $2 AND claimed_by = $3 AND state <> 'done'`,
    [teamId, claim.key, claim.holder],
  );
  return rowCount === 1;
}

/**
 * Extends the open claims of `holder` on `keys` (the occurrences it is working on) by `leaseMs` from now: the
 * heartbeat of a live replica; returns how many. A claim it holds but no longer works on (its batch gave up on
 * it) is left to lapse, so whoever ticks next takes it over. Rows another transaction holds are skipped, not
 * waited for: that transaction is this replica's own save of their outcome (which ends the claim), and waiting
 * while holding the others' locks deadlocked with it.
 */
export async function renewClaims(
  db: Queryable,
  teamId: string,
  holder: string,
  leaseMs: number,
  keys: readonly string[],
): Promise<number> {
  if (keys.length === 0) return 0;
  const { rowCount } = await db.query(
    `UPDATE digest_occurrences o SET claimed_until = clock_timestamp() + $3 * interval '1 millisecond'
       FROM (SELECT key FROM digest_occurrences
              WHERE team_id = $1 AND key = ANY($4::text[]) AND claimed_by = $2 AND state <> 'done'
              ORDER BY key FOR UPDATE SKIP LOCKED) mine
      WHERE o.team_id = $1 AND o.key = mine.key`,
    [teamId, holder, leaseMs, keys],
  );
  return rowCount ?? 0;
}

/** Gives up a claim that was not posted (content failed, shutting down), so another replica may take it at once. */
export async function releaseClaim(db: Queryable, teamId: string, claim: Claim): Promise<void> {
  // A retry's claim goes back to finished: an abandoned one would be due again to every scheduler.
  await db.query(
    `UPDATE digest_occurrences SET claimed_until = '-infinity', state = CASE WHEN $4 THEN 'done' ELSE state END
      WHERE team_id = $1 AND key = $2 AND claimed_by = $3 AND state = 'claimed'`,
    [teamId, claim.key, claim.holder, claim.again === true],
  );
}

/** Claims whose holder's lease has run out without finishing: the work a dead replica left. */
export async function expiredClaims(
  db: Queryable,
  teamId: string,
): Promise<Array<{ key: string; scheduleId: string; state: 'claimed' | 'posting' }>> {
  const { rows } = await db.query<{ key: string; schedule_id: string; state: 'claimed' | 'posting' }>(
    `SELECT key, schedule_id, state FROM digest_occurrences
      WHERE team_id = $1 AND state <> 'done' AND claimed_until < clock_timestamp() ORDER BY key`,
    [teamId],
  );
  return rows.map((r) => ({ key: r.key, scheduleId: r.schedule_id, state: r.state }));
}

/**
 * Ends the open claim of an occurrence whose final record is being written (delivered, failed, skipped), in
 * that record's transaction: whoever records the outcome, the occurrence is not due to anyone any more.
 */
export async function closeOccurrence(db: Queryable, teamId: string, key: string): Promise<void> {
  await db.query(
    `UPDATE digest_occurrences SET state = 'done' WHERE team_id = $1 AND key = $2 AND state <> 'done'`,
    [teamId, key],
  );
}
