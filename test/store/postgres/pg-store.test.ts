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

  it('lets one process per workspace take the writer lock, and frees it when that process lets go', async () => {
    const first = await open('T0LOCK');
    const second = await open('T0LOCK');
    const otherTeam = await open('T0OTHER');
    await first.claimWrites();
    await first.claimWrites();
    const refused = await second.claimWrites().catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'locked' });
    expect((refused as Error).message).toMatch(
      /already running for workspace T0LOCK .* would send every digest twice/,
    );
    await otherTeam.claimWrites();
    await first.close();
    await second.claimWrites();
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
