import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ImportError } from '../../src/domain/errors.ts';
import { type ReadEvent, readRecords } from '../../src/import/readers.ts';
import { fixture, tempStore } from './helpers.ts';

async function collect(file: string, format: 'csv' | 'json' | 'ndjson'): Promise<ReadEvent[]> {
  const out: ReadEvent[] = [];
  for await (const batch of readRecords({ file, format })) out.push(...batch);
  return out;
}

const summary = (events: ReadEvent[]) =>
  events
    .filter((e) => e.type !== 'header')
    .map((e) => (e.type === 'record' ? `${e.row}@${e.line}` : `!${e.row}@${e.line}`))
    .sort((a, b) => Number.parseInt(a.replace('!', ''), 10) - Number.parseInt(b.replace('!', ''), 10));

describe('readRecords', () => {
  let env: Awaited<ReturnType<typeof tempStore>>;
  beforeEach(async () => {
    env = await tempStore();
  });
  afterEach(async () => {
    await env.cleanup();
  });

  it('CSV: header first, rows numbered from 1, ragged rows and bad quotes as row problems', async () => {
    const events = await collect(fixture('profiles-bad.csv'), 'csv');
    expect(events[0]).toEqual({ type: 'header', columns: ['id', 'platform', 'followers', 'created_at'] });
    expect(summary(events)).toEqual(['1@2', '2@3', '3@4', '!4@5', '5@6', '!6@7', '7@8']);
    const ragged = events.find((e) => e.type === 'problem' && e.row === 4);
    expect(ragged).toMatchObject({
      message: expect.stringContaining('expected 4 fields like the header, got 3'),
    });
  });

  it('CSV: BOM, CRLF, blank lines and trimming', async () => {
    const file = await env.write('x.csv', '\ufeffid , note\r\n a ,x\r\n\r\nb, " y " \r\n');
    const events = await collect(file, 'csv');
    expect(events).toEqual([
      { type: 'header', columns: ['id', 'note'] },
      { type: 'record', row: 1, line: 2, values: { id: 'a', note: 'x' } },
      { type: 'record', row: 2, line: 4, values: { id: 'b', note: ' y ' } },
    ]);
  });

  it('CSV: a multi-line quoted field reports the line the row starts on', async () => {
    const file = await env.write('m.csv', 'id,note\na,"two\nlines"\n\nb,x\n');
    const events = await collect(file, 'csv');
    expect(events.slice(1)).toEqual([
      { type: 'record', row: 1, line: 2, values: { id: 'a', note: 'two\nlines' } },
      { type: 'record', row: 2, line: 5, values: { id: 'b', note: 'x' } },
    ]);
  });

  it('CSV: an unclosed quote is a file-level error naming where to look', async () => {
    await expect(collect(fixture('profiles-unclosed.csv'), 'csv')).rejects.toThrow(
      /never closed.*look for a stray " from line 3/,
    );
  });

  it('NDJSON: rows are line numbers; bad lines are row problems', async () => {
    const file = await env.write('x.ndjson', '{"id":"a"}\n\nnot json\n[1]\n{"id":"b"}');
    const events = await collect(file, 'ndjson');
    expect(events.map((e) => [e.type, e.type === 'header' ? 0 : e.row])).toEqual([
      ['record', 1],
      ['problem', 3],
      ['problem', 4],
      ['record', 5],
    ]);
  });

  it('JSON: a top-level array, or the first array property of an object', async () => {
    const top = await collect(fixture('products.json'), 'json');
    expect(top.map((e) => e.type === 'record' && e.values.product_id)).toEqual(['p1', 'p2']);
    const nested = await collect(fixture('profiles.json'), 'json');
    expect(nested).toHaveLength(3);
    expect(nested[1]).toMatchObject({ type: 'record', row: 2, values: { userId: 2 } });
  });

  it('JSON: non-object items are row problems; broken JSON and no array are file errors', async () => {
    const mixed = await env.write('m.json', '[{"id":1}, 2, "x"]');
    expect((await collect(mixed, 'json')).map((e) => e.type)).toEqual(['record', 'problem', 'problem']);
    const broken = await env.write('b.json', '[{"id":1}, {"id":');
    await expect(collect(broken, 'json')).rejects.toThrow(ImportError);
    const noArray = await env.write('o.json', '{"a": {"b": 1}}');
    await expect(collect(noArray, 'json')).rejects.toThrow(/expected a JSON array of records/);
  });

  it('reports bytes read from the file as it goes', async () => {
    const text = `id,n\n${Array.from({ length: 50_000 }, (_, i) => `u${i},${i}`).join('\n')}\n`;
    const file = await env.write('big.csv', text);
    const seen: number[] = [];
    for await (const _ of readRecords({ file, format: 'csv', onBytes: (n) => seen.push(n) })) {
      // drain
    }
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.at(-1)).toBe(Buffer.byteLength(text));
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
  });
});
