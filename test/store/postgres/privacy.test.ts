/**
 * Privacy holds in the database: forgetting a person (the real forgetPeople of src/privacy/) leaves no row of any
 * table mentioning them (profiles, interactions in every partition, segment assignments, models, delivery and
 * audit text), and retention (the real runRetention) deletes expired interactions and drops the months left empty.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Interaction, Profile } from '../../../src/domain/types.ts';
import { createLogger } from '../../../src/logger.ts';
import { forgetPeople } from '../../../src/privacy/forget.ts';
import { runRetention } from '../../../src/privacy/retention.ts';
import { listPartitions } from '../../../src/store/postgres/partitions.ts';
import { openPgStore, type PgStore } from '../../../src/store/postgres/pg-store.ts';
import { describePostgres, usePostgresSchema } from '../../support/postgres.ts';

const FORGET = 'person-to-forget-7';
const KEEP = 'person-to-keep-8';
const at = (iso: string) => Date.parse(iso);

const profile = (id: string): Profile => ({
  id,
  platform: 'instagram',
  country: 'DE',
  created_at: at('2025-11-01T00:00:00Z'),
  last_active_at: at('2026-02-01T00:00:00Z'),
  followers: 10,
  interests: ['food'],
  attrs: { tier: 'pro' },
});
const event = (user: string, iso: string): Interaction => ({
  user_id: user,
  item_id: 'p1',
  type: 'purchase',
  value: 12,
  timestamp: at(iso),
});

describePostgres('privacy in PostgreSQL', () => {
  const db = usePostgresSchema('pg_privacy');
  let store: PgStore;
  beforeAll(async () => {
    store = await openPgStore({
      url: db.url,
      schema: db.schema,
      teamId: 'T0PRIV',
      onNotice: () => undefined,
    });
  });
  afterAll(async () => {
    await store?.close();
  });

  /** Rows of every table in the schema (partitions included) whose text holds `needle`, by table. */
  const mentions = async (needle: string): Promise<Record<string, number>> => {
    const { rows: tables } = await store.pool.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY 1`,
      [db.schema],
    );
    const found: Record<string, number> = {};
    for (const { name } of tables) {
      const { rows } = await store.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${name}" t WHERE position($1 in t::text) > 0`,
        [needle],
      );
      if ((rows[0]?.n ?? 0) > 0) found[name] = rows[0]?.n ?? 0;
    }
    return found;
  };

  it('forgets a person everywhere: profile, interactions, segment assignments, models, deliveries, audit', async () => {
    await store.change(async (tx) => {
      await tx.replaceAudience({
        profiles: [profile(FORGET), profile(KEEP)],
        products: [{ id: 'p1', name: 'Mug', category: 'home', price: 12, in_stock: true }],
        interactions: [
          event(FORGET, '2026-01-05T10:00:00Z'),
          event(FORGET, '2026-02-05T10:00:00Z'),
          event(KEEP, '2026-02-06T10:00:00Z'),
        ],
        attributes: { tier: 'category' },
      });
      await tx.addSegmentRun(
        {
          id: 'run_1',
          created_at: at('2026-02-07T00:00:00Z'),
          data_version: 1,
          k: 2,
          features: ['recency'],
          scaling: 'zscore',
          names: ['A', 'B'],
          sizes: [1, 1],
          centroids: [[0], [1]],
          user_ids: [FORGET, KEEP],
          labels: [0, 1],
        },
        5,
      );
      await tx.putModel(
        { kind: 'pred', key: 'pred:1', data_version: 1, created_at: 0, model: { people: [FORGET, KEEP] } },
        5,
      );
      await tx.putDelivery({
        key: 'sch_1:2026-02-09',
        schedule_id: 'sch_1',
        status: 'delivered',
        at: at('2026-02-09T09:00:00Z'),
        detail: `C1 top person ${FORGET}`,
      });
      await tx.appendAudit(
        { at: at('2026-02-09T09:00:00Z'), actor: 'U1', action: 'export', detail: `looked up ${FORGET}` },
        100,
      );
    });
    expect(Object.keys(await mentions(FORGET)).sort()).toEqual([
      'audit',
      'digest_deliveries',
      'interactions_2026_01',
      'interactions_2026_02',
      'models',
      // The stats rollup of their latest events, removed with the events by the same transaction.
      'person_activity',
      'profiles',
      'segment_assignments',
    ]);
    const before = await store.audience.version();

    const report = await store.change((tx) => forgetPeople(tx, new Set([FORGET])), { scrubBackup: true });
    expect(report).toEqual({
      profiles: 1,
      interactions: 2,
      segmentAssignments: 1,
      segmentRuns: 1,
      models: 1,
      mentions: 2,
    });
    expect(await mentions(FORGET)).toEqual({});
    // The other person is untouched, the run's sizes follow, and caches see a new data version.
    expect((await store.audience.profiles()).map((p) => p.id)).toEqual([KEEP]);
    expect((await store.audience.interactions()).map((i) => i.user_id)).toEqual([KEEP]);
    const run = await store.segmentRuns.get('run_1');
    expect(run).toMatchObject({ user_ids: [KEEP], labels: [1], sizes: [0, 1] });
    expect(await store.audience.version()).toBe(before + 1);
  });

  it('retention deletes expired interactions and drops the months it emptied', async () => {
    await store.change((tx) =>
      tx.appendInteractions([event(KEEP, '2025-12-20T10:00:00Z'), event(KEEP, '2026-03-01T10:00:00Z')]),
    );
    expect(await listPartitions(store.pool)).toEqual(
      expect.arrayContaining(['interactions_2025_12', 'interactions_2026_01', 'interactions_2026_02']),
    );
    const removed = await runRetention({
      store,
      config: { retentionDays: 30 },
      clock: () => new Date('2026-03-10T00:00:00Z'),
      logger: createLogger('error', () => undefined),
    });
    expect(removed).toBe(2);
    const left = await listPartitions(store.pool);
    expect(left).not.toContain('interactions_2025_12');
    expect(left).not.toContain('interactions_2026_01');
    expect(left).toContain('interactions_2026_03');
    expect((await store.audience.interactions()).map((i) => new Date(i.timestamp).toISOString())).toEqual([
      '2026-03-01T10:00:00.000Z',
    ]);
    expect((await store.audit.entries()).at(-1)?.action).toBe('retention.purge');
  });
});
