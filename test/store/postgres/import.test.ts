import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { importFile } from '../../../src/import/importer.ts';
import { openPgStore, type PgStore } from '../../../src/store/postgres/pg-store.ts';
import type { Store } from '../../../src/store/store.ts';
import { describePostgres, usePostgresSchema } from '../../support/postgres.ts';
import { makeTempDir } from '../helpers.ts';

const NOW = new Date(Date.UTC(2026, 2, 2, 9));

describePostgres('imports into PostgreSQL (the importer unchanged, the store behind it a database)', () => {
  const db = usePostgresSchema('import');
  let store: PgStore;
  let dir: { dir: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    store = await openPgStore({
      url: db.url,
      schema: db.schema,
      teamId: 'TIMPORT',
      onNotice: () => undefined,
    });
    dir = await makeTempDir();
  });
  afterAll(async () => {
    await store.close();
    await dir.cleanup();
  });
  // The importer is typed for the seam plus the file backend's deprecated access, which it no longer uses.
  const run = async (kind: 'profiles' | 'products' | 'interactions', name: string, text: string) => {
    const file = path.join(dir.dir, name);
    await writeFile(file, text);
    return importFile(store as unknown as Store, { kind, file, now: NOW, actor: 'U0ADMIN' });
  };

  it('applies nothing when a row is invalid, and names the rows as the file import does', async () => {
    const report = await run(
      'profiles',
      'bad.csv',
      'id,country,followers,tier\nu1,FR,10,gold\nu2,DE,many,silver\nu3,JP,-4,\n',
    );
    expect(report.applied).toBe(false);
    expect(report.errors.map((e) => [e.row, e.line, e.field])).toEqual([
      [2, 3, 'followers'],
      [3, 4, 'followers'],
    ]);
    expect(await store.audience.counts()).toEqual({ profiles: 0, products: 0, interactions: 0 });
    expect(await store.audience.version()).toBe(0);
  });

  it('applies a valid file in one transaction: rows, attribute kinds, the audit line, one new version', async () => {
    const report = await run(
      'profiles',
      'good.csv',
      'id,country,followers,tier\nu1,FR,10,gold\nu2,DE,,silver\n',
    );
    expect(report).toMatchObject({
      applied: true,
      inserted: 2,
      updated: 0,
      newAttributes: { tier: 'category' },
    });
    expect(await store.audience.profiles()).toMatchObject([
      { id: 'u1', country: 'FR', followers: 10, attrs: { tier: 'gold' } },
      { id: 'u2', country: 'DE', followers: null, attrs: { tier: 'silver' } },
    ]);
    expect(await store.audience.meta()).toMatchObject({
      dataVersion: 1,
      source: 'import',
      updatedAt: NOW.getTime(),
    });
    expect((await store.audit.entries()).map((a) => a.action)).toEqual(['import']);

    await run('products', 'products.csv', 'id,name,price\np1,Mug,12.5\n');
    const events = await run(
      'interactions',
      'events.csv',
      'user_id,item_id,type,timestamp,value\nu1,p1,purchase,2026-03-01T10:00:00Z,12.5\nu1,p1,purchase,2026-03-01T10:00:00Z,12.5\nu2,,view,2026-02-27T08:00:00Z,\n',
    );
    expect(events).toMatchObject({ applied: true, inserted: 2, duplicates: 1 });
    expect(await store.audience.interactions()).toEqual([
      { user_id: 'u1', item_id: 'p1', type: 'purchase', value: 12.5, timestamp: Date.UTC(2026, 2, 1, 10) },
      { user_id: 'u2', item_id: null, type: 'view', value: null, timestamp: Date.UTC(2026, 1, 27, 8) },
    ]);
    const again = await run('interactions', 'events.csv', 'user_id,type,timestamp\nghost,view,2026-03-01\n');
    expect(again.applied).toBe(false);
    expect(again.errors[0]).toMatchObject({ row: 1, field: 'user_id' });
  });
});
