/**
 * An import's interactions streamed into the database while the file is read (StoreChange.interactionIntake):
 * each valid row is encoded for COPY as it arrives and written to a temporary table of this change's
 * transaction, so the app holds no more than a chunk of rows and its parsing overlaps the database's COPY on the
 * other core. After the last row, SQL does what the app did with every row in memory: the references to unknown
 * people and products (reported with their row numbers), the repeats within the file, and the append itself
 * (change.ts `insertStaged`, the statement `appendInteractions` uses).
 */
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Interaction } from '../../domain/types.ts';
import type { InteractionIntake, UnknownReference } from '../store.ts';
import { copyCell } from './copy.ts';
import { monthOf } from './partitions.ts';
import { STORED_LIKE } from './reads.ts';
import { ms, ts } from './rows.ts';

/** The table the rows stream into; `ord` is the importer's row number (increasing), `line` its file line. */
export const INTAKE_TABLE = 'staged_interactions';

/** Rows encoded per write to the COPY stream: few writes, and a bounded amount of text held. */
const ROWS_PER_WRITE = 2_000;

/** What the change lends the intake: its transaction's client and the append it shares with appendInteractions. */
export interface IntakeHost {
  client: pg.PoolClient;
  team: string;
  /** Appends the staged rows not stored yet (and, with `dedupe`, not repeated); drops the table; returns the count. */
  insertStaged(span: IntakeSpan, dedupe: boolean): Promise<number>;
}

/** The instants and months the staged rows cover (partitions to create, the stored twins' search range). */
export interface IntakeSpan {
  min: number;
  max: number;
  months: Set<string>;
}

/**
 * The join that leaves out repeats within the staged rows `s`: only the first of each interactionKey, by row,
 * is kept (GROUP BY takes null item_ids as equal). A join rather than `s.ord IN (…)`, which made the planner
 * hash the grouped minimums a second time to make them unique (1.6 s of 1M rows).
 */
export const FIRST_OF_EACH = `JOIN (SELECT min(ord) AS ord FROM ${INTAKE_TABLE} GROUP BY user_id, item_id, type, at) f
  ON f.ord = s.ord`;

/** Opens the intake: creates the table and starts the COPY (nothing else may use the client until it ends). */
export async function openIntake(host: IntakeHost): Promise<InteractionIntake> {
  await host.client.query(
    `CREATE TEMP TABLE ${INTAKE_TABLE} (ord int, line int, user_id text, item_id text, type text, value float8,
       at timestamptz) ON COMMIT DROP`,
  );
  return new PgIntake(host);
}

class PgIntake implements InteractionIntake {
  private readonly copy: Writable;
  private span: IntakeSpan = {
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
    months: new Set(),
  };
  private pending: string[] = [];
  private rows = 0;
  /** A 53-bit hash of each row's interactionKey, so SQL looks for repeats only when two rows may be one. */
  private readonly keys = new KeyHashes();
  private ended = false;
  private failure: Error | null = null;
  /** The last `monthOf` asked, so a month's events cost one comparison each, not a Date each. */
  private month = { from: 0, to: -1 };

  constructor(private readonly host: IntakeHost) {
    this.copy = host.client.query(
      copyFrom(`COPY ${INTAKE_TABLE} (ord, line, user_id, item_id, type, value, at) FROM STDIN`),
    );
    this.copy.on('error', (err: Error) => {
      this.failure ??= err;
    });
  }

  add(i: Interaction, row: number, line: number | undefined): void {
    this.noteSpan(i.timestamp);
    this.pending.push(
      `${row}\t${line ?? '\\N'}\t${copyCell(i.user_id)}\t${copyCell(i.item_id)}\t${copyCell(i.type)}\t${copyCell(i.value)}\t${ts(i.timestamp)}\n`,
    );
    this.rows++;
    this.keys.add(i);
    if (this.pending.length >= ROWS_PER_WRITE) this.write();
  }

  private noteSpan(at: number): void {
    const span = this.span;
    if (at < span.min) span.min = at;
    if (at > span.max) span.max = at;
    if (at >= this.month.from && at <= this.month.to) return;
    const month = monthOf(at);
    span.months.add(month);
    const [y, m] = month.split('-').map(Number) as [number, number];
    this.month = { from: Date.UTC(y, m - 1, 1), to: Date.UTC(y, m, 1) - 1 };
  }

  private write(): void {
    if (this.pending.length === 0) return;
    this.copy.write(this.pending.join(''));
    this.pending = [];
  }

  async drained(): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.copy.writableNeedDrain) return;
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        this.copy.off('drain', done);
        this.copy.off('error', done);
        if (err) reject(err);
        else resolve();
      };
      this.copy.on('drain', done);
      this.copy.on('error', done);
    });
  }

  async abort(error: Error): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    // COPY fails on the server (CopyFail), which frees the client for the ROLLBACK.
    this.copy.destroy(error);
    await finished(this.copy).catch(() => undefined);
  }

  /** Ends the COPY once, after the last row. */
  private async end(): Promise<void> {
    if (this.ended) {
      if (this.failure) throw this.failure;
      return;
    }
    this.ended = true;
    this.write();
    this.copy.end();
    await finished(this.copy);
    if (this.failure) throw this.failure;
    // Its size and spread, so the planner picks hash joins for a large file and index probes for a small one.
    await this.host.client.query(`ANALYZE ${INTAKE_TABLE}`);
  }

  async unknownReferences(max: number): Promise<{ errors: UnknownReference[]; count: number; rows: number }> {
    await this.end();
    const { client, team } = this.host;
    await client.query(
      `CREATE TEMP TABLE intake_unknown ON COMMIT DROP AS
       SELECT s.ord, s.line, 0 AS f, s.user_id AS id FROM ${INTAKE_TABLE} s
        WHERE NOT EXISTS (SELECT 1 FROM profiles p WHERE p.team_id = $1 AND p.id = s.user_id)
       UNION ALL
       SELECT s.ord, s.line, 1, s.item_id FROM ${INTAKE_TABLE} s
        WHERE s.item_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM products p WHERE p.team_id = $1 AND p.id = s.item_id)`,
      [team],
    );
    const { rows } = await client.query<{
      ord: number;
      line: number | null;
      f: number;
      id: string;
      n: string;
    }>(`SELECT ord, line, f, id, count(*) OVER () AS n FROM intake_unknown ORDER BY ord, f LIMIT $1`, [
      Math.max(1, max),
    ]);
    const count = Number(rows[0]?.n ?? 0);
    const before = this.rows;
    if (count > 0) {
      await client.query(`DELETE FROM ${INTAKE_TABLE} s USING intake_unknown u WHERE s.ord = u.ord`);
      await this.respan();
    }
    await client.query('DROP TABLE intake_unknown');
    const errors = rows.slice(0, max).map((r) => ({
      row: r.ord,
      line: r.line ?? undefined,
      field: r.f === 0 ? ('user_id' as const) : ('item_id' as const),
      id: r.id,
    }));
    return { errors, count, rows: before - this.rows };
  }

  /** After rows were left out: what the rest covers (so no partition is made for a month of rejected rows only). */
  private async respan(): Promise<void> {
    const { rows } = await this.host.client.query<{ n: string; min: number; max: number; months: string[] }>(
      `SELECT count(*) AS n, ${ms('min(at)')} AS min, ${ms('max(at)')} AS max,
              coalesce(array_agg(DISTINCT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM')) FILTER (WHERE at IS NOT NULL), '{}') AS months
         FROM ${INTAKE_TABLE}`,
    );
    const r = rows[0];
    this.rows = Number(r?.n ?? 0);
    this.span = { min: Number(r?.min ?? 0), max: Number(r?.max ?? 0), months: new Set(r?.months ?? []) };
  }

  async count(): Promise<{ fresh: number; duplicates: number }> {
    await this.end();
    if (this.rows === 0) return { fresh: 0, duplicates: 0 };
    const { rows } = await this.host.client.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${INTAKE_TABLE} s ${this.keys.repeats() ? FIRST_OF_EACH : ''}
        WHERE NOT ${STORED_LIKE}`,
      [this.host.team, ts(this.span.min), ts(this.span.max)],
    );
    const fresh = Number(rows[0]?.n ?? 0);
    return { fresh, duplicates: this.rows - fresh };
  }

  async append(): Promise<{ appended: number; duplicates: number }> {
    await this.end();
    if (this.rows === 0) return { appended: 0, duplicates: 0 };
    const appended = await this.host.insertStaged(this.span, this.keys.repeats());
    return { appended, duplicates: this.rows - appended };
  }
}

const CHUNK = 1 << 20;
/**
 * Rows hashed at most (64 MB, and as much again for the sort): past that the intake stops hashing and lets SQL
 * look for repeats, so the app's memory does not grow with the size of the file.
 */
const MAX_HASHED = 8 * CHUNK;

/**
 * Hashes of the intake's interactionKeys, 8 bytes a row (not the rows: 8 MB for a million), sorted once at the
 * end to see whether any two are equal. No two equal means no repeats, and the INSERT leaves out the GROUP BY
 * over every staged row that finds them (5–7 s of 790k rows at load 11); two equal (a repeat, or one chance in
 * about 18,000 at a million rows), or a file of more than MAX_HASHED rows, and SQL looks for them as before.
 */
export class KeyHashes {
  private full: Float64Array[] = [];
  private current = new Float64Array(CHUNK);
  private used = 0;
  private answer: boolean | null = null;
  private overflow = false;

  /** `maxRows`: the most rows hashed (MAX_HASHED; smaller in tests). */
  constructor(private readonly maxRows = MAX_HASHED) {}

  add(i: Interaction): void {
    if (this.overflow) return;
    if (this.full.length * CHUNK + this.used >= this.maxRows) {
      this.overflow = true;
      this.full = [];
      this.current = new Float64Array(0);
      this.answer = true;
      return;
    }
    if (this.used === CHUNK) {
      this.full.push(this.current);
      this.current = new Float64Array(CHUNK);
      this.used = 0;
    }
    this.current[this.used++] = keyHash(i);
    this.answer = null;
  }

  /** Whether two added rows may have the same interactionKey. */
  repeats(): boolean {
    if (this.answer !== null) return this.answer;
    const all = new Float64Array(this.full.length * CHUNK + this.used);
    this.full.forEach((chunk, k) => {
      all.set(chunk, k * CHUNK);
    });
    all.set(this.current.subarray(0, this.used), this.full.length * CHUNK);
    all.sort();
    this.answer = false;
    for (let k = 1; k < all.length; k++) {
      if (all[k] === all[k - 1]) {
        this.answer = true;
        break;
      }
    }
    return this.answer;
  }
}

/** Two 32-bit FNV-1a style passes over one text, continuing from `h1`/`h2`. */
function mixText(text: string, h: [number, number]): void {
  let [a, b] = h;
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  // A separator no id contains, so ("ab", "c") and ("a", "bc") differ.
  h[0] = Math.imul(a ^ 0xff, 0x01000193);
  h[1] = Math.imul(b ^ 0xff, 0x5bd1e995);
}

/** A 53-bit hash of an interaction's key (user_id, item_id, type, timestamp), exact in a float64. */
export function keyHash(i: Interaction): number {
  const h: [number, number] = [0x811c9dc5, 0x12345678];
  mixText(i.user_id, h);
  mixText(i.item_id ?? '', h);
  mixText(i.type, h);
  mixText(String(i.timestamp), h);
  return (h[0] >>> 0) * 2 ** 21 + ((h[1] >>> 0) >>> 11);
}
