import { afterAll, expect, it } from 'vitest';
import { openPgStore, type PgStore } from '../../../src/store/postgres/pg-store.ts';
import { describePostgres, usePostgresSchema } from '../../support/postgres.ts';

describePostgres('the PostgreSQL store (what the storage contract does not cover)', () => {
  const db = usePostgresSchema('pgstore');
  const opened: PgStore[] = [];
  const open = async (teamId: string) => {
    const store = await openPgStore({ url: db.url, schema: db.schema, teamId, onNotice: () => undefined });
    opened.push(store);
    return store;
  };
  afterAll(async () => {
    await Promise.all(opened.map((s) => s.close()));
  });

  it('lets several processes of one workspace write (replicas), their changes serialized', async () => {
    const first = await open('T0LOCK');
    const second = await open('T0LOCK');
    await first.claimWrites();
    await second.claimWrites();
    const schedule = (id: string) => ({
      id,
      owner_id: 'U1',
      channel_id: 'C1',
      cadence: 'daily' as const,
      weekdays: [],
      local_time: '09:00',
      time_zone: 'UTC',
      options: {},
      paused: false,
      last_error: null,
      created_at: 0,
    });
    await Promise.all([
      first.change(async (tx) => tx.addSchedule(schedule('a'))),
      second.change(async (tx) => tx.addSchedule(schedule('b'))),
    ]);
    expect((await first.digests.schedules()).map((s) => s.id).sort()).toEqual(['a', 'b']);
  });

  it('reports the location without credentials and refuses changes once closed', async () => {
    const store = await open('T0CLOSED');
    expect(store.location).not.toMatch(/@/);
    await store.close();
    await expect(store.change(async () => undefined)).rejects.toMatchObject({ code: 'closed' });
  });

  it('refuses a database it cannot reach, saying what to check', async () => {
    const failure = await openPgStore({
      url: 'postgres://nobody:secret@127.0.0.1:1/none',
      teamId: 'T1',
    }).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'unreadable' });
    expect((failure as Error).message).toMatch(
      /Cannot reach PostgreSQL at postgres:\/\/127\.0\.0\.1:1\/none: .*Check DATABASE_URL/,
    );
    expect((failure as Error).message).not.toMatch(/secret/);
  });
});
