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

  it('leaves out events already stored, counts them alike in a dry run, and writes nothing when all are', async () => {
    const text =
      'user_id,item_id,type,timestamp,value\n' +
      'u1,p1,purchase,2026-03-01T10:00:00Z,12.5\n' + // stored by the test above
      'u2,,like,2026-03-01T11:00:00.250Z,\n' +
      'u2,,like,2026-03-01T11:00:00.250Z,\n' + // repeated within the file
      'u2,,view,2026-02-27T08:00:00Z,\n' + // stored
      'u1,p9,view,2026-03-01T12:00:00Z,\n'; // unknown product
    const file = path.join(dir.dir, 'more.csv');
    await writeFile(file, text);
    const dry = await importFile(store as unknown as Store, {
      kind: 'interactions',
      file,
      now: NOW,
      dryRun: true,
      skipInvalid: true,
    });
    expect(dry).toMatchObject({ applied: false, inserted: 1, duplicates: 3, errorCount: 1 });
    expect(dry.errors[0]).toMatchObject({ row: 5, line: 6, field: 'item_id' });
    const version = await store.audience.version();
    const audits = (await store.audit.entries()).length;
    const real = await run('interactions', 'more.csv', text);
    expect(real).toMatchObject({ applied: false, errorCount: 1 }); // all or nothing: the bad row refuses it
    const skipping = await importFile(store as unknown as Store, {
      kind: 'interactions',
      file,
      now: NOW,
      skipInvalid: true,
      actor: 'U0ADMIN',
    });
    expect(skipping).toMatchObject({ applied: true, inserted: 1, duplicates: 3 });
    expect(await store.audience.version()).toBe(version + 1);
    expect((await store.audience.counts()).interactions).toBe(3);
    expect((await store.audit.entries()).at(-1)?.detail).toMatch(/1 new/);
    // Everything in it is stored now: no change, no audit line, the same version.
    const repeat = await importFile(store as unknown as Store, {
      kind: 'interactions',
      file,
      now: NOW,
      skipInvalid: true,
      actor: 'U0ADMIN',
    });
    expect(repeat).toMatchObject({ applied: false, inserted: 0, duplicates: 4 });
    expect(await store.audience.version()).toBe(version + 1);
    expect((await store.audit.entries()).length).toBe(audits + 1);
  });
});
