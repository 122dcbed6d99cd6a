import { describe, expect, it } from 'vitest';
import type { Interaction, InteractionType, Profile } from '../../src/domain/types.ts';
import { dataAsOf } from '../../src/engine/as-of.ts';
import {
  cachedInteractionIndex,
  handInteractionColumns,
  type InteractionColumns,
  type InteractionIndex,
  interactionIndex,
  itemOf,
  latestTimestamp,
  packEvent,
  profileKeys,
  TYPE_CODE,
  typeCode,
  typeOf,
  UNKNOWN_TYPE,
  userRows,
  valueAt,
} from '../../src/engine/interaction-index.ts';
import { generateSample } from '../../src/sample/generate.ts';
import { plainView } from '../support/index-view.ts';

const T = Date.UTC(2026, 0, 10);
const HOUR = 3_600_000;

function profile(id: string, over: Partial<Profile> = {}): Profile {
  return {
    id,
    platform: null,
    country: null,
    created_at: null,
    last_active_at: null,
    followers: null,
    interests: [],
    attrs: {},
    ...over,
  };
}

const ev = (
  user: string,
  type: InteractionType,
  hours: number,
  item: string | null = null,
  value: number | null = null,
): Interaction => ({ user_id: user, item_id: item, type, value, timestamp: T + hours * HOUR });

/** Every record of a user, in view order, as plain objects. */
function rowsOf(index: InteractionIndex, user: string) {
  const key = index.userKeys[user] as number;
  const out: Array<{ ts: number; type: number; item: string | null; value: number }> = [];
  for (let r = index.start[key] as number; r < (index.start[key + 1] as number); r++) {
    const packed = index.i32[4 * r + 2] as number;
    const item = itemOf(packed);
    out.push({
      ts: index.f64[2 * r] as number,
      type: typeOf(packed),
      item: item < 0 ? null : (index.itemIds[item] as string),
      value: valueAt(index, r),
    });
  }
  return out;
}

describe('interactionIndex', () => {
  const profiles = [profile('a'), profile('b'), profile('quiet')];
  const interactions = [
    ev('b', 'view', 1, 'p1'),
    ev('a', 'purchase', 2, 'p2', 30),
    ev('zed', 'like', 3, 'p1'),
    ev('b', 'purchase', 4, null, null),
    ev('a', 'rating', 5, 'p2', 4),
    ev('b', 'bogus' as InteractionType, 6, 'p3'),
  ];

  it('numbers the profiles first, then other users in order of appearance, each user’s events grouped', () => {
    const index = interactionIndex(interactions, profiles);
    expect(index.userIds).toEqual(['a', 'b', 'quiet', 'zed']);
    expect(Array.from(index.start)).toEqual([0, 2, 5, 5, 6]);
    expect(Array.from(index.firstEvent)).toEqual([1, 0, -1, 2]);
    expect(rowsOf(index, 'a')).toEqual([
      { ts: T + 2 * HOUR, type: TYPE_CODE.purchase, item: 'p2', value: 30 },
      { ts: T + 5 * HOUR, type: TYPE_CODE.rating, item: 'p2', value: 4 },
    ]);
    expect(rowsOf(index, 'b')).toEqual([
      { ts: T + 1 * HOUR, type: TYPE_CODE.view, item: 'p1', value: Number.NaN },
      { ts: T + 4 * HOUR, type: TYPE_CODE.purchase, item: null, value: Number.NaN },
      { ts: T + 6 * HOUR, type: UNKNOWN_TYPE, item: 'p3', value: Number.NaN },
    ]);
    expect(index.minTs).toBe(T + HOUR);
    expect(index.maxTs).toBe(T + 6 * HOUR);
    expect(index.timeSorted).toBe(true);
  });

  it('keeps the purchases in data order, for sums that must round as a plain scan does', () => {
    const index = interactionIndex(interactions, profiles);
    const { user, ts, value, item } = index.purchases;
    expect(Array.from(user, (u) => index.userIds[u])).toEqual(['a', 'b']);
    expect(Array.from(ts)).toEqual([T + 2 * HOUR, T + 4 * HOUR]);
    expect(Array.from(value)).toEqual([30, Number.NaN]);
    expect(Array.from(item, (i) => (i < 0 ? null : index.itemIds[i]))).toEqual(['p2', null]);
  });

  it('is built once per array and rebuilt when the array is appended to, reordered or replaced', () => {
    const data = interactions.slice();
    const first = interactionIndex(data, profiles);
    expect(interactionIndex(data, profiles)).toBe(first);
    expect(cachedInteractionIndex(data)).toBe(first);

    data.push(ev('a', 'view', 7, 'p1'));
    expect(cachedInteractionIndex(data)).toBeUndefined();
    const appended = interactionIndex(data, profiles);
    expect(appended).not.toBe(first);
    expect(appended.length).toBe(7);

    data.reverse();
    const reordered = interactionIndex(data, profiles);
    expect(reordered).not.toBe(appended);
    expect(reordered.timeSorted).toBe(false);
    expect(reordered.userIds).toEqual(['a', 'b', 'quiet', 'zed']);

    expect(interactionIndex(data.slice(), profiles)).not.toBe(reordered);
  });

  it('answers the latest time from the view when there is one, and by a scan otherwise', () => {
    const data = interactions.slice();
    expect(latestTimestamp(data)).toBe(T + 6 * HOUR);
    expect(dataAsOf(data, 0)).toBe(T + 6 * HOUR + 1);
    interactionIndex(data);
    expect(latestTimestamp(data)).toBe(T + 6 * HOUR);
    expect(latestTimestamp([])).toBe(Number.NEGATIVE_INFINITY);
  });
});

describe('userRows', () => {
  const interactions = [ev('a', 'view', 1), ev('b', 'view', 2), ev('c', 'view', 3), ev('x', 'view', 4)];

  it('maps each user key to its profile row, -1 for users without a profile', () => {
    const profiles = [profile('c'), profile('a'), profile('b'), profile('none')];
    const index = interactionIndex(interactions.slice(), [profile('b')]);
    const rows = userRows(index, profiles);
    const rowOf = (id: string) => rows[index.userKeys[id] as number];
    expect([rowOf('a'), rowOf('b'), rowOf('c'), rowOf('x')]).toEqual([1, 2, 0, -1]);
    expect(userRows(index, profiles)).toBe(rows);
    expect(Array.from(profileKeys(index, profiles), (k) => (k < 0 ? null : index.userIds[k]))).toEqual([
      'c',
      'a',
      'b',
      null,
    ]);
  });

  it('numbers rows within the kept profiles, and lets the last copy of a repeated id win', () => {
    const profiles = [
      profile('a'),
      profile('b', { followers: 1 }),
      profile('c'),
      profile('b', { followers: 2 }),
    ];
    const index = interactionIndex(interactions.slice(), profiles);
    const all = userRows(index, profiles);
    expect(all[index.userKeys.b as number]).toBe(3);
    const kept = userRows(index, profiles, (p) => p.followers !== 2);
    expect(kept[index.userKeys.b as number]).toBe(1);
    expect(kept[index.userKeys.c as number]).toBe(2);
    const withoutA = userRows(index, profiles, (p) => p.id !== 'a');
    expect(withoutA[index.userKeys.a as number]).toBe(-1);
    expect(withoutA[index.userKeys.b as number]).toBe(2);
  });
});

/** Columns made from the objects the way a producer would (items and other users listed with repeats). */
function columnsOf(interactions: Interaction[], profiles: Profile[]): InteractionColumns {
  const rowOf = new Map<string, number>();
  profiles.forEach((p, i) => {
    if (!rowOf.has(p.id)) rowOf.set(p.id, i);
  });
  const otherUsers: string[] = [];
  const itemIds: string[] = [];
  const values: number[] = [];
  const n = interactions.length;
  const columns = {
    profiles,
    user: new Int32Array(n),
    otherUsers,
    ts: new Float64Array(n),
    event: new Int32Array(n),
    itemIds,
    values: new Float64Array(0),
  };
  interactions.forEach((it, k) => {
    const row = rowOf.get(it.user_id);
    columns.user[k] = row ?? -1 - otherUsers.push(it.user_id) + 1;
    columns.ts[k] = it.timestamp;
    const item = it.item_id === null ? -1 : itemIds.push(it.item_id) - 1;
    if (it.value !== null) values.push(it.value);
    columns.event[k] = packEvent(item, typeCode(it.type), it.value !== null);
  });
  columns.values = Float64Array.from(values);
  return columns;
}

describe('handInteractionColumns', () => {
  it('builds the same view from a producer’s typed columns as from the objects', () => {
    const sample = generateSample({ profiles: 300, seed: 5, end: new Date(T) });
    // The generator's columns are handed over for its array; a copy of the array has none, so its view is read
    // from the objects.
    handInteractionColumns(sample.interactions, sample.columns);
    const fromColumns = interactionIndex(sample.interactions, sample.profiles);
    const fromObjects = interactionIndex(sample.interactions.slice(), sample.profiles);
    expect(fromColumns).not.toBe(fromObjects);
    expect(plainView(fromColumns)).toEqual(plainView(fromObjects));
    expect(userRows(fromColumns, sample.profiles)).toEqual(userRows(fromObjects, sample.profiles));
  });

  it('numbers repeated profile ids, users without a profile and repeated list entries as the objects do', () => {
    const profiles = [profile('a'), profile('b'), profile('a'), profile('quiet')];
    const interactions = [
      ev('zed', 'view', 1, 'p1'),
      ev('b', 'purchase', 2, 'p2', 30),
      ev('a', 'like', 3, 'p1'),
      ev('zed', 'purchase', 4, null, null),
      ev('yan', 'rating', 5, 'p2', 4),
      ev('a', 'bogus' as InteractionType, 6, 'p3', 7),
      ev('b', 'view', 2.5, 'p3'),
    ];
    const data = interactions.slice();
    handInteractionColumns(data, columnsOf(data, profiles));
    const fromColumns = interactionIndex(data, profiles);
    const fromObjects = interactionIndex(interactions, profiles);
    expect(plainView(fromColumns)).toEqual(plainView(fromObjects));
    expect(fromColumns.userIds).toEqual(['a', 'b', 'quiet', 'zed', 'yan']);
    expect(fromColumns.timeSorted).toBe(false);
    expect(profileKeys(fromColumns, profiles)).toEqual(profileKeys(fromObjects, profiles));
  });

  it('builds from the objects when the array or its profiles changed after the columns were handed over', () => {
    const profiles = [profile('a'), profile('b')];
    const interactions = [ev('a', 'view', 1, 'p1'), ev('b', 'purchase', 2, 'p2', 9)];
    const appended = interactions.slice();
    const columns = columnsOf(appended, profiles);
    // Columns that claim another user for every event: used, they would show up in the view.
    columns.user.fill(-1);
    columns.otherUsers = ['ghost'];
    handInteractionColumns(appended, columns);
    appended.push(ev('a', 'view', 3, 'p1'));
    expect(interactionIndex(appended, profiles).userIds).toEqual(['a', 'b']);

    const replaced = interactions.slice();
    handInteractionColumns(replaced, columns);
    replaced[1] = ev('b', 'view', 2);
    expect(interactionIndex(replaced, profiles).userIds).toEqual(['a', 'b']);

    const otherProfiles = interactions.slice();
    handInteractionColumns(otherProfiles, columns);
    expect(interactionIndex(otherProfiles, profiles.slice()).userIds).toEqual(['a', 'b']);

    const grown = interactions.slice();
    const growing = profiles.slice();
    handInteractionColumns(grown, { ...columns, profiles: growing });
    growing.push(profile('c'));
    expect(interactionIndex(grown, growing).userIds).toEqual(['a', 'b', 'c']);

    const untouched = interactions.slice();
    handInteractionColumns(untouched, columns);
    expect(interactionIndex(untouched, profiles).userIds).toEqual(['a', 'b', 'ghost']);
  });

  it('refuses columns of another length', () => {
    const interactions = [ev('a', 'view', 1)];
    const columns = columnsOf(interactions, [profile('a')]);
    expect(() => handInteractionColumns([...interactions, ev('a', 'view', 2)], columns)).toThrow(RangeError);
  });
});
