import type pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type Claim,
  claimOccurrence,
  expiredClaims,
  finishOccurrence,
  releaseClaim,
  renewClaims,
  startPosting,
} from '../../../src/store/postgres/claims.ts';
import { connectPool } from '../../../src/store/postgres/connect.ts';
import { migrateSchema } from '../../../src/store/postgres/migrate.ts';
import { describePostgres, usePostgresSchema } from '../../support/postgres.ts';

const TEAM = 'T0CLAIMS';
const LONG = 60_000;
const keys = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}:2026-03-${i}`);

describePostgres('digest occurrence claims (exactly once across replicas)', () => {
  const db = usePostgresSchema('claims');
  // Two replicas: each its own pool, as two processes would have.
  let a: pg.Pool;
  let b: pg.Pool;
  beforeAll(async () => {
    a = await connectPool({ url: db.url, schema: db.schema, maxConnections: 4 });
    b = await connectPool({ url: db.url, schema: db.schema, maxConnections: 4 });
    await migrateSchema(a, 'test');
  });
  afterAll(async () => {
    await Promise.all([a.end(), b.end()]);
  });

  const claim = (pool: pg.Pool, holder: string, key: string, leaseMs = LONG, team = TEAM) =>
    claimOccurrence(pool, team, { key, scheduleId: key.split(':')[0] ?? '', holder, leaseMs });

  it('gives each of 200 occurrences due together to exactly one of two racing replicas', async () => {
    const due = keys('race', 200);
    const [wonByA, wonByB] = await Promise.all(
      [
        [a, 'replica-a'],
        [b, 'replica-b'],
      ].map(async ([pool, holder]) => {
        const won = await Promise.all(due.map((k) => claim(pool as pg.Pool, holder as string, k)));
        return won.filter((c): c is Claim => c !== null).map((c) => c.key);
      }),
    );
    expect([...(wonByA ?? []), ...(wonByB ?? [])].sort()).toEqual([...due].sort());
    expect(new Set([...(wonByA ?? []), ...(wonByB ?? [])]).size).toBe(200);
  });

  it('never hands out a live or a finished claim, and keeps workspaces apart', async () => {
    const live = await claim(a, 'replica-a', 'live:1');
    expect(live).toMatchObject({ attempt: 1, mayHavePosted: false });
    expect(await claim(b, 'replica-b', 'live:1')).toBeNull();
    expect(await claim(b, 'replica-b', 'live:1', LONG, 'T0OTHER')).not.toBeNull();
    const finished = (await claim(a, 'replica-a', 'done:1', 1)) as Claim;
    expect(await finishOccurrence(a, TEAM, finished)).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(await claim(b, 'replica-b', 'done:1')).toBeNull();
  });

  it('lets another replica finish what a dead one claimed, and fences the dead one out if it comes back', async () => {
    // Long enough that, on a loaded machine, the survivor's first try still falls inside the last claim's lease.
    const lease = 1500;
    const left = keys('dead', 50);
    const dying = await Promise.all(left.map((k) => claim(a, 'replica-dead', k, lease)));
    expect(dying.every((c) => c !== null)).toBe(true);
    // The survivor tries at every tick; the claims come free once their lease runs out, not before.
    expect(await claim(b, 'replica-b', left.at(-1) as string)).toBeNull();
    let taken: Claim[] = [];
    while (taken.length < left.length) {
      await new Promise((r) => setTimeout(r, 100));
      const open = await expiredClaims(b, TEAM);
      const tries = await Promise.all(
        open.filter((o) => o.key.startsWith('dead:')).map((o) => claim(b, 'replica-b', o.key)),
      );
      taken = taken.concat(tries.filter((c): c is Claim => c !== null));
    }
    expect(taken.map((c) => c.key).sort()).toEqual([...left].sort());
    expect(taken.every((c) => c.attempt === 2 && !c.mayHavePosted)).toBe(true);
    // The first holder wakes up: it may not post, nor record an outcome.
    expect(await startPosting(a, TEAM, dying[0] as Claim, LONG)).toBe(false);
    expect(await finishOccurrence(a, TEAM, dying[0] as Claim)).toBe(false);
    expect(await startPosting(b, TEAM, taken[0] as Claim, LONG)).toBe(true);
    expect(await finishOccurrence(b, TEAM, taken[0] as Claim)).toBe(true);
  });

  it('flags a takeover after the holder started posting, keeps renewed claims, frees released ones', async () => {
    const renewed = (await claim(a, 'replica-a', 'renewed:1', 1)) as Claim;
    expect(await renewClaims(a, TEAM, 'replica-a', LONG, [renewed.key])).toBe(1);
    // Then replica-a starts posting with a lease that runs out at once: as if it died mid-post.
    const posting = (await claim(a, 'replica-a', 'posting:1', LONG)) as Claim;
    expect(await startPosting(a, TEAM, posting, 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(await claim(b, 'replica-b', 'posting:1')).toMatchObject({ attempt: 2, mayHavePosted: true });
    expect(await claim(b, 'replica-b', renewed.key)).toBeNull();
    const released = (await claim(a, 'replica-a', 'released:1')) as Claim;
    await releaseClaim(a, TEAM, released);
    expect(await claim(b, 'replica-b', 'released:1')).toMatchObject({ attempt: 2, mayHavePosted: false });
  });

  it('renews only the claims its holder is still working on; one it gave up on lapses', async () => {
    const working = (await claim(a, 'replica-w', 'working:1', 200)) as Claim;
    const dropped = (await claim(a, 'replica-w', 'dropped:1', 200)) as Claim;
    expect(await renewClaims(a, TEAM, 'replica-w', LONG, [working.key])).toBe(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(await claim(b, 'replica-b', working.key)).toBeNull();
    expect(await claim(b, 'replica-b', dropped.key)).toMatchObject({ attempt: 2, mayHavePosted: false });
    expect(await renewClaims(a, TEAM, 'replica-w', LONG, [])).toBe(0);
  });

  it('renews without waiting on a claim whose outcome a save of the same replica is writing', async () => {
    // The save closes occurrences one statement at a time and holds their rows to commit; a heartbeat that
    // waited for them while holding the rest deadlocked with it (CI, two replicas, 200 digests).
    const mine = keys('saving', 3);
    for (const k of mine) await claim(a, 'replica-s', k);
    const save = await b.connect();
    try {
      await save.query('BEGIN');
      await save.query(`UPDATE digest_occurrences SET state = 'done' WHERE team_id = $1 AND key = $2`, [
        TEAM,
        mine[1],
      ]);
      const renewal = renewClaims(a, TEAM, 'replica-s', LONG, mine);
      const waited = await Promise.race([
        renewal.then(() => false),
        new Promise<boolean>((r) => setTimeout(() => r(true), 2_000)),
      ]);
      expect(waited).toBe(false);
      expect(await renewal).toBe(2);
      // The save, holding its row, now closes another: no lock of the heartbeat is in its way.
      await save.query(`UPDATE digest_occurrences SET state = 'done' WHERE team_id = $1 AND key = $2`, [
        TEAM,
        mine[2],
      ]);
      await save.query('COMMIT');
    } finally {
      save.release();
    }
    expect(await renewClaims(a, TEAM, 'replica-s', LONG, mine)).toBe(1);
  });
});
