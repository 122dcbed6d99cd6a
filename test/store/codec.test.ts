import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AttributeValue,
  type AudienceData,
  emptyAudienceData,
  INTERACTION_TYPES,
  type Interaction,
  type Profile,
} from '../../src/domain/types.ts';
import { handInteractionColumns, interactionIndex } from '../../src/engine/interaction-index.ts';
import { CodecError, encodeAudienceData, encodeLines, readDataFile } from '../../src/store/codec.ts';
import { markAudienceChanged, SCHEMA_VERSION } from '../../src/store/store.ts';
import { plainView } from '../support/index-view.ts';
import { bulkData, makeTempDir, richData } from './helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterEach(() => cleanup());

async function roundTrip(data: ReturnType<typeof richData>, chunkRows?: number) {
  const file = path.join(dir, `f${Math.random()}.db`);
  await writeFile(file, Buffer.concat(encodeAudienceData(data, { chunkRows })));
  return readDataFile(file);
}

/** The same data in fresh objects: nothing of it has been encoded before. */
function copyOf<T>(data: T): T {
  return structuredClone(data);
}

describe('codec', () => {
  it('reuses the encoded profile and interaction chunks of the last save only while they hold the same rows', async () => {
    const data = bulkData(1000); // 2,000 interactions: 20 chunks of 100
    const bytes = (d: typeof data) => Buffer.concat(encodeAudienceData(d, { chunkRows: 100 }));
    const first = bytes(data);
    // Saved again unchanged: the 10 profile and 20 interaction lines are the very same buffers, not encoded anew.
    const again = [
      encodeAudienceData(data, { chunkRows: 100 }),
      encodeAudienceData(data, { chunkRows: 100 }),
    ];
    expect(again[1]?.filter((line) => again[0]?.includes(line)).length).toBe(30);
    // An import edits a profile in place, and marks the audience changed: every profile line is encoded anew.
    (data.profiles[150] as { followers: number | null }).followers = 123_456;
    markAudienceChanged(data, new Date(0), 'import');
    expect(bytes(data).equals(bytes(copyOf(data)))).toBe(true);
    expect(bytes(data).includes('123456')).toBe(true);
    // A stored segment run is encoded once; an erasure edits it in place and moves the data version.
    const run = {
      id: 'seg-1',
      created_at: 0,
      data_version: 1,
      k: 2,
      features: ['f'],
      scaling: 'zscore',
      names: ['A', 'B'],
      sizes: [1, 1],
      centroids: [[0], [1]],
      user_ids: ['u0000001', 'u0000002'],
      labels: [0, 1],
    };
    data.segmentRuns.push(run as never);
    const withRun = [
      encodeAudienceData(data, { chunkRows: 100 }),
      encodeAudienceData(data, { chunkRows: 100 }),
    ];
    expect(withRun[1]?.filter((line) => withRun[0]?.includes(line)).length).toBe(31);
    run.user_ids = ['u0000002'];
    run.labels = [1];
    markAudienceChanged(data, new Date(0), 'import');
    expect(bytes(data).equals(bytes(copyOf(data)))).toBe(true);
    data.models.m = { kind: 'x', key: 'm', data_version: 1, created_at: 0, model: { a: 1 } };
    // A model changed; the interactions come from the last save and the file is what a fresh encode writes.
    expect(bytes(data).equals(bytes(copyOf(data)))).toBe(true);
    expect(bytes(data).equals(first)).toBe(false);
    // An import appends: the last partial chunk and the new ones are encoded again.
    const extra = { user_id: 'u0000003', item_id: 'p9', type: 'purchase' as const, value: 9.5, timestamp: 1 };
    data.interactions.push(extra, { ...extra, value: 2 });
    expect(bytes(data).equals(bytes(copyOf(data)))).toBe(true);
    // An erasure replaces the array; a purge too; a profile removed renumbers every user.
    data.interactions = data.interactions.filter((i) => i.user_id !== 'u0000500');
    expect(bytes(data).equals(bytes(copyOf(data)))).toBe(true);
    data.profiles = data.profiles.filter((p) => p.id !== 'u0000001');
    const decoded = await roundTrip(data, 100);
    expect(decoded.data).toStrictEqual(data);
    expect(bytes(data).equals(bytes(copyOf(data)))).toBe(true);
  });

  it('round-trips across many small chunks, with attribute columns that differ per chunk', async () => {
    const data = richData();
    // Chunks of one row: every attribute column sees a different mix of kinds, absences and nulls.
    const decoded = await roundTrip(data, 1);
    expect(decoded.format).toBe('store');
    expect(decoded.schemaVersion).toBe(SCHEMA_VERSION);
    expect(decoded.data).toStrictEqual(data);
    expect((await roundTrip(data, 3)).data).toStrictEqual(data);
  });

  it('keeps mixed-kind attribute columns, odd keys and non-integer timestamps', async () => {
    const data = emptyAudienceData(SCHEMA_VERSION);
    const base = richData().profiles[0] as Profile;
    const odd: AttributeValue[] = [1, 'one', true, ['x'], null];
    data.profiles = odd.map((value, i) => ({
      ...base,
      id: `m${i}`,
      attrs: { mixed: value, ['__proto__']: i },
    }));
    for (const p of data.profiles)
      Object.defineProperty(p.attrs, '__proto__', { value: 1, enumerable: true });
    data.interactions = [
      { user_id: 'm0', item_id: null, type: 'view', value: null, timestamp: 1.25 },
      { user_id: 'm1', item_id: 'x', type: 'share', value: -3, timestamp: 2 ** 60 },
    ];
    const decoded = await roundTrip(data);
    expect(decoded.data).toStrictEqual(data);
    const first = (decoded.data.profiles as Profile[])[0] as Profile;
    expect(Object.getPrototypeOf(first.attrs)).toBe(Object.prototype);
  });

  it('round-trips generated profiles and interactions', async () => {
    const text = fc.oneof(
      fc.constant('a'),
      fc.constant('b'),
      fc.string({ maxLength: 4 }),
      fc.string({ unit: 'binary', maxLength: 3 }),
    );
    const attr = fc.oneof(
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0)),
      text,
      fc.boolean(),
      fc.constant(null),
      fc.array(text, { maxLength: 3 }),
    );
    const profile = fc.record({
      id: fc.string({ maxLength: 6 }),
      platform: fc.option(text),
      country: fc.option(text),
      created_at: fc.option(fc.integer()),
      last_active_at: fc.option(fc.maxSafeInteger()),
      followers: fc.option(fc.nat()),
      interests: fc.array(text, { maxLength: 4 }),
      attrs: fc.dictionary(fc.constantFrom('x', 'y', 'z', 'w'), attr),
    });
    const interaction = fc.record({
      user_id: fc.string({ maxLength: 3 }),
      item_id: fc.option(text),
      type: fc.constantFrom(...INTERACTION_TYPES),
      value: fc.option(fc.integer()),
      timestamp: fc.integer(),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(profile, { maxLength: 12 }),
        fc.array(interaction, { maxLength: 12 }),
        fc.integer({ min: 1, max: 5 }),
        async (profiles, interactions, chunkRows) => {
          const data = emptyAudienceData(SCHEMA_VERSION);
          // structuredClone: fast-check builds null-prototype objects; the store deals in plain ones.
          data.profiles = structuredClone(profiles);
          data.interactions = structuredClone(interactions);
          const decoded = await roundTrip(data, chunkRows);
          expect(decoded.data).toStrictEqual(data);
          // The columns, handed to the engine, give the view that a copy of the array (read from objects) gives.
          const { profiles: p, interactions: i } = decoded.data as unknown as AudienceData;
          if (decoded.columns) handInteractionColumns(i, decoded.columns);
          expect(plainView(interactionIndex(i, p))).toEqual(plainView(interactionIndex(i.slice(), p)));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('decodes the interactions as typed columns too, which the engine builds its view from', async () => {
    const data = bulkData(300);
    data.interactions.push({ user_id: 'nobody', item_id: 'p1', type: 'like', value: null, timestamp: 1 });
    const file = await roundTrip(data, 64);
    const decoded = file.data as unknown as AudienceData;
    // The store hands them over through the seam (queries/audience.ts); here, directly.
    if (file.columns) handInteractionColumns(decoded.interactions, file.columns);
    const fromObjects = plainView(interactionIndex(decoded.interactions.slice(), decoded.profiles));
    // Proof that the view comes from the columns: an event object edited in place (the app never does) is not read.
    (decoded.interactions[5] as Interaction).user_id = 'edited';
    const view = interactionIndex(decoded.interactions, decoded.profiles);
    expect(plainView(view)).toEqual(fromObjects);
    expect(view.userIds.at(-1)).toBe('nobody');
  });

  it('writes one line per chunk, never one giant line', () => {
    const data = bulkData(1_000);
    const lines = encodeAudienceData(data, { chunkRows: 100 });
    // header, meta, 10 profile chunks, 20 interaction chunks, trailer
    expect(lines).toHaveLength(33);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(20_000);
  });

  it('encodes a snapshot: arrays replaced during a lazy save are not seen', async () => {
    const data = bulkData(300);
    const lines = encodeLines(data, { chunkRows: 100 });
    const first = lines.next().value as Buffer;
    data.profiles = [];
    data.interactions.length = 0;
    const rest: Buffer[] = [first];
    for (const line of lines) if (line) rest.push(line);
    const file = path.join(dir, 'snap.db');
    await writeFile(file, Buffer.concat(rest));
    const decoded = await readDataFile(file);
    expect(decoded.data.profiles).toHaveLength(300);
    expect(decoded.data.interactions).toHaveLength(600);
  });

  it('refuses data after the end marker', async () => {
    const file = path.join(dir, 'extra.db');
    await writeFile(file, Buffer.concat([...encodeAudienceData(richData()), Buffer.from('{"t":"meta"}\n')]));
    await expect(readDataFile(file)).rejects.toThrow(CodecError);
  });

  it('refuses header counts that cannot fit the file', async () => {
    const file = path.join(dir, 'counts.db');
    const text = Buffer.concat(encodeAudienceData(richData())).toString();
    await writeFile(file, text.replace('"profiles":4,', '"profiles":400000000,'));
    await expect(readDataFile(file)).rejects.toThrow('do not fit the file size');
  });
});
