import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateSample } from '../../../src/sample/generate.ts';
import { transferStore } from '../../../src/store/postgres/transfer.ts';
import type { Store } from '../../../src/store/store.ts';
import { describePostgres, usePostgresSchema } from '../../support/postgres.ts';
import { fileBackend, postgresBackend } from '../../support/store-backends.ts';

const NOW = new Date(Date.UTC(2026, 2, 2, 9));

describePostgres('moving an audience between the data file and PostgreSQL', () => {
  const postgres = postgresBackend(usePostgresSchema('transfer'));
  const cleanups: Array<() => Promise<void>> = [];
  let file: Store;
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
      await tx.putConnection({
        id: 'store',
        kind: 'shopify',
        owner_id: 'U1',
        settings: { shop: 'acme.myshopify.com' },
        base_url: null,
        credentials: 'v1.c2VhbGVk',
        created_at: NOW.getTime(),
        interval_minutes: 60,
        cursor: '{"orders":"x"}',
        paused: false,
        paused_reason: null,
        resume_at: null,
        last_sync_at: NOW.getTime(),
        last_sync_status: 'ok',
        rows_added: 3,
        total_rows: 3,
        next_run_at: NOW.getTime() + 3_600_000,
        last_error: null,
        lease_holder: null,
        lease_until: null,
      });
      await tx.addSyncedKeys('shopify', ['line-2', 'line-1', 'forgotten:ab']);
      await tx.putMetrics([
        { connection_id: 'store', content_id: 'shopify:p1', name: 'views', value: 5, at: 1 },
      ]);
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
    // Platform connections move too: the record (token still sealed), the synced keys, the metrics.
    expect(report.collections.syncedKeys.rows).toBe(3);
    expect(await db.connections.list()).toEqual(await file.connections.list());
    expect([...(await db.connections.syncedKeys('shopify', ['line-1', 'line-3']))]).toEqual(['line-1']);
    expect(await db.connections.metrics('store')).toEqual(await file.connections.metrics('store'));

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
