import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateSample } from '../../../src/sample/generate.ts';
import type { SeamStore } from '../../../src/store/postgres/pg-store.ts';
import { transferStore } from '../../../src/store/postgres/transfer.ts';
import { describePostgres, usePostgresSchema } from '../../support/postgres.ts';
import { fileBackend, postgresBackend } from '../../support/store-backends.ts';

const NOW = new Date(Date.UTC(2026, 2, 2, 9));

describePostgres('moving an audience between the data file and PostgreSQL', () => {
  const postgres = postgresBackend(usePostgresSchema('transfer'));
  const cleanups: Array<() => Promise<void>> = [];
  let file: SeamStore;
  beforeAll(async () => {
    const opened = await fileBackend.open();
    file = opened.store;
    cleanups.push(async () => {
      await opened.store.close();
      await opened.cleanup();
    });
    const sample = generateSample({ profiles: 300, seed: 7, end: NOW });
    await file.change(async (tx) => {
      await tx.replaceAudience(sample);
      await tx.addSegmentRun(
        {
          id: 'run_1',
          created_at: NOW.getTime(),
          data_version: 1,
          k: 2,
          features: ['recency'],
          scaling: 'zscore',
          names: ['A', 'B'],
          sizes: [1, 1],
          centroids: [[0], [1]],
          user_ids: sample.profiles.slice(0, 2).map((p) => p.id),
          labels: [0, 1],
        },
        5,
      );
      await tx.putDelivery({
        key: 'sch_1:2026-03-02',
        schedule_id: 'sch_1',
        status: 'delivered',
        at: 1,
        detail: null,
      });
      await tx.appendAudit({ at: NOW.getTime(), actor: 'U1', action: 'import', detail: 'profiles.csv' }, 10);
    });
  });
  afterAll(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const open = async (backend: typeof fileBackend) => {
    const opened = await backend.open();
    cleanups.push(async () => {
      await opened.store.close();
      await opened.cleanup();
    });
    return opened.store;
  };

  it('copies everything into the database, verified by row counts and checksums', async () => {
    const db = await open(postgres);
    const report = await transferStore(file, db, { now: NOW });
    expect(report.replaced).toBe(false);
    expect(report.collections.profiles.rows).toBe(300);
    expect(report.collections.interactions.rows).toBe((await file.audience.counts()).interactions);
    expect(report.collections.segmentRuns.rows).toBe(1);
    expect(await db.audience.profiles()).toEqual(await file.audience.profiles());
    expect(await db.audience.interactions()).toEqual(await file.audience.interactions());

    // Back into a new file: the same audience, the same checksums.
    const back = await open(fileBackend);
    const again = await transferStore(db, back);
    expect(again.collections).toEqual(report.collections);
    expect(await back.audience.snapshot()).toMatchObject({
      profiles: await file.audience.profiles(),
      products: await file.audience.products(),
      interactions: await file.audience.interactions(),
    });
  });

  it('refuses to overwrite a store that holds data, unless told to replace it', async () => {
    const db = await open(postgres);
    await transferStore(file, db);
    await expect(transferStore(file, db)).rejects.toMatchObject({ code: 'conflict' });
    await expect(transferStore(file, db)).rejects.toThrow(
      /already holds an audience; nothing was copied. Pass --replace/,
    );
    const replaced = await transferStore(file, db, { replace: true });
    expect(replaced.replaced).toBe(true);
    expect((await db.audience.counts()).profiles).toBe(300);
  });
});
