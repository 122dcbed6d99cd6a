/**
 * Writing the data file format (see format.ts): AudienceData to lines, lazily, reusing unchanged chunks.
 */
import { createHash } from 'node:crypto';
import type { AudienceData, Interaction, Profile } from '../domain/types.ts';
import { DEFAULT_CHUNK_ROWS, FORMAT_NAME, FORMAT_VERSION, KNOWN_KEYS, SMALL_CHUNK_ROWS } from './format.ts';

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
  yield* runLines(segmentRuns, source.dataVersion, line, counted);
  for (const [k, v] of models) yield line(JSON.stringify({ t: 'model', k, v }));

  const trailer = { t: 'end', lines, bytes, counts, sha256: hash.digest('hex') };
  yield Buffer.from(`${JSON.stringify(trailer)}\n`, 'utf8');
}

/** The segment runs' lines, each reused while the data version stays the same. */
function* runLines(
  segmentRuns: readonly unknown[],
  dataVersion: number,
  line: (text: string) => Buffer,
  counted: (buf: Buffer) => Buffer,
): Generator<Buffer> {
  for (const run of segmentRuns) {
    // A run holds everyone's segment (about 1.5 MB of JSON at 100k profiles) and never changes after it is
    // stored, except when someone is erased, which also moves the data version.
    const known = encodedRuns.get(run as object);
    if (known && known.dataVersion === dataVersion) {
      yield counted(known.line);
      continue;
    }
    const encoded = line(JSON.stringify({ t: 'rows', c: 'segmentRuns', rows: [run] }));
    encodedRuns.set(run as object, { dataVersion, line: encoded });
    yield encoded;
  }
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
