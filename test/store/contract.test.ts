/**
 * The storage contract (src/store/store.ts), one suite run against every backend: the data file and PostgreSQL.
 * What one backend does, the other must do alike; a backend-specific behaviour belongs in that backend's tests.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type {
  AuditEntry,
  CachedModel,
  ConnectionRecord,
  DeliveryRecord,
  DigestSchedule,
  Interaction,
  Product,
  Profile,
  SegmentRun,
} from '../../src/domain/types.ts';
import type { Store } from '../../src/store/store.ts';
import { usePostgresSchema } from '../support/postgres.ts';
import { type Backend, fileBackend, postgresBackend } from '../support/store-backends.ts';

const day = (d: number) => Date.UTC(2026, 0, d);

const profiles = (): Profile[] => [
  {
    id: 'u1',
    platform: 'instagram',
    country: 'FR',
    created_at: Date.UTC(2023, 4, 1, 12, 30),
    last_active_at: day(1),
    followers: 1200,
    interests: ['food', 'travel', 'café ☕'],
    attrs: { age: 34, tier: 'pro', signup: Date.UTC(2023, 4, 1), tags: ['a', 'b'], vip: true, note: null },
  },
  {
    id: 'u2',
    platform: null,
    country: null,
    created_at: null,
    last_active_at: null,
    followers: null,
    interests: [],
    attrs: { age: null, vip: false, note: 'tab\there, "quotes", back\\slash\nnewline' },
  },
  {
    id: 'ü3 "quoted"',
    platform: 'tiktok',
    country: 'JP',
    created_at: 1.5,
    last_active_at: -86_400_000,
    followers: 2 ** 40,
    interests: ['a,b', '{braces}', ''],
    attrs: { age: 27.25, tags: [] },
  },
];

const products = (): Product[] => [
  { id: 'p1', name: 'Mug', category: 'home', price: 12.5, in_stock: true },
  { id: 'p2', name: 'Tee "basic"', category: 'apparel', price: 0.1 + 0.2, in_stock: false },
];

const interactions = (): Interaction[] => [
  { user_id: 'u1', item_id: 'p1', type: 'purchase', value: 12.5, timestamp: day(3) },
  {
    user_id: 'u1',
    item_id: null,
    type: 'view',
    value: null,
    timestamp: Date.UTC(2025, 11, 31, 23, 59, 59, 999),
  },
  { user_id: 'u2', item_id: 'p2', type: 'rating', value: 4, timestamp: day(2) },
  { user_id: 'ghost', item_id: 'p1', type: 'click', value: null, timestamp: day(20) },
];

const audience = () => ({
  profiles: profiles(),
  products: products(),
  interactions: interactions(),
  attributes: {
    age: 'number',
    tier: 'category',
    signup: 'date',
    tags: 'list',
    vip: 'boolean',
    note: 'category',
  } as const,
});

const run = (id: string, userIds: string[], labels: number[]): SegmentRun => ({
  id,
  created_at: day(5),
  data_version: 1,
  k: 2,
  features: ['recency', 'spend'],
  scaling: 'zscore',
  names: ['Loyal', 'New'],
  sizes: [labels.filter((l) => l === 0).length, labels.filter((l) => l === 1).length],
  centroids: [
    [0.1, -1.25],
    [1 / 3, 2e-12],
  ],
  user_ids: userIds,
  labels,
});

const schedule = (id: string): DigestSchedule => ({
  id,
  channel_id: 'C1',
  owner_id: 'U1',
  cadence: 'weekly',
  weekdays: [1, 4],
  local_time: '09:00',
  time_zone: 'Europe/Berlin',
  paused: false,
  last_error: null,
  created_at: day(1),
  options: { k: 5, sections: ['stats', 'segments'] },
});

const delivery = (key: string, at: number, detail: string | null = null): DeliveryRecord => ({
  key,
  schedule_id: 'sch_1',
  status: 'delivered',
  at,
  detail,
});

const audit = (n: number, detail = `detail ${n}`): AuditEntry => ({
  at: day(n),
  actor: 'U1',
  action: 'import',
  detail,
});

const model = (key: string, kind: string, version: number, createdAt: number): CachedModel => ({
  key,
  kind,
  data_version: version,
  created_at: createdAt,
  // Key order and float text survive the round trip (model code iterates objects).
  model: { z: 1, a: [0.1, 1e-300, -2.5e-7], nested: { b: 'x', a: null } },
});

const connection = (id: string, fields: Partial<ConnectionRecord> = {}): ConnectionRecord => ({
  id,
  kind: 'shopify',
  owner_id: 'U1',
  settings: { shop: 'demo.myshopify.com', note: 'ünïcode "q"' },
  base_url: 'http://127.0.0.1:1234',
  credentials: 'c2VhbGVk',
  created_at: day(1) + 0.5,
  interval_minutes: 60,
  cursor: null,
  paused: false,
  paused_reason: null,
  resume_at: null,
  last_sync_at: null,
  last_sync_status: null,
  rows_added: 0,
  total_rows: 0,
  next_run_at: day(2),
  last_error: null,
  lease_holder: null,
  lease_until: null,
  ...fields,
});

const postgres = postgresBackend(usePostgresSchema('contract'));

describe.each<Backend>([fileBackend, postgres])('storage contract: $name backend', (backend) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });
  const open = async () => {
    const opened = await backend.open();
    cleanups.push(async () => {
      await opened.store.close();
      await opened.cleanup();
    });
    return opened;
  };
  const fresh = async (): Promise<Store> => (await open()).store;

  it.skipIf(backend.skip)('starts empty at data version 0', async () => {
    const store = await fresh();
    expect(await store.audience.meta()).toEqual({ dataVersion: 0, updatedAt: null, source: null });
    expect(await store.audience.counts()).toEqual({ profiles: 0, products: 0, interactions: 0 });
    expect(await store.audience.profiles()).toEqual([]);
    expect(await store.segmentRuns.latest()).toBeUndefined();
    expect(await store.digests.schedules()).toEqual([]);
    expect(await store.audit.entries()).toEqual([]);
  });

  it.skipIf(backend.skip)('round-trips a whole audience exactly, at one new data version', async () => {
    const store = await fresh();
    const now = new Date(day(9));
    await store.change(async (tx) => tx.replaceAudience(audience()), { now });
    expect(await store.audience.meta()).toEqual({ dataVersion: 1, updatedAt: day(9), source: 'sample' });
    expect(await store.audience.profiles()).toEqual(profiles());
    expect(await store.audience.products()).toEqual(products());
    expect(await store.audience.interactions()).toEqual(interactions());
    expect(await store.audience.attributeKinds()).toEqual(audience().attributes);
    expect(await store.audience.counts()).toEqual({ profiles: 3, products: 2, interactions: 4 });
    const snapshot = await store.audience.snapshot();
    expect(snapshot).toMatchObject({ version: 1, profiles: profiles(), interactions: interactions() });
  });

  it.skipIf(backend.skip)(
    'keeps row counts through imports, erasure, retention and a new audience',
    async () => {
      const store = await fresh();
      const counts = () => store.audience.counts();
      await store.change(async (tx) => tx.replaceAudience(audience()));
      await store.change(async (tx) => {
        await tx.upsertProfiles([{ id: 'u1', country: 'DE' }, { id: 'u9' }], {});
        await tx.upsertProducts([
          { id: 'p1', price: 3 },
          { id: 'p9', price: 1 },
        ]);
        await tx.appendInteractions([
          { user_id: 'u9', item_id: null, type: 'view', value: null, timestamp: day(20) },
        ]);
      });
      expect(await counts()).toEqual({ profiles: 4, products: 3, interactions: 5 });
      await store.change(async (tx) => tx.removePeople(new Set(['u9', 'u1'])));
      const left = (await store.audience.interactions()).length;
      expect(await counts()).toEqual({ profiles: 2, products: 3, interactions: left });
      const expired = await store.change((tx) => tx.removeInteractionsBefore(day(3)));
      expect(await counts()).toEqual({ profiles: 2, products: 3, interactions: left - expired });
      await store.change(async (tx) => tx.replaceAudience(audience()));
      expect(await counts()).toEqual({ profiles: 3, products: 2, interactions: 4 });
    },
  );

  it.skipIf(backend.skip)('answers narrow reads: ids, a time window, who is mentioned', async () => {
    const store = await fresh();
    await store.change(async (tx) => tx.replaceAudience(audience()));
    expect(
      (await store.audience.profiles({ ids: ['ü3 "quoted"', 'nobody', 'u1'] })).map((p) => p.id),
    ).toEqual(['u1', 'ü3 "quoted"']);
    const window = await store.audience.interactions({ from: day(2), to: day(20) });
    expect(window.map((i) => i.timestamp)).toEqual([day(3), day(2)]);
    expect(await store.audience.interactions({ from: day(20) })).toHaveLength(1);
    expect([...(await store.audience.mentioned(['ghost', 'u2', 'nobody']))].sort()).toEqual(['ghost', 'u2']);
  });

  it.skipIf(backend.skip)(
    'merges imported profiles: values replace, empty cells keep, repeats merge in order',
    async () => {
      const store = await fresh();
      await store.change(async (tx) => tx.replaceAudience(audience()));
      const counts = await store.change((tx) =>
        tx.upsertProfiles(
          [
            { id: 'u1', country: null, followers: 1300, attrs: { tier: null, note: null, ltv: 99 } },
            { id: 'u9', platform: 'x', attrs: { ltv: null } },
            { id: 'u1', interests: ['new'], attrs: { tier: 'max', age: null } },
            { id: 'u9', country: 'DE' },
          ],
          { ltv: 'number' },
        ),
      );
      expect(counts).toEqual({ inserted: 1, updated: 1 });
      const [u1, u9] = await store.audience.profiles({ ids: ['u1', 'u9'] });
      expect(u1).toEqual({
        ...profiles()[0],
        followers: 1300,
        interests: ['new'],
        attrs: {
          age: 34,
          tier: 'max',
          signup: Date.UTC(2023, 4, 1),
          tags: ['a', 'b'],
          vip: true,
          note: null,
          ltv: 99,
        },
      });
      expect(u9).toEqual({
        id: 'u9',
        platform: 'x',
        country: 'DE',
        created_at: null,
        last_active_at: null,
        followers: null,
        interests: [],
        attrs: { ltv: null },
      });
      expect((await store.audience.profiles()).at(-1)?.id).toBe('u9');
      expect((await store.audience.attributeKinds()).ltv).toBe('number');
      expect(await store.audience.meta()).toMatchObject({ dataVersion: 2, source: 'import' });
    },
  );

  it.skipIf(backend.skip)(
    'merges imported products, with defaults for new ones, and appends interactions',
    async () => {
      const store = await fresh();
      await store.change(async (tx) => tx.replaceAudience(audience()));
      await store.change(async (tx) => {
        expect(
          await tx.upsertProducts([
            { id: 'p1', price: 14, name: null },
            { id: 'p9', price: 3 },
          ]),
        ).toEqual({
          inserted: 1,
          updated: 1,
        });
        await tx.appendInteractions([
          { user_id: 'u2', item_id: 'p9', type: 'purchase', value: 3, timestamp: day(40) },
        ]);
      });
      expect(await store.audience.products()).toEqual([
        { ...products()[0], price: 14 },
        products()[1],
        { id: 'p9', name: 'p9', category: 'uncategorized', price: 3, in_stock: true },
      ]);
      expect((await store.audience.interactions()).at(-1)).toMatchObject({
        item_id: 'p9',
        timestamp: day(40),
      });
      // Two audience writes in one change: one new version.
      expect(await store.audience.version()).toBe(2);
    },
  );

  it.skipIf(backend.skip)(
    'removes people everywhere, segment runs included, and old interactions',
    async () => {
      const store = await fresh();
      await store.change(async (tx) => {
        await tx.replaceAudience(audience());
        await tx.addSegmentRun(run('r1', ['u1', 'u2', 'ghost'], [0, 1, 1]), 5);
      });
      const removal = await store.change((tx) => tx.removePeople(new Set(['u1', 'ghost'])));
      expect(removal).toEqual({ profiles: 1, interactions: 3, segmentAssignments: 2, segmentRuns: 1 });
      expect(await store.segmentRuns.get('r1')).toMatchObject({
        user_ids: ['u2'],
        labels: [1],
        sizes: [0, 1],
      });
      expect(await store.audience.mentioned(['u1', 'ghost'])).toEqual(new Set());
      expect(await store.change((tx) => tx.removeInteractionsBefore(day(3)))).toBe(1);
      expect(await store.audience.interactions()).toEqual([]);
      expect(await store.audience.version()).toBe(3);
      expect(await store.change((tx) => tx.removePeople(new Set(['nobody'])))).toMatchObject({ profiles: 0 });
      expect(await store.audience.version()).toBe(3);
    },
  );

  it.skipIf(backend.skip)('keeps the newest segment runs, and reads them back whole', async () => {
    const store = await fresh();
    for (const id of ['r1', 'r2', 'r3']) {
      await store.change((tx) => tx.addSegmentRun(run(id, ['u1', 'u2'], [1, 0]), 2), { wait: 'applied' });
    }
    expect((await store.segmentRuns.list()).map((r) => r.id)).toEqual(['r2', 'r3']);
    expect(await store.segmentRuns.count()).toBe(2);
    expect(await store.segmentRuns.latest()).toEqual(run('r3', ['u1', 'u2'], [1, 0]));
    expect(await store.segmentRuns.get('r1')).toBeUndefined();
    // A run's request and whether it is a default run come back as stored (absent when not recorded).
    const adHoc: SegmentRun = {
      ...run('r4', ['u2'], [0]),
      request: { k: 'auto', features: null, scaling: 'zscore', where: 'country=IS', seed: 7 },
      default: false,
    };
    await store.change((tx) => tx.addSegmentRun(adHoc, 3), { wait: 'applied' });
    expect(await store.segmentRuns.get('r4')).toEqual(adHoc);
    expect(await store.segmentRuns.get('r3')).not.toHaveProperty('default');
    expect((await store.segmentRuns.list()).map((r) => r.default)).toEqual([undefined, undefined, false]);
    // Segment runs are not audience data: the version stays.
    expect(await store.audience.version()).toBe(0);
  });

  it.skipIf(backend.skip)('keeps models per data version and kind, exactly as stored', async () => {
    const store = await fresh();
    await store.change(async (tx) => {
      await tx.putModel(model('seg:a', 'segments', 1, 1), 2);
      await tx.putModel(model('seg:b', 'segments', 1, 2), 2);
      await tx.putModel(model('seg:c', 'segments', 1, 3), 2);
      await tx.putModel(model('pred:a', 'predict', 1, 4), 2);
    });
    expect(await store.models.get('seg:a')).toBeUndefined();
    const kept = await store.models.get('seg:c');
    expect(kept).toEqual(model('seg:c', 'segments', 1, 3));
    expect(JSON.stringify(kept?.model)).toBe(JSON.stringify(model('x', 'x', 1, 1).model));
    await store.change((tx) => tx.putModel(model('seg:d', 'segments', 2, 5), 2));
    expect(await store.models.get('seg:b')).toBeUndefined();
    expect(await store.models.get('pred:a')).toBeDefined();
    expect(await store.change((tx) => tx.clearModels())).toBe(2);
  });

  it.skipIf(backend.skip)(
    'keeps digest schedules and one delivery record per occurrence, in order',
    async () => {
      const store = await fresh();
      await store.change(async (tx) => {
        await tx.addSchedule(schedule('sch_1'));
        await tx.addSchedule(schedule('sch_2'));
        await tx.putDelivery(delivery('sch_1:2026-01-05', day(5)));
        await tx.putDelivery(delivery('sch_1:2026-01-12', day(12), 'posted to #general by <@U1>'));
        await tx.putDelivery({
          ...delivery('sch_1:2026-01-05', day(6)),
          status: 'failed',
          detail: 'not_in_channel',
        });
      });
      const changed = await store.change((tx) => tx.updateSchedule('sch_1', { paused: true, weekdays: [2] }));
      expect(changed).toEqual({ ...schedule('sch_1'), paused: true, weekdays: [2] });
      expect(await store.change((tx) => tx.updateSchedule('nope', { paused: true }))).toBeUndefined();
      expect(await store.change((tx) => tx.removeSchedule('sch_2'))).toBe(true);
      expect(await store.digests.schedules()).toEqual([changed]);
      expect((await store.digests.deliveries()).map((d) => [d.key, d.status])).toEqual([
        ['sch_1:2026-01-05', 'failed'],
        ['sch_1:2026-01-12', 'delivered'],
      ]);
      expect(await store.change((tx) => tx.redactDeliveries((d) => d.includes('<@U1>')))).toBe(1);
      expect((await store.digests.delivery('sch_1:2026-01-12'))?.detail).toBeNull();
      await store.change((tx) => tx.pruneDeliveries(day(6), 10));
      expect((await store.digests.deliveries()).map((d) => d.key)).toEqual([
        'sch_1:2026-01-05',
        'sch_1:2026-01-12',
      ]);
      await store.change((tx) => tx.pruneDeliveries(day(7), 10));
      expect((await store.digests.deliveries()).map((d) => d.key)).toEqual(['sch_1:2026-01-12']);
    },
  );

  it.skipIf(backend.skip)(
    'claims a digest occurrence for its holder until its final record ends the claim',
    async () => {
      const store = await fresh();
      const claim = await store.occurrences.claim('sch_1:2026-01-05', 'sch_1', 60_000);
      expect(claim).toMatchObject({ key: 'sch_1:2026-01-05', attempt: 1, mayHavePosted: false });
      if (!claim) return;
      expect(await store.occurrences.startPosting(claim, 60_000)).toBe(true);
      await store.occurrences.renew(60_000, [claim.key]);
      // Shared claims (a database) refuse a second holder while the first lives; a lone process needs none.
      const again = await store.occurrences.claim('sch_1:2026-01-05', 'sch_1', 60_000);
      expect(again === null).toBe(store.occurrences.shared);
      await store.change((tx) => tx.putDelivery(delivery('sch_1:2026-01-05', day(5))));
      expect(await store.occurrences.abandoned()).toEqual(new Set());
      if (store.occurrences.shared) {
        expect(await store.occurrences.claim('sch_1:2026-01-05', 'sch_1', 60_000)).toBeNull();
        // A claim whose lease ran out (its holder died) is abandoned, then taken over.
        const short = await store.occurrences.claim('sch_2:2026-01-05', 'sch_2', 1);
        expect(short).not.toBeNull();
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(await store.occurrences.abandoned()).toEqual(new Set(['sch_2:2026-01-05']));
        expect(await store.occurrences.claim('sch_2:2026-01-05', 'sch_2', 60_000)).toMatchObject({
          attempt: 2,
        });
      }
    },
  );

  it.skipIf(backend.skip)(
    'lets a retry by hand claim a finished occurrence anew, and give it back finished',
    async () => {
      const store = await fresh();
      const key = 'sch_1:2026-01-05';
      await store.change((tx) => tx.putDelivery({ ...delivery(key, day(5)), status: 'failed' }));
      const retry = await store.occurrences.claim(key, 'sch_1', 60_000, { again: true });
      expect(retry).toMatchObject({ key, again: true, mayHavePosted: false });
      if (!retry) return;
      // Shared claims refuse a second press while the first holds it; a lone process needs none.
      const second = await store.occurrences.claim(key, 'sch_1', 60_000, { again: true });
      expect(second === null).toBe(store.occurrences.shared);
      await store.occurrences.release(retry);
      // Given back, it is finished again: not due to a scheduler, not claimable but by another retry.
      expect(await store.occurrences.abandoned()).toEqual(new Set());
      if (store.occurrences.shared) expect(await store.occurrences.claim(key, 'sch_1', 60_000)).toBeNull();
      expect(await store.occurrences.claim(key, 'sch_1', 60_000, { again: true })).not.toBeNull();
    },
  );

  it.skipIf(backend.skip)(
    'keeps the newest audit entries, reads them since a time, and redacts them',
    async () => {
      const store = await fresh();
      for (const n of [1, 2, 3, 4]) await store.change((tx) => tx.appendAudit(audit(n), 3));
      expect(await store.audit.entries()).toEqual([audit(2), audit(3), audit(4)]);
      expect(await store.audit.entries({ since: day(3) })).toEqual([audit(3), audit(4)]);
      expect(await store.change((tx) => tx.redactAudit((d) => d.endsWith('3'), '[removed]'))).toBe(1);
      expect((await store.audit.entries()).map((a) => a.detail)).toEqual([
        'detail 2',
        '[removed]',
        'detail 4',
      ]);
    },
  );

  it.skipIf(backend.skip)(
    'stores connections: put, update, list in creation order, remove with their keys and metrics',
    async () => {
      const store = await fresh();
      await store.change(async (tx) => {
        await tx.putConnection(connection('shop'));
        await tx.putConnection(connection('insta', { kind: 'instagram', settings: {}, base_url: null }));
      });
      expect(await store.connections.list()).toEqual([
        connection('shop'),
        connection('insta', { kind: 'instagram', settings: {}, base_url: null }),
      ]);
      const patch = {
        cursor: '{"after":"abc"}',
        paused: true,
        paused_reason: 'auth_expired',
        resume_at: day(5),
        last_sync_at: day(3),
        last_sync_status: 'paused' as const,
        rows_added: 12,
        total_rows: 40,
        last_error: 'token expired',
        lease_holder: 'host:1',
        lease_until: day(4),
      };
      const updated = await store.change((tx) => tx.updateConnection('shop', patch));
      expect(updated).toEqual(connection('shop', patch));
      expect(await store.connections.get('shop')).toEqual(connection('shop', patch));
      expect(await store.change((tx) => tx.updateConnection('nope', { paused: true }))).toBeUndefined();
      // A put replaces the whole record (a reconnect with a new token) and keeps its place in the list.
      await store.change((tx) => tx.putConnection(connection('shop', { credentials: 'bmV3' })));
      expect((await store.connections.list()).map((c) => [c.id, c.credentials])).toEqual([
        ['shop', 'bmV3'],
        ['insta', 'c2VhbGVk'],
      ]);

      await store.change(async (tx) => {
        await tx.addSyncedKeys('shop', ['o1:l1', 'o1:l2']);
        await tx.addSyncedKeys('shop', ['o1:l2', 'o2:l1']);
        await tx.addSyncedKeys('insta', ['o1:l1']);
        await tx.putMetrics([
          { connection_id: 'insta', content_id: 'm1', name: 'reach', value: 10, at: day(1) },
          { connection_id: 'insta', content_id: 'm1', name: 'saves', value: 2, at: day(1) },
        ]);
        await tx.putMetrics([
          { connection_id: 'insta', content_id: 'm1', name: 'reach', value: 15, at: day(2) },
        ]);
      });
      expect([...(await store.connections.syncedKeys('shop', ['o1:l1', 'o2:l1', 'o3:l1']))].sort()).toEqual([
        'o1:l1',
        'o2:l1',
      ]);
      expect(await store.connections.syncedKeyCount('shop')).toBe(3);
      expect(await store.connections.allSyncedKeys()).toEqual(
        new Map([
          ['shop', ['o1:l1', 'o1:l2', 'o2:l1']],
          ['insta', ['o1:l1']],
        ]),
      );
      expect(await store.connections.metrics('insta')).toEqual([
        { connection_id: 'insta', content_id: 'm1', name: 'reach', value: 15, at: day(2) },
        { connection_id: 'insta', content_id: 'm1', name: 'saves', value: 2, at: day(1) },
      ]);
      // Connections are not audience data: none of this moved the data version.
      expect(await store.audience.version()).toBe(0);

      expect(await store.change((tx) => tx.removeConnection('shop'))).toBe(true);
      expect(await store.change((tx) => tx.removeConnection('shop'))).toBe(false);
      expect((await store.connections.list()).map((c) => c.id)).toEqual(['insta']);
      expect(await store.connections.syncedKeyCount('shop')).toBe(0);
      expect(await store.connections.syncedKeyCount('insta')).toBe(1);
      await store.change((tx) => tx.clearSyncedKeys('insta'));
      expect(await store.connections.syncedKeyCount('insta')).toBe(0);
    },
  );

  it.skipIf(backend.skip)('keeps connections and synced keys across a reopen', async () => {
    const opened = await open();
    await opened.store.change(async (tx) => {
      await tx.putConnection(connection('shop', { cursor: 'c1' }));
      await tx.addSyncedKeys('shop', ['k1']);
    });
    await opened.store.close();
    const again = await opened.reopen();
    cleanups.unshift(() => again.close());
    expect(await again.connections.get('shop')).toEqual(connection('shop', { cursor: 'c1' }));
    expect([...(await again.connections.syncedKeys('shop', ['k1', 'k2']))]).toEqual(['k1']);
  });

  it.skipIf(backend.skip)('runs changes one at a time, each seeing the ones before', async () => {
    const store = await fresh();
    await Promise.all(
      Array.from({ length: 5 }, () =>
        store.change(async (tx) => {
          const seen = (await tx.audit.entries()).length;
          await tx.appendAudit(audit(1, `saw ${seen}`), 100);
        }),
      ),
    );
    expect((await store.audit.entries()).map((a) => a.detail)).toEqual([
      'saw 0',
      'saw 1',
      'saw 2',
      'saw 3',
      'saw 4',
    ]);
  });

  it.skipIf(backend.skip)('makes a change durable: a store opened again sees it', async () => {
    const opened = await open();
    await opened.store.change(async (tx) => {
      await tx.replaceAudience(audience());
      await tx.addSchedule(schedule('sch_1'));
    });
    await opened.store.close();
    const again = await opened.reopen();
    cleanups.unshift(() => again.close());
    expect(await again.audience.profiles()).toEqual(profiles());
    expect(await again.digests.schedules()).toEqual([schedule('sch_1')]);
    expect(await again.audience.version()).toBe(1);
  });

  it.skipIf(backend.skip)('leaves the data as it was when a change throws before writing', async () => {
    const store = await fresh();
    await expect(
      store.change(async (tx) => {
        await tx.audience.counts();
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await store.audience.version()).toBe(0);
  });
});
