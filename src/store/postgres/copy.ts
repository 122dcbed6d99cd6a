/**
 * Bulk writes with COPY (pg-copy-streams): rows are encoded in COPY's text format and streamed in chunks, so
 * a million-row import neither builds one giant statement nor holds its encoded form in memory at once.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** A value of one COPY cell: text, a number, a boolean, a text array, JSON (`{ json }`) or null. */
export type CopyValue = string | number | boolean | readonly string[] | { json: unknown } | null | undefined;

const ROWS_PER_CHUNK = 2_000;

/** Escapes text for COPY's text format (backslash, tab, newline, carriage return). */
function escapeText(text: string): string {
  return /[\\\t\n\r]/.test(text)
    ? text.replace(/[\\\t\n\r]/g, (c) =>
        c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
      )
    : text;
}

/** A PostgreSQL array literal of text elements, every element quoted. */
function arrayLiteral(items: readonly string[]): string {
  return `{${items.map((s) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}

/** One cell in COPY text format. */
export function copyCell(value: CopyValue): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'string') return escapeText(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`cannot store ${value}`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (Array.isArray(value)) return escapeText(arrayLiteral(value as readonly string[]));
  return escapeText(JSON.stringify((value as { json: unknown }).json));
}

function* encode(rows: Iterable<readonly CopyValue[]>): Generator<string> {
  let chunk: string[] = [];
  for (const row of rows) {
    chunk.push(`${row.map(copyCell).join('\t')}\n`);
    if (chunk.length >= ROWS_PER_CHUNK) {
      yield chunk.join('');
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk.join('');
}

/** The COPY rows of `items`, made one at a time as COPY reads them (a million-row array of rows is not built). */
export function* mapRows<T>(
  items: readonly T[],
  row: (item: T, index: number) => readonly CopyValue[],
): Generator<readonly CopyValue[]> {
  for (let i = 0; i < items.length; i++) yield row(items[i] as T, i);
}

/** Streams rows into `table (columns)` with COPY on `client` (inside its transaction); returns the row count. */
export async function copyRows(
  client: pg.PoolClient,
  table: string,
  columns: readonly string[],
  rows: Iterable<readonly CopyValue[]>,
): Promise<number> {
  const sink = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  await pipeline(Readable.from(encode(rows)), sink);
  return sink.rowCount;
}
