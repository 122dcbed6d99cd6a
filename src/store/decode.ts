/**
 * Reading the data file format (see format.ts), plain or encrypted, and plain lowdb JSON documents.
 */
import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import {
  type InteractionColumns,
  MAX_ITEMS,
  packEvent,
  typeCode,
  UNKNOWN_TYPE,
} from '../domain/interaction-columns.ts';
import {
  type AttributeValue,
  type AudienceData,
  emptyAudienceData,
  type Interaction,
  type InteractionType,
  type Profile,
} from '../domain/types.ts';
import { EncryptionError, isEncryptedHead, openEncryptedFile } from './encryption.ts';
import {
  CodecError,
  FORMAT_NAME,
  FORMAT_VERSION,
  KNOWN_KEYS,
  NEWLINE,
  ROW_COLLECTIONS,
  type RowCollection,
} from './format.ts';

/** A decoded data file, not yet migrated: `data` has the shape of schema `schemaVersion` (null: not stated). */
export interface DecodedFile {
  data: Record<string, unknown>;
  schemaVersion: number | null;
  format: 'store' | 'json';
  /** Key id of the key the file was encrypted with (see encryption.ts); null: not encrypted. */
  keyId?: string | null;
  /** The interactions as typed columns, numbered by the decoded profiles (our own format only). */
  columns?: InteractionColumns;
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

/** Reads a list-length column written by compactLengths. */
function listLengths(value: unknown, n: number, what: string): number[] {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < -1) throw corrupt(`${what} has a bad list length`);
    return new Array<number>(n).fill(value);
  }
  return array(value, n, what) as number[];
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

/** What reading a data file has gathered so far (the lines come in one by one). */
interface Reading {
  readonly hash: ReturnType<typeof createHash>;
  readonly intern: Interner;
  data: AudienceData;
  profileIds: string[];
  columns: ColumnsBuilder;
  profilesFilled: number;
  interactionsFilled: number;
  bytes: number;
  readonly rowCounts: Record<string, number>;
}

/** The state after the header line: every array pre-sized from its counts. */
function startReading(header: Header): Reading {
  const data = emptyAudienceData(header.schemaVersion);
  data.profiles = new Array<Profile>(header.profiles);
  data.interactions = new Array<Interaction>(header.interactions);
  return {
    hash: createHash('sha256'),
    intern: new Interner(),
    data,
    profileIds: new Array<string>(header.profiles),
    columns: new ColumnsBuilder(header.interactions),
    profilesFilled: 0,
    interactionsFilled: 0,
    bytes: 0,
    rowCounts: {},
  };
}

/** Counts a line into the checksum (every line but the trailer). */
function hashLine(reading: Reading, line: Buffer): void {
  reading.hash.update(line);
  reading.hash.update(NEWLINE);
  reading.bytes += line.length + 1;
}

async function readStoreFile(source: AsyncIterable<Buffer>, size: number): Promise<DecodedFile> {
  let header: Header | null = null;
  let reading: Reading | null = null;
  let lineNo = 0;
  let trailer: Record<string, unknown> | null = null;

  for await (const { line, terminated } of readLines(source)) {
    lineNo++;
    if (trailer !== null) throw corrupt(`there is data after the end marker (line ${lineNo})`);
    if (!terminated) {
      throw new CodecError('truncated', `the file was cut short (it ends in the middle of line ${lineNo})`);
    }
    if (header === null || reading === null) {
      header = parseHeader(line, size);
      reading = startReading(header);
      hashLine(reading, line);
      continue;
    }
    const parsed = parseLine(line, lineNo);
    if (parsed.t === 'end') {
      trailer = parsed;
      continue;
    }
    hashLine(reading, line);
    try {
      readLine(reading, parsed);
    } catch (error) {
      const detail = error instanceof CodecError ? error.message : `${(error as Error).message}`;
      throw corrupt(`line ${lineNo} (${String(parsed.t)}) is malformed: ${detail}`);
    }
  }

  if (header === null || reading === null) throw corrupt('the file is empty');
  if (trailer === null) {
    throw new CodecError('truncated', 'the file was cut short (its end marker is missing)');
  }
  checkTrailer(reading, trailer, lineNo);
  const { data, columns } = reading;
  return {
    data: data as unknown as Record<string, unknown>,
    schemaVersion: header.schemaVersion,
    format: 'store',
    // The engine's typed view of the interactions is built from these (see AudienceReads.interactionColumns).
    ...(columns.usable ? { columns: columns.columns(data.profiles) } : {}),
  };
}

function parseLine(line: Buffer, lineNo: number): Record<string, unknown> {
  let parsed: unknown;
  try {
    // One-byte strings parse faster; most lines are pure ASCII.
    parsed = JSON.parse(line.toString(isAscii(line) ? 'latin1' : 'utf8'));
  } catch {
    throw corrupt(`line ${lineNo} is not valid JSON`);
  }
  if (!isRecord(parsed)) throw corrupt(`line ${lineNo} is not a JSON object`);
  return parsed;
}

/** Adds one (non-header, non-trailer) line to what was read. */
function readLine(reading: Reading, parsed: Record<string, unknown>): void {
  const { data, intern } = reading;
  switch (parsed.t) {
    case 'meta':
      if (!isRecord(parsed.meta) || !isRecord(parsed.attributes)) throw corrupt('meta or attributes missing');
      data.meta = parsed.meta as unknown as AudienceData['meta'];
      data.attributes = parsed.attributes as AudienceData['attributes'];
      break;
    case 'profiles':
      reading.profilesFilled += decodeProfiles(
        parsed,
        data.profiles,
        reading.profileIds,
        reading.profilesFilled,
        intern,
      );
      break;
    case 'interactions':
      if (reading.profilesFilled !== data.profiles.length)
        throw corrupt('interactions come before all profiles');
      reading.interactionsFilled += decodeInteractions(
        parsed,
        data.interactions,
        reading.interactionsFilled,
        reading.profileIds,
        intern,
        reading.columns,
      );
      break;
    case 'rows':
      readRows(reading, parsed);
      break;
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
}

function readRows(reading: Reading, parsed: Record<string, unknown>): void {
  const collection = parsed.c as RowCollection;
  if (!ROW_COLLECTIONS.includes(collection)) throw corrupt(`unknown collection ${JSON.stringify(parsed.c)}`);
  const rows = array(parsed.rows, null, collection);
  const target = reading.data[collection] as unknown[];
  for (const row of rows) target.push(row);
  reading.rowCounts[collection] = (reading.rowCounts[collection] ?? 0) + rows.length;
}

/** The trailer's checksum, line and byte counts, and row counts must match what was read. */
function checkTrailer(reading: Reading, trailer: Record<string, unknown>, lineNo: number): void {
  const { data } = reading;
  if (
    trailer.sha256 !== reading.hash.digest('hex') ||
    trailer.bytes !== reading.bytes ||
    trailer.lines !== lineNo - 1
  ) {
    throw corrupt('checksum mismatch: the file was truncated or edited');
  }
  const expected = isRecord(trailer.counts) ? trailer.counts : {};
  const actual: Record<string, number> = {
    profiles: reading.profilesFilled,
    interactions: reading.interactionsFilled,
    models: Object.keys(data.models).length,
  };
  for (const collection of ROW_COLLECTIONS) actual[collection] = reading.rowCounts[collection] ?? 0;
  for (const [name, n] of Object.entries(actual)) {
    if (expected[name] !== n)
      throw corrupt(`it holds ${n} ${name} but its end marker says ${String(expected[name])}`);
  }
  if (
    reading.profilesFilled !== data.profiles.length ||
    reading.interactionsFilled !== data.interactions.length
  ) {
    throw corrupt('its row counts do not match its header');
  }
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
