/**
 * Streaming record readers for CSV, NDJSON and JSON. They never hold the file as text: each yields raw records
 * (plus per-row problems such as a ragged CSV row) as it reads, and reports bytes read from the file stream.
 */
import { createReadStream } from 'node:fs';
import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { type CsvError, Parser } from 'csv-parse';
import Pick from 'stream-json/filters/Pick.js';
import StreamParser from 'stream-json/Parser.js';
import StreamArray from 'stream-json/streamers/StreamArray.js';
import { ImportError } from '../domain/errors.ts';
import { show } from './infer.ts';

/** The file formats the importer reads. */
export type ImportFormat = 'csv' | 'json' | 'ndjson';

/** What a reader yields: the CSV header once, then records and per-row problems, in roughly file order. */
export type ReadEvent =
  | { type: 'header'; columns: string[] }
  | { type: 'record'; row: number; line?: number; values: Record<string, unknown> }
  | { type: 'problem'; row: number; line?: number; message: string };

/** Where to read from and whom to tell about progress. */
export interface ReadOptions {
  file: string;
  format: ImportFormat;
  /** Called with the running total of bytes read from disk, once per chunk. */
  onBytes?: (bytesRead: number) => void;
}

/** A record longer than this is almost always an unclosed quote swallowing the file. */
export const MAX_CSV_RECORD_BYTES = 1_000_000;

const BOM = [0xef, 0xbb, 0xbf];

/** Counts raw bytes for progress and drops a UTF-8 byte-order mark at the start. */
class ByteCounter extends Transform {
  private total = 0;
  constructor(private readonly onBytes?: (bytesRead: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const first = this.total === 0;
    this.total += chunk.length;
    this.onBytes?.(this.total);
    if (first && chunk.length >= 3 && BOM.every((b, i) => chunk[i] === b)) done(null, chunk.subarray(3));
    else done(null, chunk);
  }
}

function source(options: ReadOptions): Transform {
  const counter = new ByteCounter(options.onBytes);
  // Errors (e.g. the file vanishing mid-read) travel down the pipeline into whoever iterates the last stream.
  pipeline(createReadStream(options.file), counter, () => {});
  return counter;
}

/**
 * Reads records from a file in the given format, in batches (one per parsed chunk) so the per-record cost stays
 * synchronous. File-level failures throw `ImportError`.
 */
export function readRecords(options: ReadOptions): AsyncGenerator<ReadEvent[]> {
  switch (options.format) {
    case 'csv':
      return readCsv(options);
    case 'ndjson':
      return readNdjson(options);
    case 'json':
      return readJson(options);
  }
}

/**
 * Everything an object stream has ready, batch by batch; `for await` over the stream itself costs an await per
 * record, which made a 20 MB import several times slower.
 */
async function* readBatches<T>(stream: Readable): AsyncGenerator<T[]> {
  let ended = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const onEnd = () => {
    ended = true;
    notify();
  };
  const onError = (err: Error) => {
    failure = err;
    notify();
  };
  stream.on('readable', notify);
  stream.on('end', onEnd);
  stream.on('close', onEnd);
  stream.on('error', onError);
  try {
    while (true) {
      const batch: T[] = [];
      for (let item = stream.read(); item !== null; item = stream.read()) batch.push(item as T);
      if (batch.length > 0) {
        yield batch;
        continue;
      }
      if (failure) throw failure;
      if (ended) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    stream.off('readable', notify);
    stream.off('end', onEnd);
    stream.off('close', onEnd);
    stream.off('error', onError);
    stream.destroy();
  }
}

const FATAL_CSV_CODES = new Set(['CSV_QUOTE_NOT_CLOSED', 'CSV_MAX_RECORD_SIZE']);

function describeCsvProblem(err: CsvError, columns: number): string {
  const got = /got (\d+)/.exec(err.message)?.[1];
  switch (err.code) {
    case 'CSV_RECORD_INCONSISTENT_COLUMNS':
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
      return `expected ${columns} fields like the header, got ${got ?? 'a different number'} (an unquoted comma, or a missing or extra value?)`;
    case 'INVALID_OPENING_QUOTE':
      return 'a quote (") inside an unquoted field: quote the whole field and double the inner quote ("")';
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'text right after a closing quote: inside a quoted field write a quote as ""';
    default:
      return err.message.replace(/ (at|on) line \d+.*$/, '');
  }
}

/**
 * Line breaks inside quoted fields, so a multi-line record reports the line it starts on. csv-parse counts
 * every CR and every LF inside quotes as a line, so this does too.
 */
function innerLineBreaks(record: Record<string, string>): number {
  let breaks = 0;
  for (const key in record) {
    const value = record[key] as string;
    if (!value.includes('\n') && !value.includes('\r')) continue;
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c === 10 || c === 13) breaks++;
    }
  }
  return breaks;
}

/**
 * csv-parse with each record tagged by its row and line as it is pushed. Reading `info` here is cheap, while
 * csv-parse's own `on_record` / `info` options build a context object per record and ran 3x slower.
 */
class NumberedCsvParser extends Parser {
  /** Rows dropped as errors so far; they never reach the output but still have row numbers. */
  skips = 0;
  /** The last record pushed, to point at where an unclosed quote starts. */
  lastRow = 0;
  lastLine = 1;

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk === null) return super.push(chunk, encoding);
    const values = chunk as Record<string, string>;
    const event: ReadEvent = {
      type: 'record',
      row: this.info.records + this.skips,
      line: this.info.lines - innerLineBreaks(values),
      values,
    };
    this.lastRow = event.row;
    this.lastLine = this.info.lines;
    return super.push(event);
  }
}

async function* readCsv(options: ReadOptions): AsyncGenerator<ReadEvent[]> {
  let header: string[] | null = null;
  let fatal: ImportError | null = null;
  // Problems are found synchronously while parsing, ahead of records still buffered; the importer sorts errors.
  let pending: ReadEvent[] = [];
  const parser: NumberedCsvParser = new NumberedCsvParser({
    bom: true,
    trim: true,
    skip_empty_lines: true,
    relax_column_count: false,
    skip_records_with_error: true,
    max_record_size: MAX_CSV_RECORD_BYTES,
    columns: (names: string[]) => {
      header = names.map((n) => String(n).trim());
      pending.push({ type: 'header', columns: header });
      return header;
    },
    on_skip: (err) => {
      if (!err) return undefined;
      parser.skips++;
      const row = (typeof err.records === 'number' ? err.records : 0) + parser.skips;
      const line = typeof err.lines === 'number' ? err.lines : undefined;
      if (FATAL_CSV_CODES.has(err.code)) {
        const { lastRow, lastLine } = parser;
        fatal ??= new ImportError(
          err.code === 'CSV_QUOTE_NOT_CLOSED'
            ? `${options.file}: a quoted field that starts after row ${lastRow} (line ${lastLine}) is never closed, so the rest of the file cannot be read; look for a stray " from line ${lastLine + 1}`
            : `${options.file}: row ${row} (near line ${line ?? '?'}) is over ${MAX_CSV_RECORD_BYTES} bytes, which usually means an unclosed quote; look for a stray " from line ${lastLine + 1}`,
        );
      } else {
        pending.push({ type: 'problem', row, line, message: describeCsvProblem(err, header?.length ?? 0) });
      }
      return undefined;
    },
  });
  pipeline(source(options), parser, () => {});
  const takePending = (): ReadEvent[] => {
    const out = pending;
    pending = [];
    return out;
  };
  try {
    for await (const batch of readBatches<ReadEvent>(parser)) {
      if (fatal) break;
      // The header (and early problems) must come before the records parsed after them.
      yield pending.length > 0 ? [...takePending(), ...batch] : batch;
    }
  } catch (err) {
    if (err instanceof ImportError) throw err;
    throw new ImportError(`${options.file} could not be read as CSV: ${(err as Error).message}`);
  }
  if (fatal) throw fatal;
  if (pending.length > 0) yield takePending();
}

const MAX_NDJSON_LINE_CHARS = 16_000_000;

async function* readNdjson(options: ReadOptions): AsyncGenerator<ReadEvent[]> {
  const input = source(options);
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let line = 0;
  const parseLine = (text: string, out: ReadEvent[]) => {
    line++;
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      out.push({ type: 'problem', row: line, line, message: `invalid JSON: ${(err as Error).message}` });
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      out.push({ type: 'problem', row: line, line, message: `expected a JSON object, got ${show(value)}` });
      return;
    }
    out.push({ type: 'record', row: line, line, values: value as Record<string, unknown> });
  };
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      const text = rest + decoder.write(chunk);
      const out: ReadEvent[] = [];
      let from = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
        parseLine(text.slice(from, nl), out);
        from = nl + 1;
      }
      rest = text.slice(from);
      if (rest.length > MAX_NDJSON_LINE_CHARS) {
        throw new ImportError(
          `${options.file}: line ${line + 1} is longer than ${MAX_NDJSON_LINE_CHARS} characters; is this NDJSON?`,
        );
      }
      if (out.length > 0) yield out;
    }
  } catch (err) {
    if (err instanceof ImportError) throw err;
    throw new ImportError(`${options.file} could not be read: ${(err as Error).message}`);
  } finally {
    input.destroy();
  }
  const last = rest + decoder.end();
  if (last.length > 0) {
    const out: ReadEvent[] = [];
    parseLine(last, out);
    if (out.length > 0) yield out;
  }
}

async function* readJson(options: ReadOptions): AsyncGenerator<ReadEvent[]> {
  let picked: string | null = null;
  // Either the top-level array, or the first array-valued property of a top-level object ({"profiles": [...]}).
  const picker = new Pick({
    once: true,
    filter: (stack, token) => {
      if (token.name !== 'startArray') return false;
      if (stack.length === 0) picked = '(top level)';
      else if (stack.length === 1 && typeof stack[0] === 'string') picked = stack[0];
      else return false;
      return true;
    },
  });
  const items = new StreamArray();
  pipeline(source(options), new StreamParser({ streamValues: false }), picker, items, () => {});
  let count = 0;
  try {
    for await (const batch of readBatches<{ key: number; value: unknown }>(items)) {
      const out: ReadEvent[] = [];
      for (const item of batch) {
        count++;
        const row = item.key + 1;
        const value = item.value;
        if (value === null || typeof value !== 'object' || Array.isArray(value)) {
          out.push({ type: 'problem', row, message: `expected a JSON object, got ${show(value)}` });
        } else out.push({ type: 'record', row, values: value as Record<string, unknown> });
      }
      yield out;
    }
  } catch (err) {
    throw new ImportError(
      `${options.file} is not valid JSON (${(err as Error).message}) after record ${count}; fix the file and retry`,
    );
  }
  if (picked === null) {
    throw new ImportError(
      `${options.file}: expected a JSON array of records, or an object holding one like {"records": [...]}`,
    );
  }
}
