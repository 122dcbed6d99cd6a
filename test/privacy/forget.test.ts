import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Profile } from '../../src/domain/types.ts';
import { describeForget, type ForgetReport, forgetPeople } from '../../src/privacy/forget.ts';
import { type FileStore, openStore } from '../../src/store/store.ts';
import { NOW, tempDir } from './helpers.ts';

const profile = (id: string): Profile => ({
  id,
  platform: null,
  country: null,
  created_at: null,
  last_active_at: null,
  followers: null,
  interests: [],
  attrs: {},
});

/** Runs forgetPeople in one change of a store holding `data`, as /audience forget does. */
async function forgetIn(store: FileStore, ids: ReadonlySet<string>): Promise<ForgetReport> {
  return store.change((tx) => forgetPeople(tx, ids), { now: NOW, scrubBackup: true });
}

describe('forgetPeople', () => {
  it('removes the person everywhere, keeps segment sizes consistent, and leaves look-alike ids alone', async () => {
    const { dir, cleanup } = await tempDir();
    const store = await openStore({ file: path.join(dir, 'audience.db'), onNotice: () => undefined });
    const data = store.data;
    data.profiles = ['u1', 'u12', 'u2'].map(profile);
    data.interactions = [
      { user_id: 'u1', item_id: null, type: 'view', value: null, timestamp: 1 },
      { user_id: 'u12', item_id: null, type: 'view', value: null, timestamp: 2 },
    ];
    data.segmentRuns = [
      {
        id: 'seg-1',
        created_at: 1,
        data_version: 1,
        k: 2,
        features: [],
        scaling: 'zscore',
        names: ['A', 'B'],
        sizes: [2, 1],
        centroids: [[0], [1]],
        user_ids: ['u1', 'u12', 'u2'],
        labels: [0, 0, 1],
      },
    ];
    data.models = {
      recommend: { kind: 'recommend', key: 'recommend', data_version: 1, created_at: 1, model: {} },
    };
    data.audit = [
      { at: 1, actor: 'cli', action: 'note', detail: 'about u12' },
      { at: 1, actor: 'cli', action: 'note', detail: 'about u1 only' },
    ];
    const report = await forgetIn(store, new Set(['u1']));
    expect(report).toEqual({
      profiles: 1,
      interactions: 1,
      segmentAssignments: 1,
      segmentRuns: 1,
      models: 1,
      mentions: 1,
    });
    expect(store.data.profiles.map((p) => p.id)).toEqual(['u12', 'u2']);
    expect(store.data.segmentRuns[0]).toMatchObject({
      user_ids: ['u12', 'u2'],
      labels: [0, 1],
      sizes: [1, 1],
    });
    expect(store.data.audit.map((a) => a.detail)).toEqual([
      'about u12',
      '[removed: mentioned a forgotten person]',
    ]);
    expect(store.data.meta.dataVersion).toBe(1);
    expect(describeForget(report)).toBe(
      '1 profile, 1 interaction, 1 segment assignment in 1 stored run, 1 cached model, 1 log mention',
    );
    expect((await forgetIn(store, new Set(['nobody']))).profiles).toBe(0);
    expect(store.data.meta.dataVersion).toBe(1);
    await store.close();
    await cleanup();
  });
});
