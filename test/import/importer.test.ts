import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  formatImportReport,
  ImportError,
  type ImportOptions,
  type ImportReport,
  importFile,
} from '../../src/import/importer.ts';
import { fixture, NOW, tempStore } from './helpers.ts';

type Env = Awaited<ReturnType<typeof tempStore>>;
let env: Env;

beforeEach(async () => {
  env = await tempStore();
});
afterEach(async () => {
  await env.cleanup();
});

const run = (options: Omit<ImportOptions, 'now'> & { now?: Date }): Promise<ImportReport> =>
  importFile(env.store, { now: NOW, ...options });

/** Imports the profiles and products fixtures interactions refer to. */
async function seed(): Promise<void> {
  await run({ kind: 'profiles', file: fixture('profiles.csv') });
  await run({ kind: 'products', file: fixture('products.csv') });
}

/** Runs a failing import and checks the store changed neither in memory nor on disk. */
async function expectUnchanged(action: () => Promise<unknown>): Promise<void> {
  await env.store.flush();
  const before = structuredClone(env.store.data);
  const bytes = await env.fileBytes();
  await action();
  await env.store.flush();
  expect(env.store.data).toEqual(before);
  expect((await env.fileBytes()).equals(bytes)).toBe(true);
}

describe('profiles', () => {
  it('imports a CSV with typed fields and inferred custom attributes', async () => {
    const report = await run({ kind: 'profiles', file: fixture('profiles.csv') });
    expect(report).toMatchObject({
      rows: 3,
      valid: 3,
      inserted: 3,
      updated: 0,
      errorCount: 0,
      applied: true,
    });
    expect(report.newAttributes).toEqual({
      age: 'number',
      loyalty_tier: 'category',
      signup_date: 'date',
      vip: 'boolean',
      tags: 'list',
      zip: 'category',
      newsletter: 'number',
    });
    expect(report.ignoredColumns).toEqual([
      { column: 'notes', reason: 'every value is empty, so its type is unknown' },
    ]);
    const [u1, u2, u3] = env.store.data.profiles;
    expect(u1).toEqual({
      id: 'u1',
      platform: 'instagram',
      country: 'US',
      created_at: Date.UTC(2024, 0, 15),
      last_active_at: Date.UTC(2024, 4, 1, 10),
      followers: 1200,
      interests: ['sports', 'music'],
      attrs: {
        age: 34,
        loyalty_tier: 'gold',
        signup_date: Date.UTC(2023, 11, 1),
        vip: true,
        tags: ['a', 'b'],
        zip: '02134',
        newsletter: 1,
      },
    });
    expect(u2).toMatchObject({
      created_at: 1704067200 * 1000,
      last_active_at: 1714557600000,
      interests: [],
      attrs: { signup_date: Date.UTC(2023, 10, 15, 6, 30), vip: false, tags: ['c'], newsletter: 0 },
    });
    // Empty cells are missing values (null), never 0.
    expect(u3).toMatchObject({ last_active_at: null, followers: null, interests: ['travel', 'food'] });
    expect(u3?.attrs).toMatchObject({ age: null, signup_date: null, vip: null, zip: null });
    expect(env.store.data.attributes).toEqual(report.newAttributes);
    expect(env.store.data.meta).toEqual({ dataVersion: 1, updatedAt: NOW.getTime(), source: 'import' });
  });

  it('imports JSON wrapped in an object, with aliases and typed JSON values', async () => {
    const report = await run({ kind: 'profiles', file: fixture('profiles.json') });
    expect(report).toMatchObject({ rows: 3, valid: 3, inserted: 3, applied: true });
    expect(report.newAttributes).toEqual({ age: 'number', vip: 'boolean', tags: 'list' });
    expect(env.store.data.profiles.map((p) => p.id)).toEqual(['u1', '2', 'u3']);
    expect(env.store.data.profiles[1]).toMatchObject({
      followers: null,
      interests: [],
      attrs: { age: 27.5 },
    });
  });

  it('imports NDJSON', async () => {
    const report = await run({ kind: 'profiles', file: fixture('profiles.ndjson') });
    expect(report).toMatchObject({ rows: 3, valid: 3, inserted: 3, newAttributes: { score: 'number' } });
    expect(env.store.data.profiles.map((p) => [p.id, p.followers, p.attrs.score])).toEqual([
      ['u1', 1200, 0.5],
      ['u2', 50, 1],
      ['u3', null, 2],
    ]);
    expect(env.store.data.profiles[2]?.last_active_at).toBe(1714557600 * 1000);
  });

  it('maps columns with --map and matches headers case-insensitively', async () => {
    const file = await env.write('m.csv', 'UID,Fans,PLATFORM,Level\na,10,ig,3\nb,20,tt,4\n');
    const report = await run({
      kind: 'profiles',
      file,
      map: { id: 'uid', followers: 'fans', tier: 'Level' },
    });
    expect(report).toMatchObject({ inserted: 2, newAttributes: { tier: 'number' } });
    expect(env.store.data.profiles[1]).toMatchObject({
      id: 'b',
      followers: 20,
      platform: 'tt',
      attrs: { tier: 4 },
    });
  });

  it('upserts by id: file values replace stored ones, empty cells and absent columns keep them', async () => {
    await run({ kind: 'profiles', file: fixture('profiles.csv') });
    const file = await env.write('u.csv', 'user_id,country,followers,age\nu1,CA,,35\nu4,GB,7,\nu1,MX,,\n');
    const report = await run({ kind: 'profiles', file });
    expect(report).toMatchObject({
      rows: 3,
      valid: 3,
      inserted: 1,
      updated: 1,
      duplicates: 1,
      applied: true,
    });
    const u1 = env.store.data.profiles.find((p) => p.id === 'u1');
    expect(u1).toMatchObject({
      country: 'MX',
      followers: 1200,
      platform: 'instagram',
      interests: ['sports', 'music'],
    });
    expect(u1?.attrs).toMatchObject({ age: 35, loyalty_tier: 'gold' });
    expect(env.store.data.profiles).toHaveLength(4);
    expect(env.store.data.profiles[3]).toMatchObject({ id: 'u4', followers: 7, attrs: { age: null } });
    expect(env.store.data.meta.dataVersion).toBe(2);
  });

  it('attribute names that exist on Object.prototype are ordinary attributes', async () => {
    const file = await env.write('proto.csv', 'id,constructor,toString\na,1,x\nb,2,\n');
    const report = await run({ kind: 'profiles', file });
    expect(report.newAttributes).toEqual({ constructor: 'number', tostring: 'category' });
    expect(env.store.data.profiles[1]?.attrs).toEqual({ constructor: 2, tostring: null });
  });

  it('values must fit an attribute kind already in the store', async () => {
    await run({ kind: 'profiles', file: fixture('profiles.csv') });
    const file = await env.write('k.csv', 'id,age,vip\nu9,forty,yes\nu8,40,maybe\n');
    const report = await run({ kind: 'profiles', file });
    expect(report.applied).toBe(false);
    expect(report.errors).toEqual([
      {
        row: 1,
        line: 2,
        field: 'age',
        column: 'age',
        message: 'expected a number, got "forty" (attribute "age" is stored as a number)',
      },
      {
        row: 2,
        line: 3,
        field: 'vip',
        column: 'vip',
        message: 'expected true/false, yes/no or 1/0, got "maybe" (attribute "vip" is stored as true/false)',
      },
    ]);
  });
});

describe('products', () => {
  it('imports CSV with aliases (SKU, Title, Stock as a count)', async () => {
    const report = await run({ kind: 'products', file: fixture('products.csv') });
    expect(report).toMatchObject({ rows: 3, inserted: 3, applied: true });
    expect(env.store.data.products).toEqual([
      { id: 'p1', name: 'Running Shoes', category: 'shoes', price: 89.9, in_stock: true },
      { id: 'p2', name: 'Yoga Mat', category: 'fitness', price: 25, in_stock: false },
      { id: 'p3', name: 'Water Bottle', category: 'fitness', price: 9.5, in_stock: true },
    ]);
  });

  it('imports JSON and NDJSON, updating existing products', async () => {
    await run({ kind: 'products', file: fixture('products.csv') });
    const json = await run({ kind: 'products', file: fixture('products.json') });
    expect(json).toMatchObject({ inserted: 0, updated: 2 });
    const nd = await run({ kind: 'products', file: fixture('products.ndjson') });
    expect(nd).toMatchObject({ inserted: 0, updated: 2 });
    expect(env.store.data.products.map((p) => p.in_stock)).toEqual([true, false, true]);
  });

  it('a partial file updates prices only; a new product without a price is an error', async () => {
    await run({ kind: 'products', file: fixture('products.csv') });
    const file = await env.write('price.csv', 'sku,price\np1,79\np9,\n');
    const report = await run({ kind: 'products', file, skipInvalid: true });
    expect(report).toMatchObject({ valid: 1, updated: 1, inserted: 0, skipped: 1, applied: true });
    expect(report.errors[0]).toMatchObject({
      row: 2,
      field: 'price',
      message: expect.stringContaining('needs a price'),
    });
    expect(env.store.data.products[0]).toEqual({
      id: 'p1',
      name: 'Running Shoes',
      category: 'shoes',
      price: 79,
      in_stock: true,
    });
  });
});

describe('interactions', () => {
  it('imports CSV with aliases, timestamps in any supported form, and de-duplicates', async () => {
    await seed();
    const report = await run({ kind: 'interactions', file: fixture('interactions.csv') });
    expect(report).toMatchObject({ rows: 5, valid: 5, inserted: 5, duplicates: 0, applied: true });
    expect(env.store.data.interactions).toEqual([
      { user_id: 'u1', item_id: 'p1', type: 'view', value: null, timestamp: Date.UTC(2024, 4, 1, 10) },
      { user_id: 'u1', item_id: 'p1', type: 'purchase', value: 89.9, timestamp: Date.UTC(2024, 4, 1, 10, 5) },
      { user_id: 'u2', item_id: 'p2', type: 'rating', value: 4, timestamp: 1714557600000 },
      { user_id: 'u2', item_id: null, type: 'share', value: null, timestamp: 1714557600000 },
      { user_id: 'u3', item_id: 'p3', type: 'like', value: null, timestamp: Date.UTC(2024, 4, 2) },
    ]);
    const again = await run({ kind: 'interactions', file: fixture('interactions.csv') });
    expect(again).toMatchObject({ inserted: 0, duplicates: 5, applied: false, errorCount: 0 });
    expect(env.store.data.interactions).toHaveLength(5);
    expect(formatImportReport(again)).toContain('Nothing to import');
  });

  it('an unknown product is a row error; skipInvalid keeps the rest', async () => {
    await seed();
    const file = await env.write(
      'i.csv',
      'user_id,item_id,type,timestamp\nu1,p1,view,2024-05-01\nu1,nope,view,2024-05-01\n',
    );
    const report = await run({ kind: 'interactions', file, skipInvalid: true });
    expect(report.errors).toEqual([
      {
        row: 2,
        line: 3,
        field: 'item_id',
        message: 'unknown item_id "nope": import products first (or leave item_id empty)',
      },
    ]);
    expect(report).toMatchObject({ inserted: 1, skipped: 1, applied: true });
    expect(formatImportReport(report)).toContain('Imported 1 new interaction, skipping 1 invalid row.');
  });

  it('imports JSON and NDJSON; only new events are appended', async () => {
    await seed();
    await run({ kind: 'interactions', file: fixture('interactions.csv') });
    const json = await run({ kind: 'interactions', file: fixture('interactions.json') });
    // The view and the purchase are already stored (same user, item, type and time).
    expect(json).toMatchObject({ rows: 3, valid: 3, inserted: 1, duplicates: 2 });
    const nd = await run({ kind: 'interactions', file: fixture('interactions.ndjson') });
    expect(nd).toMatchObject({ rows: 2, inserted: 2 });
    expect(env.store.data.interactions).toHaveLength(8);
    expect(env.store.data.interactions.at(-1)).toMatchObject({ type: 'rating', value: 5, item_id: 'p3' });
  });

  it('rejects bad types, out-of-range ratings and unknown users with row numbers', async () => {
    await seed();
    await expectUnchanged(async () => {
      const report = await run({ kind: 'interactions', file: fixture('interactions-bad.csv') });
      expect(report.applied).toBe(false);
      expect(report.errors).toEqual([
        {
          row: 2,
          line: 3,
          field: 'type',
          column: 'type',
          message: 'expected one of view, like, share, comment, click, purchase, rating, got "buy"',
        },
        {
          row: 3,
          line: 4,
          field: 'value',
          column: 'value',
          message: 'expected a rating from 0.5 to 10 in steps of 0.5 (half stars, or a 1-10 scale), got 11',
        },
        { row: 4, line: 5, field: 'user_id', message: 'unknown user_id "u9": import profiles first' },
      ]);
      expect(report).toMatchObject({ rows: 4, valid: 1, errorCount: 3 });
    });
  });
});

describe('all or nothing', () => {
  it('a bad CSV changes nothing, in memory or on disk, and lists the rows', async () => {
    await run({ kind: 'profiles', file: fixture('profiles.csv') });
    await expectUnchanged(async () => {
      const report = await run({ kind: 'profiles', file: fixture('profiles-bad.csv') });
      expect(report).toMatchObject({ rows: 7, valid: 3, errorCount: 4, applied: false, skipped: 0 });
      expect(report.errors.map((e) => [e.row, e.line, e.field])).toEqual([
        [2, 3, 'followers'],
        [3, 4, 'created_at'],
        [4, 5, undefined],
        [6, 7, undefined],
      ]);
      expect(report.errors[0]?.message).toBe('expected a number, got "12k"');
      const text = formatImportReport(report);
      expect(text).toContain('row 2 (line 3), column "followers": expected a number, got "12k"');
      expect(text).toContain('Nothing was imported: 4 of 7 rows are invalid');
      expect(text).toContain('--skip-invalid');
    });
  });

  it('lists only maxErrors errors but counts all of them', async () => {
    const report = await run({ kind: 'profiles', file: fixture('profiles-bad.csv'), maxErrors: 2 });
    expect(report.errors.map((e) => e.row)).toEqual([2, 3]);
    expect(report.errorCount).toBe(4);
    expect(formatImportReport(report)).toContain('showing the first 2');
  });

  it('skipInvalid imports the valid rows and reports the skipped ones', async () => {
    const report = await run({ kind: 'profiles', file: fixture('profiles-bad.csv'), skipInvalid: true });
    expect(report).toMatchObject({
      rows: 7,
      valid: 3,
      inserted: 3,
      skipped: 4,
      errorCount: 4,
      applied: true,
    });
    expect(env.store.data.profiles.map((p) => p.id)).toEqual(['u1', 'u5', 'u7']);
    expect(formatImportReport(report)).toContain(
      'Imported 3 new and 0 updated profiles, skipping 4 invalid rows.',
    );
  });

  it('dryRun validates and counts but changes nothing', async () => {
    await run({ kind: 'profiles', file: fixture('profiles.csv') });
    await expectUnchanged(async () => {
      const file = await env.write('d.csv', 'id,followers,newattr\nu1,5,x\nu9,6,y\n');
      const report = await run({ kind: 'profiles', file, dryRun: true });
      expect(report).toMatchObject({
        dryRun: true,
        applied: false,
        inserted: 1,
        updated: 1,
        newAttributes: { newattr: 'category' },
      });
      expect(formatImportReport(report)).toContain('would import 1 new and 1 updated profiles.');
    });
  });

  it('calls onProgress with bytes read up to the file size', async () => {
    const seen: Array<{ bytesRead: number; totalBytes: number; rows: number }> = [];
    await run({ kind: 'profiles', file: fixture('profiles.csv'), onProgress: (p) => seen.push(p) });
    const last = seen.at(-1);
    expect(last?.bytesRead).toBe(last?.totalBytes);
    expect(last?.rows).toBe(3);
  });
});

describe('file-level problems throw ImportError', () => {
  const cases: Array<[string, Omit<ImportOptions, 'now'>, RegExp]> = [
    [
      'missing file',
      { kind: 'profiles', file: '/nonexistent/users.csv' },
      /file not found: \/nonexistent\/users\.csv/,
    ],
    ['empty file', { kind: 'profiles', file: fixture('empty.csv') }, /is empty: expected a header line/],
    ['header only', { kind: 'profiles', file: fixture('profiles-header-only.csv') }, /has no data rows/],
    [
      'missing id column',
      { kind: 'profiles', file: fixture('profiles-no-id.csv') },
      /no id column: expected one of "id", "user_id", "userId" \(or pass --map id=<your column>\); its columns are "uid", "platform"/,
    ],
    [
      'unknown extension',
      { kind: 'profiles', file: fixture('profiles.csv').replace('.csv', '.txt') },
      // The advice names the CLI's real option (`--format` is the reply format, and was refused here).
      /pass --from csv\|json\|ndjson/,
    ],
    [
      'unknown format',
      { kind: 'profiles', file: fixture('profiles.csv'), format: 'xml' as 'csv' },
      /unknown format "xml"/,
    ],
    [
      'map source missing',
      { kind: 'profiles', file: fixture('profiles.csv'), map: { followers: 'fans' } },
      /no column "fans"/,
    ],
    ['unclosed quote', { kind: 'profiles', file: fixture('profiles-unclosed.csv') }, /never closed/],
  ];
  for (const [name, options, message] of cases) {
    it(name, async () => {
      await run({ kind: 'profiles', file: fixture('profiles.csv') });
      await expectUnchanged(async () => {
        const error = await run(options).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ImportError);
        expect((error as Error).message).toMatch(message);
      });
    });
  }

  it('JSON without any id field, and JSON that is not an array', async () => {
    const noId = await env.write('n.json', '[{"uid": "a"}, {"uid": "b"}]');
    await expect(run({ kind: 'profiles', file: noId })).rejects.toThrow(/no id field: expected one of "id"/);
    const scalar = await env.write('s.json', '{"count": 3}');
    await expect(run({ kind: 'profiles', file: scalar })).rejects.toThrow(/expected a JSON array of records/);
    const broken = await env.write('b.json', '[{"id": "a"},');
    await expect(run({ kind: 'profiles', file: broken })).rejects.toThrow(/is not valid JSON/);
    const empty = await env.write('e.json', '[]');
    await expect(run({ kind: 'profiles', file: empty })).rejects.toThrow(/has no data rows/);
  });

  it('duplicate header columns', async () => {
    const file = await env.write('dup.csv', 'id,country,country\na,US,DE\n');
    await expect(run({ kind: 'profiles', file })).rejects.toThrow(/column "country" appears twice/);
  });
});
