/**
 * The data file format ("audience-insights-store", format 1): UTF-8 text, one JSON value per line, so neither
 * writing nor reading ever builds one giant string (V8 caps a string at ~512 MB, which one JSON document of
 * the data hits at ~1.2M profiles). The first line is a magic word plus header, the last a trailer:
 *
 *   #audience-insights-store/1 {"schemaVersion":1,"counts":{"profiles":P,"interactions":I},"chunkRows":50000}
 *   {"t":"meta","meta":{…},"attributes":{…}}
 *   {"t":"rows","c":"products"|"schedules"|"deliveries"|"audit"|"segmentRuns","rows":[…]}
 *   {"t":"extra","k":key,"v":…}     (a top-level key this codec does not know, kept verbatim)
 *   {"t":"profiles","n":…,"id":[…],"platform":{"d":[dict],"c":[codes]},"country":{…},"created_at":[…],
 *     "last_active_at":[…],"followers":[…],"interests":{"d":[dict],"len":[…]|k,"c":[…]},"attrs":[column…]}
 *   {"t":"interactions","n":…,"u":[…],"ux":[…],"item":{"d","c"},"type":{"d","c"},"value":[…],"ts":[…],"tsDelta":b}
 *   {"t":"model","k":key,"v":…}
 *   {"t":"end","lines":L,"bytes":B,"counts":{…},"sha256":"<hex of every byte before this line>"}
 *
 * Profiles and interactions are columnar, `chunkRows` rows per line, and all profile lines come before the
 * interaction lines; other lines may come in any order. Dictionary columns store each distinct value once
 * per chunk plus a code per row (-1 = null); list lengths are one number when every row has the same.
 * Interaction users are indices into the profile array (so the strings are shared in memory) or -(k+1) into
 * `ux` for users without a profile; timestamps are delta-encoded when all are safe integers. Each custom
 * attribute is a column typed by its values: "n" numbers, "s" dictionary strings, "l" dictionary string
 * lists (length -1 = null), "j" anything else as raw JSON; "a" lists the rows where the key is absent.
 * The trailer's checksum and counts detect truncation and edits. A file whose first byte is `{` is read as
 * a plain lowdb JSON document (legacy or hand-written); writing always uses this format. With a data key the
 * same lines are wrapped in the authenticated container of privacy/encryption.ts, which is read here too.
 */
import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import {
  type AttributeValue,
  type AudienceData,
  emptyAudienceData,
  type Interaction,
  type InteractionType,
  type Profile,
} from '../domain/types.ts';
import {
  handInteractionColumns,
  type InteractionColumns,
  MAX_ITEMS,
  packEvent,
  typeCode,
  UNKNOWN_TYPE,
} from '../engine/interaction-index.ts';
import { EncryptionError, isEncryptedHead, openEncryptedFile } from '../privacy/encryption.ts';

/** The magic word at the start of every data file. */
export const FORMAT_NAME = 'audience-insights-store';
/** The layout version of the lines (independent of the data schema version). */
export const FORMAT_VERSION = 1;
/** Rows per profiles/interactions line: big enough to amortise JSON.parse, small enough to stay a few MB. */
export const DEFAULT_CHUNK_ROWS = 50_000;

const SMALL_CHUNK_ROWS = 10_000;
const NEWLINE = Buffer.from('\n');
const KNOWN_KEYS = new Set([
  'schemaVersion',
  'meta',
  'attributes',
  'profiles',
  'products',
  'interactions',
  'schedules',
  'deliveries',
  'segmentRuns',
  'models',
  'audit',
]);
/** Collections stored as plain row lines. */
const ROW_COLLECTIONS = ['products', 'schedules', 'deliveries', 'segmentRuns', 'audit'] as const;
type RowCollection = (typeof ROW_COLLECTIONS)[number];

/** A content problem in a data file (as opposed to an I/O error, which is thrown as is). */
export class CodecError extends Error {
  override name = 'CodecError';
  constructor(
    readonly kind: 'corrupt' | 'truncated' | 'newer_format',
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Encoding

/** Options for encoding; `schemaVersion` lets tests build files of older schemas. */
export interface EncodeOptions {
  schemaVersion?: number;
  chunkRows?: number;
}

/** Collections encoded at once when a save starts: small, and edited in place (a schedule gets paused). */
const EAGER_COLLECTIONS = ['products', 'schedules', 'deliveries', 'audit'] as const;

/**
 * Starts encoding the data as the lines of a data file and returns them lazily: each Buffer is one line
 * with its newline (the last is the trailer); `null` marks a pause where the caller should yield to the
 * event loop, so a save of a million profiles never blocks it for long.
 *
 * What is captured when: meta, attributes and the small collections are encoded right here, synchronously;
 * profiles, interactions, segment runs and models are captured as shallow copies of their arrays (so
 * later adds, removals and replacements are not seen), and each row is encoded as it is when its chunk is
 * reached. A change made meanwhile is always followed by another save (the store sees to that).
 */
export function encodeLines(data: AudienceData, options: EncodeOptions = {}): Generator<Buffer | null> {
  const chunkRows = Math.max(1, options.chunkRows ?? DEFAULT_CHUNK_ROWS);
  const schemaVersion = options.schemaVersion ?? data.schemaVersion;
  const profiles = data.profiles.slice();
  const interactions = data.interactions.slice();
  const segmentRuns = data.segmentRuns.slice();
  const models = Object.entries(data.models);
  const counts: Record<string, number> = {
    profiles: profiles.length,
    interactions: interactions.length,
    segmentRuns: segmentRuns.length,
    models: models.length,
  };
  const header = {
    schemaVersion,
    counts: { profiles: profiles.length, interactions: interactions.length },
    chunkRows,
  };
  const eager: string[] = [
    `#${FORMAT_NAME}/${FORMAT_VERSION} ${JSON.stringify(header)}`,
    JSON.stringify({ t: 'meta', meta: data.meta, attributes: data.attributes }),
  ];
  for (const collection of EAGER_COLLECTIONS) {
    const rows = data[collection] as unknown[];
    counts[collection] = rows.length;
    for (let start = 0; start < rows.length; start += SMALL_CHUNK_ROWS) {
      eager.push(
        JSON.stringify({ t: 'rows', c: collection, rows: rows.slice(start, start + SMALL_CHUNK_ROWS) }),
      );
    }
  }
  for (const [k, v] of Object.entries(data)) {
    if (!KNOWN_KEYS.has(k)) eager.push(JSON.stringify({ t: 'extra', k, v }));
  }
  const source = {
    profiles: data.profiles,
    interactions: data.interactions,
    dataVersion: data.meta.dataVersion,
  };
  return generateLines(source, eager, profiles, interactions, segmentRuns, models, counts, chunkRows);
}

/**
 * The encoded interaction chunks of the last save, kept for the next one (about the file's size in memory). Interactions make up most of a data
 * file (3.7M of them encode for about 3 s) and change only on an import, an erasure or a purge, while models,
 * segment runs and schedules are saved far more often; so a save re-encodes only the chunks whose rows
 * changed. Interaction objects are never edited in place (see engine/interaction-index.ts), and arrays are
 * either replaced (erasure, purge, sample load: a new WeakMap key) or appended to (import: only the last,
 * partial chunk and the new ones differ); a chunk is reused only when its end and its first and last objects
 * are the same. A chunk also encodes each user as a row of the profiles, so any change to the profiles array
 * drops them all.
 */
interface ReusableChunks {
  profiles: readonly Profile[];
  profileCount: number;
  chunkRows: number;
  chunks: Array<{ end: number; first: Interaction; last: Interaction; line: Buffer } | undefined>;
}

const lastEncoded = new WeakMap<readonly Interaction[], ReusableChunks>();

/**
 * The same for profiles, which an import does edit in place (an update merges into the existing object), but
 * always together with a new data version (markAudienceChanged): chunks are reused only within one version.
 */
interface ReusableProfileChunks {
  dataVersion: number;
  chunkRows: number;
  chunks: Array<{ end: number; first: Profile; last: Profile; line: Buffer } | undefined>;
}

const lastEncodedProfiles = new WeakMap<readonly Profile[], ReusableProfileChunks>();

/** Each stored segment run's encoded line, reused while the data version stays the same. */
const encodedRuns = new WeakMap<object, { dataVersion: number; line: Buffer }>();

function reusableProfileChunks(
  profiles: readonly Profile[],
  dataVersion: number,
  chunkRows: number,
): ReusableProfileChunks {
  const known = lastEncodedProfiles.get(profiles);
  if (known && known.dataVersion === dataVersion && known.chunkRows === chunkRows) return known;
  const fresh: ReusableProfileChunks = { dataVersion, chunkRows, chunks: [] };
  lastEncodedProfiles.set(profiles, fresh);
  return fresh;
}

function reusableChunks(
  interactions: readonly Interaction[],
  profiles: readonly Profile[],
  chunkRows: number,
): ReusableChunks {
  const known = lastEncoded.get(interactions);
  if (
    known &&
    known.profiles === profiles &&
    known.profileCount === profiles.length &&
    known.chunkRows === chunkRows
  ) {
    return known;
  }
  const fresh: ReusableChunks = { profiles, profileCount: profiles.length, chunkRows, chunks: [] };
  lastEncoded.set(interactions, fresh);
  return fresh;
}

function* generateLines(
  source: { profiles: readonly Profile[]; interactions: readonly Interaction[]; dataVersion: number },
  eager: string[],
  profiles: readonly Profile[],
  interactions: readonly Interaction[],
  segmentRuns: readonly unknown[],
  models: readonly [string, unknown][],
  counts: Record<string, number>,
  chunkRows: number,
): Generator<Buffer | null> {
  const hash = createHash('sha256');
  let bytes = 0;
  let lines = 0;
  const counted = (buf: Buffer): Buffer => {
    hash.update(buf);
    bytes += buf.length;
    lines++;
    return buf;
  };
  const line = (text: string): Buffer => counted(Buffer.from(`${text}\n`, 'utf8'));

  for (let i = 0; i < eager.length; i++) {
    yield line(eager[i] as string);
    eager[i] = '';
  }
  const reuseProfiles = reusableProfileChunks(source.profiles, source.dataVersion, chunkRows);
  for (let start = 0, c = 0; start < profiles.length; start += chunkRows, c++) {
    const end = Math.min(profiles.length, start + chunkRows);
    const first = profiles[start] as Profile;
    const last = profiles[end - 1] as Profile;
    const known = reuseProfiles.chunks[c];
    if (known && known.end === end && known.first === first && known.last === last) {
      yield counted(known.line);
      continue;
    }
    const encoded = line(encodeProfiles(profiles, start, end));
    reuseProfiles.chunks[c] = { end, first, last, line: encoded };
    yield encoded;
  }
  reuseProfiles.chunks.length = Math.ceil(profiles.length / chunkRows);
  if (interactions.length > 0) {
    const reuse = reusableChunks(source.interactions, source.profiles, chunkRows);
    let userIndex: Map<string, number> | null = null;
    for (let start = 0, c = 0; start < interactions.length; start += chunkRows, c++) {
      const end = Math.min(interactions.length, start + chunkRows);
      const first = interactions[start] as Interaction;
      const last = interactions[end - 1] as Interaction;
      const known = reuse.chunks[c];
      if (known && known.end === end && known.first === first && known.last === last) {
        yield counted(known.line);
        continue;
      }
      if (userIndex === null) {
        userIndex = new Map<string, number>();
        for (let i = 0; i < profiles.length; i++) {
          const id = (profiles[i] as Profile).id;
          if (!userIndex.has(id)) userIndex.set(id, i);
          if (i % chunkRows === chunkRows - 1) yield null;
        }
      }
      const encoded = line(encodeInteractions(interactions, start, end, userIndex));
      reuse.chunks[c] = { end, first, last, line: encoded };
      yield encoded;
    }
    reuse.chunks.length = Math.ceil(interactions.length / chunkRows);
  }
  for (const run of segmentRuns) {
    // A run holds everyone's segment (about 1.5 MB of JSON at 100k profiles) and never changes after it is
    // stored, except when someone is erased, which also moves the data version.
    const known = encodedRuns.get(run as object);
    if (known && known.dataVersion === source.dataVersion) {
      yield counted(known.line);
      continue;
    }
    const encoded = line(JSON.stringify({ t: 'rows', c: 'segmentRuns', rows: [run] }));
    encodedRuns.set(run as object, { dataVersion: source.dataVersion, line: encoded });
    yield encoded;
  }
  for (const [k, v] of models) yield line(JSON.stringify({ t: 'model', k, v }));

  const trailer = { t: 'end', lines, bytes, counts, sha256: hash.digest('hex') };
  yield Buffer.from(`${JSON.stringify(trailer)}\n`, 'utf8');
}

/** Encodes the whole data file at once (each Buffer one line); for tests and small data. */
export function encodeAudienceData(data: AudienceData, options: EncodeOptions = {}): Buffer[] {
  const out: Buffer[] = [];
  for (const buf of encodeLines(data, options)) if (buf !== null) out.push(buf);
  return out;
}

/** List lengths as one number when they are all the same (three interests each, typically). */
function compactLengths(len: number[]): number[] | number {
  const first = len[0];
  if (first === undefined) return len;
  for (let i = 1; i < len.length; i++) if (len[i] !== first) return len;
  return first;
}

/** Reads a list-length column written by compactLengths. */
function listLengths(value: unknown, n: number, what: string): number[] {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < -1) throw corrupt(`${what} has a bad list length`);
    return new Array<number>(n).fill(value);
  }
  return array(value, n, what) as number[];
}

/** Assigns distinct values codes in order of first sight; null/undefined get -1. */
class DictBuilder {
  readonly d: unknown[] = [];
  private readonly codes = new Map<unknown, number>();

  code(value: unknown): number {
    if (value === null || value === undefined) return -1;
    let code = this.codes.get(value);
    if (code === undefined) {
      code = this.d.length;
      this.codes.set(value, code);
      this.d.push(value);
    }
    return code;
  }
}

const ABSENT = Symbol('absent');

function encodeProfiles(profiles: readonly Profile[], start: number, end: number): string {
  const n = end - start;
  const id = new Array<string>(n);
  const platform = new DictBuilder();
  const platformCodes = new Array<number>(n);
  const country = new DictBuilder();
  const countryCodes = new Array<number>(n);
  const createdAt = new Array<number | null>(n);
  const lastActiveAt = new Array<number | null>(n);
  const followers = new Array<number | null>(n);
  const interests = new DictBuilder();
  const interestLen = new Array<number>(n);
  const interestCodes: number[] = [];
  const attrColumns = new Map<string, unknown[]>();

  for (let i = 0; i < n; i++) {
    const p = profiles[start + i] as Profile;
    id[i] = p.id;
    platformCodes[i] = platform.code(p.platform);
    countryCodes[i] = country.code(p.country);
    createdAt[i] = p.created_at ?? null;
    lastActiveAt[i] = p.last_active_at ?? null;
    followers[i] = p.followers ?? null;
    const list = p.interests;
    if (Array.isArray(list)) {
      interestLen[i] = list.length;
      for (const s of list) interestCodes.push(interests.code(s));
    } else {
      interestLen[i] = 0;
    }
    const attrs = p.attrs;
    if (attrs) {
      for (const key of Object.keys(attrs)) {
        let column = attrColumns.get(key);
        if (!column) {
          column = new Array<unknown>(n).fill(ABSENT);
          attrColumns.set(key, column);
        }
        column[i] = attrs[key];
      }
    }
  }

  const attrs: unknown[] = [];
  for (const [key, values] of attrColumns) attrs.push(encodeAttrColumn(key, values));
  return JSON.stringify({
    t: 'profiles',
    n,
    id,
    platform: { d: platform.d, c: platformCodes },
    country: { d: country.d, c: countryCodes },
    created_at: createdAt,
    last_active_at: lastActiveAt,
    followers,
    interests: { d: interests.d, len: compactLengths(interestLen), c: interestCodes },
    attrs,
  });
}

function encodeAttrColumn(key: string, values: unknown[]): Record<string, unknown> {
  const absent: number[] = [];
  let numbers = true;
  let strings = true;
  let lists = true;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === ABSENT) {
      absent.push(i);
      values[i] = null;
      continue;
    }
    if (v === null || v === undefined) continue;
    const type = typeof v;
    if (type !== 'number') numbers = false;
    if (type !== 'string') strings = false;
    if (lists && !(Array.isArray(v) && v.every((s) => typeof s === 'string'))) lists = false;
  }
  const column: Record<string, unknown> = { k: key };
  if (numbers) {
    column.f = 'n';
    column.v = values;
  } else if (strings) {
    const dict = new DictBuilder();
    column.f = 's';
    column.c = values.map((v) => dict.code(v));
    column.d = dict.d;
  } else if (lists) {
    const dict = new DictBuilder();
    const len = new Array<number>(values.length);
    const codes: number[] = [];
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as string[] | null | undefined;
      if (v === null || v === undefined) {
        len[i] = -1;
        continue;
      }
      len[i] = v.length;
      for (const s of v) codes.push(dict.code(s));
    }
    column.f = 'l';
    column.d = dict.d;
    column.len = compactLengths(len);
    column.c = codes;
  } else {
    column.f = 'j';
    column.v = values;
  }
  if (absent.length > 0) column.a = absent;
  return column;
}

function encodeInteractions(
  rows: readonly Interaction[],
  start: number,
  end: number,
  userIndex: ReadonlyMap<string, number>,
): string {
  const n = end - start;
  const users = new Array<number>(n);
  const extraUsers: unknown[] = [];
  const extraUserCodes = new Map<unknown, number>();
  const item = new DictBuilder();
  const itemCodes = new Array<number>(n);
  const type = new DictBuilder();
  const typeCodes = new Array<number>(n);
  const value = new Array<number | null>(n);
  const ts = new Array<number>(n);
  let delta = true;
  let previous = 0;
  for (let i = 0; i < n; i++) {
    const r = rows[start + i] as Interaction;
    const index = userIndex.get(r.user_id);
    if (index !== undefined) {
      users[i] = index;
    } else {
      let code = extraUserCodes.get(r.user_id);
      if (code === undefined) {
        code = extraUsers.length;
        extraUserCodes.set(r.user_id, code);
        extraUsers.push(r.user_id ?? null);
      }
      users[i] = -1 - code;
    }
    itemCodes[i] = item.code(r.item_id);
    typeCodes[i] = type.code(r.type);
    value[i] = r.value ?? null;
    const t = r.timestamp;
    ts[i] = t;
    if (delta && !(Number.isSafeInteger(t) && Number.isSafeInteger(t - previous))) delta = false;
    previous = t;
  }
  if (delta) {
    previous = 0;
    for (let i = 0; i < n; i++) {
      const t = ts[i] as number;
      ts[i] = t - previous;
      previous = t;
    }
  }
  return JSON.stringify({
    t: 'interactions',
    n,
    u: users,
    ux: extraUsers,
    item: { d: item.d, c: itemCodes },
    type: { d: type.d, c: typeCodes },
    value,
    ts,
    tsDelta: delta,
  });
}

// ---------------------------------------------------------------------------------------------------------
// Decoding

/** A decoded data file, not yet migrated: `data` has the shape of schema `schemaVersion` (null: not stated). */
export interface DecodedFile {
  data: Record<string, unknown>;
  schemaVersion: number | null;
  format: 'store' | 'json';
  /** Key id of the key the file was encrypted with (see privacy/encryption.ts); null: not encrypted. */
  keyId?: string | null;
}

/** How to read an encrypted file: the keys that may open it, and whether a plain file is refused. */
export interface ReadOptions {
  keys?: readonly Buffer[];
  /** A plain file is refused with EncryptionError('not_encrypted') (a key is configured). */
  requireEncrypted?: boolean;
}

/**
 * Reads a data file of either format. Content problems throw CodecError; I/O errors (ENOENT, EACCES,
 * EISDIR…) are thrown unchanged so the caller can tell "missing" from "broken". Never writes.
 */
export async function readDataFile(file: string, options: ReadOptions = {}): Promise<DecodedFile> {
  const handle = await open(file, 'r');
  let size: number;
  let head: Buffer;
  try {
    size = (await handle.stat()).size;
    head = Buffer.alloc(64);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    head = head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  if (size === 0) throw new CodecError('corrupt', 'the file is empty');
  if (isEncryptedHead(head)) {
    // Encrypted files are read through the decrypting stream; key problems throw EncryptionError.
    const { kid, chunks } = await openEncryptedFile(file, options.keys ?? []);
    try {
      return { ...(await readStoreFile(chunks, size)), keyId: kid };
    } finally {
      await chunks.return(undefined);
    }
  }
  if (options.requireEncrypted) {
    throw new EncryptionError('not_encrypted', 'it is not encrypted, but DATA_ENCRYPTION_KEY is set');
  }
  const first = firstSignificantByte(head);
  if (first === 0x7b /* { */) return readJsonFile(file);
  if (head.toString('latin1').startsWith(`#${FORMAT_NAME}/`)) {
    return readStoreFile(createReadStream(file, { highWaterMark: 4 << 20 }) as AsyncIterable<Buffer>, size);
  }
  throw new CodecError(
    'corrupt',
    `it is not an Audience Insights data file (it starts with ${JSON.stringify(head.toString('utf8', 0, 24))})`,
  );
}

function firstSignificantByte(head: Buffer): number | undefined {
  let i = 0;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3;
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09))
    i++;
  return head[i];
}

async function readJsonFile(file: string): Promise<DecodedFile> {
  let parsed: unknown;
  try {
    parsed = JSON.parse((await readFile(file, 'utf8')).replace(/^\uFEFF/, ''));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_STRING_TOO_LONG') {
      throw new CodecError('corrupt', 'it is a plain JSON document too large to read (over ~512 MB)');
    }
    if (error instanceof SyntaxError) {
      throw new CodecError('corrupt', `it is a JSON document that does not parse (${error.message})`);
    }
    throw error;
  }
  if (!isRecord(parsed)) throw new CodecError('corrupt', 'it is a JSON document but not an object');
  const version = parsed.schemaVersion;
  if (version !== undefined && !(typeof version === 'number' && Number.isSafeInteger(version))) {
    throw new CodecError('corrupt', `its schemaVersion ${JSON.stringify(version)} is not an integer`);
  }
  return { data: parsed, schemaVersion: version ?? null, format: 'json' };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Defines an own property even for the key `__proto__`, which plain assignment would treat specially. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/** Yields the lines of a byte stream (without the newline); a final line without a newline is flagged. */
async function* readLines(
  source: AsyncIterable<Buffer>,
): AsyncGenerator<{ line: Buffer; terminated: boolean }> {
  let parts: Buffer[] = [];
  for await (const chunk of source) {
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(10, from);
      if (nl < 0) {
        if (from < chunk.length) parts.push(chunk.subarray(from));
        break;
      }
      const piece = chunk.subarray(from, nl);
      let line = piece;
      if (parts.length > 0) {
        parts.push(piece);
        line = Buffer.concat(parts);
        parts = [];
      }
      yield { line, terminated: true };
      from = nl + 1;
    }
  }
  if (parts.length > 0) yield { line: Buffer.concat(parts), terminated: false };
}

/** Shares one string instance per distinct dictionary value across chunks (platforms, interests, items…). */
class Interner {
  private readonly seen = new Map<string, string>();

  all(values: unknown[]): unknown[] {
    if (values.length > 4096) return values;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== 'string') continue;
      const known = this.seen.get(v);
      if (known === undefined) this.seen.set(v, v);
      else values[i] = known;
    }
    return values;
  }
}

function corrupt(message: string): CodecError {
  return new CodecError('corrupt', message);
}

function array(value: unknown, length: number | null, what: string): unknown[] {
  if (!Array.isArray(value)) throw corrupt(`${what} is not an array`);
  if (length !== null && value.length !== length) {
    throw corrupt(`${what} has ${value.length} entries instead of ${length}`);
  }
  return value;
}

function dictColumn(
  value: unknown,
  n: number,
  what: string,
  intern: Interner,
): { d: unknown[]; c: number[] } {
  if (!isRecord(value)) throw corrupt(`${what} is not a dictionary column`);
  return {
    d: intern.all(array(value.d, null, `${what}.d`)),
    c: array(value.c, n, `${what}.c`) as number[],
  };
}

function count(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw corrupt(`${what} is not a valid count`);
  }
  return value;
}

/** Adds one attribute column to the rows' attrs objects, column by column so each loop stays monomorphic. */
function fillAttrColumn(raw: unknown, rows: Record<string, AttributeValue>[], intern: Interner): void {
  const n = rows.length;
  if (!isRecord(raw) || typeof raw.k !== 'string') throw corrupt('an attribute column has no key');
  const key = raw.k;
  const what = `attribute column "${key}"`;
  let absent: Uint8Array | null = null;
  if (raw.a !== undefined) {
    absent = new Uint8Array(n);
    for (const i of array(raw.a, null, what) as number[]) absent[i] = 1;
  }
  const set =
    key === '__proto__'
      ? (row: Record<string, AttributeValue>, value: AttributeValue) => setOwn(row, key, value)
      : null;
  if (raw.f === 'n' || raw.f === 'j') {
    const v = array(raw.v, n, what) as AttributeValue[];
    for (let i = 0; i < n; i++) {
      if (absent !== null && absent[i] === 1) continue;
      if (set === null) (rows[i] as Record<string, AttributeValue>)[key] = v[i] ?? null;
      else set(rows[i] as Record<string, AttributeValue>, v[i] ?? null);
    }
  } else if (raw.f === 's') {
    const d = intern.all(array(raw.d, null, what)) as string[];
    const c = array(raw.c, n, what) as number[];
    for (let i = 0; i < n; i++) {
      if (absent !== null && absent[i] === 1) continue;
      const value = d[c[i] as number] ?? null;
      if (set === null) (rows[i] as Record<string, AttributeValue>)[key] = value;
      else set(rows[i] as Record<string, AttributeValue>, value);
    }
  } else if (raw.f === 'l') {
    const d = intern.all(array(raw.d, null, what)) as string[];
    const len = listLengths(raw.len, n, what);
    const c = array(raw.c, null, what) as number[];
    checkListLengths(len, c.length, what);
    let pos = 0;
    for (let i = 0; i < n; i++) {
      const k = len[i] as number;
      let value: string[] | null = null;
      if (k >= 0) {
        value = new Array<string>(k);
        for (let j = 0; j < k; j++) value[j] = d[c[pos++] as number] ?? (null as unknown as string);
      }
      if (absent !== null && absent[i] === 1) continue;
      if (set === null) (rows[i] as Record<string, AttributeValue>)[key] = value;
      else set(rows[i] as Record<string, AttributeValue>, value);
    }
  } else {
    throw corrupt(`${what} has an unknown encoding ${JSON.stringify(raw.f)}`);
  }
}

function checkListLengths(len: number[], codes: number, what: string): void {
  let total = 0;
  for (const k of len) {
    if (typeof k !== 'number' || !Number.isInteger(k) || k < -1)
      throw corrupt(`${what} has a bad list length`);
    if (k > 0) total += k;
  }
  if (total !== codes) throw corrupt(`${what} list lengths add up to ${total}, not ${codes}`);
}

function decodeProfiles(
  line: Record<string, unknown>,
  out: Profile[],
  ids: string[],
  at: number,
  intern: Interner,
): number {
  const n = count(line.n, 'profiles.n');
  if (at + n > out.length) throw corrupt(`there are more profiles than the header's ${out.length}`);
  const id = array(line.id, n, 'profiles.id') as string[];
  for (let i = 0; i < n; i++) ids[at + i] = id[i] as string;
  const platform = dictColumn(line.platform, n, 'profiles.platform', intern);
  const country = dictColumn(line.country, n, 'profiles.country', intern);
  const createdAt = array(line.created_at, n, 'profiles.created_at') as (number | null)[];
  const lastActiveAt = array(line.last_active_at, n, 'profiles.last_active_at') as (number | null)[];
  const followers = array(line.followers, n, 'profiles.followers') as (number | null)[];
  if (!isRecord(line.interests)) throw corrupt('profiles.interests is missing');
  const interestDict = intern.all(array(line.interests.d, null, 'profiles.interests.d')) as string[];
  const interestLen = listLengths(line.interests.len, n, 'profiles.interests.len');
  const interestCodes = array(line.interests.c, null, 'profiles.interests.c') as number[];
  checkListLengths(interestLen, interestCodes.length, 'profiles.interests');
  const attrRows = new Array<Record<string, AttributeValue>>(n);
  for (let i = 0; i < n; i++) attrRows[i] = {};
  for (const column of array(line.attrs, null, 'profiles.attrs')) fillAttrColumn(column, attrRows, intern);
  const pd = platform.d as string[];
  const pc = platform.c;
  const cd = country.d as string[];
  const cc = country.c;
  let pos = 0;

  for (let i = 0; i < n; i++) {
    const k = interestLen[i] as number;
    const interests = new Array<string>(k);
    for (let j = 0; j < k; j++)
      interests[j] = interestDict[interestCodes[pos++] as number] ?? (null as unknown as string);
    const pcode = pc[i] as number;
    const ccode = cc[i] as number;
    // One literal with every key in the model's order: all profiles share a hidden class.
    out[at + i] = {
      id: id[i] as string,
      platform: pcode >= 0 ? (pd[pcode] ?? null) : null,
      country: ccode >= 0 ? (cd[ccode] ?? null) : null,
      created_at: createdAt[i] ?? null,
      last_active_at: lastActiveAt[i] ?? null,
      followers: followers[i] ?? null,
      interests,
      attrs: attrRows[i] as Record<string, AttributeValue>,
    };
  }
  return n;
}

/**
 * The decoded interactions again as typed columns, for the engine's view of them (`InteractionColumns`): the
 * file already names each event's user by profile row, so the view needs no id lookups to be built.
 */
class ColumnsBuilder {
  readonly user: Int32Array;
  readonly ts: Float64Array;
  readonly event: Int32Array;
  readonly otherUsers: string[] = [];
  readonly itemIds: string[] = [];
  /** False once an event cannot be packed (more items than the view takes): the view then reads the objects. */
  usable = true;
  private values = new Float64Array(1024);
  private nValues = 0;
  private readonly otherIndex = new Map<unknown, number>();
  private readonly itemIndex = new Map<unknown, number>();

  constructor(n: number) {
    this.user = new Int32Array(n);
    this.ts = new Float64Array(n);
    this.event = new Int32Array(n);
  }

  /** The index of a user without a profile in `otherUsers`. */
  other(id: unknown): number {
    let at = this.otherIndex.get(id);
    if (at === undefined) {
      at = this.otherUsers.push(id as string) - 1;
      this.otherIndex.set(id, at);
    }
    return at;
  }

  /** The index of an item id in `itemIds`, -1 for none. */
  item(id: unknown): number {
    if (id === null || id === undefined) return -1;
    let at = this.itemIndex.get(id);
    if (at === undefined) {
      at = this.itemIds.push(id as string) - 1;
      this.itemIndex.set(id, at);
      if (at >= MAX_ITEMS) this.usable = false;
    }
    return at;
  }

  set(k: number, user: number, ts: number, item: number, type: number, value: number | null): void {
    this.user[k] = user;
    this.ts[k] = ts;
    if (value !== null) {
      if (this.nValues === this.values.length) {
        const grown = new Float64Array(this.values.length * 2);
        grown.set(this.values);
        this.values = grown;
      }
      this.values[this.nValues++] = value;
    }
    if (this.usable) this.event[k] = packEvent(item, type, value !== null);
  }

  columns(profiles: readonly Profile[]): InteractionColumns {
    const { user, otherUsers, ts, event, itemIds } = this;
    return { profiles, user, otherUsers, ts, event, itemIds, values: this.values.subarray(0, this.nValues) };
  }
}

function decodeInteractions(
  line: Record<string, unknown>,
  out: Interaction[],
  at: number,
  profileIds: readonly string[],
  intern: Interner,
  columns: ColumnsBuilder,
): number {
  const n = count(line.n, 'interactions.n');
  if (at + n > out.length) throw corrupt(`there are more interactions than the header's ${out.length}`);
  const users = array(line.u, n, 'interactions.u') as number[];
  const extraUsers = array(line.ux, null, 'interactions.ux') as string[];
  const item = dictColumn(line.item, n, 'interactions.item', intern);
  const type = dictColumn(line.type, n, 'interactions.type', intern);
  const value = array(line.value, n, 'interactions.value') as (number | null)[];
  const ts = array(line.ts, n, 'interactions.ts') as number[];
  const delta = line.tsDelta === true;
  const itemDict = item.d as string[];
  const itemCodes = item.c;
  const typeDict = type.d as InteractionType[];
  const typeCodes = type.c;
  const profileCount = profileIds.length;
  // This chunk's dictionaries in the columns' terms.
  const itemOf = itemDict.map((id) => columns.item(id ?? null));
  const typeOf = typeDict.map((type) => typeCode(type));
  const otherOf = extraUsers.map((id) => columns.other(id));
  let timestamp = 0;

  for (let i = 0; i < n; i++) {
    const u = users[i] as number;
    let userId: string;
    let user: number;
    if (u >= 0) {
      if (u >= profileCount) throw corrupt(`interaction user index ${u} is past the last profile`);
      // A flat id array, not profiles[u].id: random reads stay in a few MB instead of all profile objects.
      userId = profileIds[u] as string;
      user = u;
    } else {
      userId = extraUsers[-1 - u] as string;
      user = -1 - (otherOf[-1 - u] ?? columns.other(undefined));
    }
    const ic = itemCodes[i] as number;
    const tc = typeCodes[i] as number;
    timestamp = delta ? timestamp + (ts[i] as number) : (ts[i] as number);
    const v = value[i] ?? null;
    out[at + i] = {
      user_id: userId,
      item_id: ic >= 0 ? (itemDict[ic] ?? null) : null,
      type: (typeDict[tc] ?? null) as InteractionType,
      value: v,
      timestamp,
    };
    columns.set(at + i, user, timestamp, ic >= 0 ? (itemOf[ic] ?? -1) : -1, typeOf[tc] ?? UNKNOWN_TYPE, v);
  }
  return n;
}

interface Header {
  schemaVersion: number;
  profiles: number;
  interactions: number;
}

function parseHeader(line: Buffer, size: number): Header {
  const text = line.toString('utf8');
  const match = /^#audience-insights-store\/(\d+) (.*)$/s.exec(text);
  if (!match) throw corrupt('its first line is not a valid header');
  const formatVersion = Number(match[1]);
  if (formatVersion > FORMAT_VERSION) {
    throw new CodecError(
      'newer_format',
      `it uses file format ${formatVersion}, newer than this build reads (${FORMAT_VERSION})`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(match[2] as string);
  } catch {
    throw corrupt('its header line is not valid JSON');
  }
  if (!isRecord(header) || !isRecord(header.counts)) throw corrupt('its header line has no counts');
  const schemaVersion = header.schemaVersion;
  if (typeof schemaVersion !== 'number' || !Number.isSafeInteger(schemaVersion)) {
    throw corrupt('its header has no integer schemaVersion');
  }
  const profiles = count(header.counts.profiles, 'header counts.profiles');
  const interactions = count(header.counts.interactions, 'header counts.interactions');
  // Every row takes at least two bytes, so larger counts are damage, not data (and would pre-size huge arrays).
  if (profiles * 2 > size || interactions * 2 > size)
    throw corrupt('its header counts do not fit the file size');
  return { schemaVersion, profiles, interactions };
}

async function readStoreFile(source: AsyncIterable<Buffer>, size: number): Promise<DecodedFile> {
  const hash = createHash('sha256');
  const intern = new Interner();
  let header: Header | null = null;
  let data: AudienceData | null = null;
  let profileIds: string[] = [];
  let columns = new ColumnsBuilder(0);
  let profilesFilled = 0;
  let interactionsFilled = 0;
  let bytes = 0;
  let lineNo = 0;
  let trailer: Record<string, unknown> | null = null;
  const rowCounts: Record<string, number> = {};

  for await (const { line, terminated } of readLines(source)) {
    lineNo++;
    if (trailer !== null) throw corrupt(`there is data after the end marker (line ${lineNo})`);
    if (!terminated) {
      throw new CodecError('truncated', `the file was cut short (it ends in the middle of line ${lineNo})`);
    }
    if (header === null || data === null) {
      header = parseHeader(line, size);
      data = emptyAudienceData(header.schemaVersion);
      data.profiles = new Array<Profile>(header.profiles);
      data.interactions = new Array<Interaction>(header.interactions);
      profileIds = new Array<string>(header.profiles);
      columns = new ColumnsBuilder(header.interactions);
      hash.update(line);
      hash.update(NEWLINE);
      bytes += line.length + 1;
      continue;
    }
    let parsed: unknown;
    try {
      // One-byte strings parse faster; most lines are pure ASCII.
      parsed = JSON.parse(line.toString(isAscii(line) ? 'latin1' : 'utf8'));
    } catch {
      throw corrupt(`line ${lineNo} is not valid JSON`);
    }
    if (!isRecord(parsed)) throw corrupt(`line ${lineNo} is not a JSON object`);
    if (parsed.t === 'end') {
      trailer = parsed;
      continue;
    }
    hash.update(line);
    hash.update(NEWLINE);
    bytes += line.length + 1;
    try {
      switch (parsed.t) {
        case 'meta':
          if (!isRecord(parsed.meta) || !isRecord(parsed.attributes))
            throw corrupt('meta or attributes missing');
          data.meta = parsed.meta as AudienceData['meta'];
          data.attributes = parsed.attributes as AudienceData['attributes'];
          break;
        case 'profiles':
          profilesFilled += decodeProfiles(parsed, data.profiles, profileIds, profilesFilled, intern);
          break;
        case 'interactions':
          if (profilesFilled !== data.profiles.length) throw corrupt('interactions come before all profiles');
          interactionsFilled += decodeInteractions(
            parsed,
            data.interactions,
            interactionsFilled,
            profileIds,
            intern,
            columns,
          );
          break;
        case 'rows': {
          const collection = parsed.c as RowCollection;
          if (!ROW_COLLECTIONS.includes(collection)) {
            throw corrupt(`unknown collection ${JSON.stringify(parsed.c)}`);
          }
          const rows = array(parsed.rows, null, collection);
          const target = data[collection] as unknown[];
          for (const row of rows) target.push(row);
          rowCounts[collection] = (rowCounts[collection] ?? 0) + rows.length;
          break;
        }
        case 'model':
          if (typeof parsed.k !== 'string') throw corrupt('a model has no key');
          setOwn(data.models, parsed.k, parsed.v);
          break;
        case 'extra':
          if (typeof parsed.k !== 'string' || KNOWN_KEYS.has(parsed.k)) throw corrupt('bad extra key');
          setOwn(data as unknown as Record<string, unknown>, parsed.k, parsed.v);
          break;
        default:
          throw corrupt(`unknown line type ${JSON.stringify(parsed.t)}`);
      }
    } catch (error) {
      const detail = error instanceof CodecError ? error.message : `${(error as Error).message}`;
      throw corrupt(`line ${lineNo} (${String(parsed.t)}) is malformed: ${detail}`);
    }
  }

  if (header === null || data === null) throw corrupt('the file is empty');
  if (trailer === null) {
    throw new CodecError('truncated', 'the file was cut short (its end marker is missing)');
  }
  if (trailer.sha256 !== hash.digest('hex') || trailer.bytes !== bytes || trailer.lines !== lineNo - 1) {
    throw corrupt('checksum mismatch: the file was truncated or edited');
  }
  const expected = isRecord(trailer.counts) ? trailer.counts : {};
  const actual: Record<string, number> = {
    profiles: profilesFilled,
    interactions: interactionsFilled,
    models: Object.keys(data.models).length,
  };
  for (const collection of ROW_COLLECTIONS) actual[collection] = rowCounts[collection] ?? 0;
  for (const [name, n] of Object.entries(actual)) {
    if (expected[name] !== n)
      throw corrupt(`it holds ${n} ${name} but its end marker says ${String(expected[name])}`);
  }
  if (profilesFilled !== data.profiles.length || interactionsFilled !== data.interactions.length) {
    throw corrupt('its row counts do not match its header');
  }
  // The one place stored data meets the engine: its typed view of the interactions is built from the columns.
  if (columns.usable) handInteractionColumns(data.interactions, columns.columns(data.profiles));
  return {
    data: data as unknown as Record<string, unknown>,
    schemaVersion: header.schemaVersion,
    format: 'store',
  };
}

// ---------------------------------------------------------------------------------------------------------
// Plain JSON input

/**
 * Turns a plain JSON document (already migrated to the current schema) into AudienceData: missing
 * collections become empty, missing profile/interaction keys become null so objects share one shape.
 */
export function normalizeAudienceData(raw: Record<string, unknown>, schemaVersion: number): AudienceData {
  const data = emptyAudienceData(schemaVersion);
  const out = data as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'schemaVersion') continue;
    if (!KNOWN_KEYS.has(key)) {
      setOwn(out, key, value);
      continue;
    }
    const expectArray = Array.isArray(out[key]);
    if (expectArray ? !Array.isArray(value) : !isRecord(value)) {
      throw corrupt(`its "${key}" is not ${expectArray ? 'an array' : 'an object'}`);
    }
    out[key] = value;
  }
  data.meta = {
    dataVersion: typeof data.meta.dataVersion === 'number' ? data.meta.dataVersion : 0,
    updatedAt: data.meta.updatedAt ?? null,
    source: data.meta.source ?? null,
  };
  data.profiles = data.profiles.map((p, i) => {
    if (!isRecord(p) || typeof p.id !== 'string') throw corrupt(`profile ${i} has no string id`);
    return {
      id: p.id,
      platform: p.platform ?? null,
      country: p.country ?? null,
      created_at: p.created_at ?? null,
      last_active_at: p.last_active_at ?? null,
      followers: p.followers ?? null,
      interests: Array.isArray(p.interests) ? p.interests : [],
      attrs: isRecord(p.attrs) ? p.attrs : {},
    };
  });
  data.interactions = data.interactions.map((r, i) => {
    if (!isRecord(r) || typeof r.user_id !== 'string')
      throw corrupt(`interaction ${i} has no string user_id`);
    return {
      user_id: r.user_id,
      item_id: r.item_id ?? null,
      type: r.type,
      value: r.value ?? null,
      timestamp: r.timestamp,
    };
  });
  return data;
}
