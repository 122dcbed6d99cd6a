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

  it('streams events in: unknown people and products found by the database keep their rows, and one rolls all back', async () => {
    const before = await store.audience.counts();
    const version = await store.audience.version();
    const lines = ['user_id,item_id,type,timestamp,value'];
    for (let n = 1; n <= 5000; n++)
      lines.push(
        `u${(n % 2) + 1},p1,view,2026-03-0${(n % 9) + 1}T10:00:${String(n % 60).padStart(2, '0')}.${String(n % 1000).padStart(3, '0')}Z,`,
      );
    lines[1200] = 'ghost,p1,view,2026-03-01T10:00:00Z,'; // row 1200 (line 1201): unknown person
    lines[3000] = 'u1,p404,like,2026-03-01T10:00:00Z,'; // row 3000: unknown product
    lines[3001] = 'nobody,p404,like,2026-03-01T10:00:00Z,'; // row 3001: both
    lines[4000] = 'u1,p1,rating,2026-03-01T10:00:00Z,11'; // row 4000: invalid in the app
    lines[2500] = lines[2499] as string; // row 2500 repeats row 2499
    const text = `${lines.join('\n')}\n`;
    const refused = await run('interactions', 'many.csv', text);
    expect(refused.applied).toBe(false);
    expect(refused.errors.map((e) => [e.row, e.line, e.field])).toEqual([
      [1200, 1201, 'user_id'],
      [3000, 3001, 'item_id'],
      [3001, 3002, 'user_id'],
      [3001, 3002, 'item_id'],
      [4000, 4001, 'value'],
    ]);
    expect(refused.errors[0]?.message).toBe('unknown user_id "ghost": import profiles first');
    expect(refused).toMatchObject({ rows: 5000, valid: 4996, errorCount: 5 });
    // All or nothing: not one of the 4996 valid rows, no version, no audit line.
    expect(await store.audience.counts()).toEqual(before);
    expect(await store.audience.version()).toBe(version);

    const few = await importFile(store as unknown as Store, {
      kind: 'interactions',
      file: path.join(dir.dir, 'many.csv'),
      now: NOW,
      maxErrors: 2,
    });
    expect(few.errors.map((e) => e.row)).toEqual([1200, 3000]);
    expect(few.errorCount).toBe(5);

    const skipping = await importFile(store as unknown as Store, {
      kind: 'interactions',
      file: path.join(dir.dir, 'many.csv'),
      now: NOW,
      skipInvalid: true,
    });
    // 4996 valid rows, one a repeat within the file; none was stored before.
    const distinct = new Set(lines.slice(1).filter((_, i) => ![1199, 2999, 3000, 3999].includes(i)));
    expect(skipping).toMatchObject({ applied: true, valid: 4996, inserted: distinct.size });
    expect(distinct.size).toBe(4995);
    expect(skipping.duplicates).toBe(1);
    expect((await store.audience.counts()).interactions).toBe(before.interactions + distinct.size);
    expect(await store.audience.version()).toBe(version + 1);
  });

  it('numbers the rows the database rejects as the file backend does for NDJSON lines and JSON records', async () => {
    const version = await store.audience.version();
    const ndjson = await run(
      'interactions',
      'events.ndjson',
      '{"user_id":"u1","type":"view","timestamp":"2026-03-04T00:00:00Z"}\n\n{"user_id":"ghost","type":"view","timestamp":"2026-03-04T00:00:01Z"}\n',
    );
    expect(ndjson.errors.map((e) => [e.row, e.line, e.field])).toEqual([[3, 3, 'user_id']]);
    const json = await run(
      'interactions',
      'events.json',
      '[{"user_id":"u1","type":"view","timestamp":1772582400},{"user_id":"u2","item_id":"nope","type":"view","timestamp":1772582401}]',
    );
    expect(json.errors.map((e) => [e.row, e.line, e.field])).toEqual([[2, undefined, 'item_id']]);
    expect([ndjson.applied, json.applied]).toEqual([false, false]);
    expect(await store.audience.version()).toBe(version);
  });

  it('rolls back and stays usable when the file breaks while its rows stream in', async () => {
    const before = await store.audience.counts();
    const rows = Array.from(
      { length: 3000 },
      (_, n) => `u1,p1,click,2026-03-02T10:${String(n % 60).padStart(2, '0')}:00Z,`,
    );
    const text = `user_id,item_id,type,timestamp,value\n${rows.join('\n')}\nu1,p1,"click,2026-03-02T11:00:00Z,\n`;
    await expect(run('interactions', 'broken.csv', text)).rejects.toThrow(/never closed/);
    expect(await store.audience.counts()).toEqual(before);
    const ok = await run(
      'interactions',
      'fine.csv',
      'user_id,type,timestamp\nu2,share,2026-03-03T00:00:00Z\n',
    );
    expect(ok).toMatchObject({ applied: true, inserted: 1 });
  });
});
