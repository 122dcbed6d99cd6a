import { describe, expect, it } from 'vitest';
import { emptyAudienceData, type Profile } from '../../src/domain/types.ts';
import { describeForget, forgetPeople } from '../../src/privacy/forget.ts';
import { SCHEMA_VERSION } from '../../src/store/store.ts';
import { NOW } from './helpers.ts';

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

describe('forgetPeople', () => {
  it('removes the person everywhere, keeps segment sizes consistent, and leaves look-alike ids alone', () => {
    const data = emptyAudienceData(SCHEMA_VERSION);
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
    const report = forgetPeople(data, new Set(['u1']), NOW);
    expect(report).toEqual({
      profiles: 1,
      interactions: 1,
      segmentAssignments: 1,
      segmentRuns: 1,
      models: 1,
      mentions: 1,
    });
    expect(data.profiles.map((p) => p.id)).toEqual(['u12', 'u2']);
    expect(data.segmentRuns[0]).toMatchObject({ user_ids: ['u12', 'u2'], labels: [0, 1], sizes: [1, 1] });
    expect(data.audit.map((a) => a.detail)).toEqual(['about u12', '[removed: mentioned a forgotten person]']);
    expect(data.meta.dataVersion).toBe(1);
    expect(describeForget(report)).toBe(
      '1 profile, 1 interaction, 1 segment assignment in 1 stored run, 1 cached model, 1 log mention',
    );
    expect(forgetPeople(data, new Set(['nobody']), NOW).profiles).toBe(0);
    expect(data.meta.dataVersion).toBe(1);
  });
});
