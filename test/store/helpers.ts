import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type AudienceData,
  emptyAudienceData,
  type Interaction,
  type Profile,
} from '../../src/domain/types.ts';
import { SCHEMA_VERSION } from '../../src/store/store.ts';

/** Makes a fresh temp directory and returns it with a cleanup. */
export async function makeTempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'store-test-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A small data set touching every collection, every attribute kind and every nullable field. */
export function richData(): AudienceData {
  const data = emptyAudienceData(SCHEMA_VERSION);
  data.meta = { dataVersion: 3, updatedAt: Date.UTC(2025, 0, 2), source: 'import' };
  data.attributes = {
    age: 'number',
    tier: 'category',
    signup: 'date',
    tags: 'list',
    vip: 'boolean',
    note: 'category',
  };
  data.profiles = [
    {
      id: 'u1',
      platform: 'instagram',
      country: 'FR',
      created_at: Date.UTC(2023, 4, 1, 12, 30),
      last_active_at: Date.UTC(2025, 0, 1),
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
      attrs: { age: null, tier: null, signup: null, tags: null, vip: false, note: 'x' },
    },
    {
      id: 'ü3 "quoted"',
      platform: 'tiktok',
      country: 'JP',
      created_at: 1.5,
      last_active_at: -86_400_000,
      followers: 0,
      interests: ['food'],
      // Some keys absent (not null), one list empty.
      attrs: { age: 27.25, tags: [] },
    },
    {
      id: 'u4',
      platform: 'tiktok',
      country: 'FR',
      created_at: 0,
      last_active_at: 8_640_000_000_000_000,
      followers: 2 ** 40,
      interests: ['travel', 'travel'],
      attrs: {},
    },
  ];
  data.products = [
    { id: 'p1', name: 'Mug', category: 'home', price: 12.5, in_stock: true },
    { id: 'p2', name: 'Tee "basic"', category: 'apparel', price: 20, in_stock: false },
  ];
  data.interactions = [
    { user_id: 'u1', item_id: 'p1', type: 'purchase', value: 12.5, timestamp: Date.UTC(2025, 0, 1) },
    { user_id: 'u1', item_id: null, type: 'view', value: null, timestamp: Date.UTC(2024, 11, 31) },
    { user_id: 'u2', item_id: 'p2', type: 'rating', value: 4, timestamp: Date.UTC(2025, 0, 3) },
    // A user with no profile and an item with no product.
    { user_id: 'ghost', item_id: 'p-gone', type: 'click', value: null, timestamp: Date.UTC(2025, 0, 4) },
    { user_id: 'ü3 "quoted"', item_id: null, type: 'like', value: 0, timestamp: Date.UTC(2025, 0, 4) },
  ];
  data.schedules = [
    {
      id: 's1',
      channel_id: 'C1',
      owner_id: 'U1',
      cadence: 'weekly',
      weekdays: [1, 4],
      local_time: '09:00',
      time_zone: 'Europe/Paris',
      paused: false,
      last_error: null,
      created_at: Date.UTC(2025, 0, 1),
      options: { k: 4, nested: { a: [1, 2] } },
    },
  ];
  data.deliveries = [{ key: 's1:2025-01-06', schedule_id: 's1', status: 'delivered', at: 1, detail: null }];
  data.segmentRuns = [
    {
      id: 'r1',
      created_at: 5,
      data_version: 3,
      k: 2,
      features: ['followers'],
      scaling: 'zscore',
      names: ['Big', 'Small'],
      sizes: [1, 1],
      centroids: [
        [1.5, -0.25],
        [0, 0],
      ],
      user_ids: ['u1', 'u2'],
      labels: [0, 1],
    },
  ];
  data.models = {
    'purchase:v3': { kind: 'purchase', key: 'v3', data_version: 3, created_at: 9, model: { w: [0.1, -2] } },
  };
  data.audit = [{ at: 7, actor: 'U1', action: 'import', detail: '4 profiles' }];
  return data;
}

/** `count` profiles and two interactions each, quick to generate. */
export function bulkData(count: number): AudienceData {
  const data = emptyAudienceData(SCHEMA_VERSION);
  data.attributes = { score: 'number', tier: 'category' };
  const profiles = new Array<Profile>(count);
  const interactions = new Array<Interaction>(count * 2);
  for (let i = 0; i < count; i++) {
    const id = `u${String(i).padStart(7, '0')}`;
    profiles[i] = {
      id,
      platform: i % 3 === 0 ? 'instagram' : 'tiktok',
      country: i % 2 === 0 ? 'US' : 'DE',
      created_at: 1_600_000_000_000 + i * 1_000,
      last_active_at: 1_700_000_000_000 + i * 7,
      followers: (i * 7919) % 100_000,
      interests: ['food', i % 2 === 0 ? 'tech' : 'travel', 'music'],
      attrs: { score: i % 100, tier: i % 5 === 0 ? 'pro' : 'free' },
    };
    interactions[2 * i] = {
      user_id: id,
      item_id: null,
      type: 'view',
      value: null,
      timestamp: 1_700_000_000_000 + i,
    };
    interactions[2 * i + 1] = {
      user_id: id,
      item_id: `p${i % 50}`,
      type: 'purchase',
      value: (i % 90) + 0.99,
      timestamp: 1_700_000_000_500 + i,
    };
  }
  data.profiles = profiles;
  data.interactions = interactions;
  return data;
}
