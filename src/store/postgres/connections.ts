/**
 * Platform connections on PostgreSQL (issue #15): `connections` (one row per connection, credentials as the
 * sealed text the app hands over), `connection_keys` (the source ids of synced events, the dedupe keys) and
 * `connection_metrics` (latest value per content and name). Reads and writes for one workspace; the writes run
 * on the change's transaction client, so a sync batch's rows, keys and cursor commit together.
 */
import type { ConnectionRecord, ContentMetric } from '../../domain/types.ts';
import type { ConnectionReads } from '../store.ts';
import type { Queryable } from './claims.ts';
import { ms, ts } from './rows.ts';

const COLUMNS = `id, kind, owner_id, settings, base_url, credentials, ${ms('created_at')} AS created_at,
  interval_minutes, cursor, paused, paused_reason, ${ms('resume_at')} AS resume_at,
  ${ms('last_sync_at')} AS last_sync_at, last_sync_status, rows_added, total_rows,
  ${ms('next_run_at')} AS next_run_at, last_error, lease_holder, ${ms('lease_until')} AS lease_until`;

const TIME_FIELDS = new Set(['created_at', 'resume_at', 'last_sync_at', 'next_run_at', 'lease_until']);
const FIELDS = [
  'kind',
  'owner_id',
  'settings',
  'base_url',
  'credentials',
  'created_at',
  'interval_minutes',
  'cursor',
  'paused',
  'paused_reason',
  'resume_at',
  'last_sync_at',
  'last_sync_status',
  'rows_added',
  'total_rows',
  'next_run_at',
  'last_error',
  'lease_holder',
  'lease_until',
] as const;

function toConnection(r: Record<string, unknown>): ConnectionRecord {
  return {
    id: r.id as string,
    kind: r.kind as string,
    owner_id: r.owner_id as string,
    settings: r.settings as Record<string, string>,
    base_url: r.base_url as string | null,
    credentials: r.credentials as string | null,
    created_at: r.created_at as number,
    interval_minutes: r.interval_minutes as number,
    cursor: r.cursor as string | null,
    paused: r.paused as boolean,
    paused_reason: r.paused_reason as string | null,
    resume_at: r.resume_at as number | null,
    last_sync_at: r.last_sync_at as number | null,
    last_sync_status: r.last_sync_status as ConnectionRecord['last_sync_status'],
    rows_added: r.rows_added as number,
    total_rows: r.total_rows as number,
    next_run_at: r.next_run_at as number | null,
    last_error: r.last_error as string | null,
    lease_holder: r.lease_holder as string | null,
    lease_until: r.lease_until as number | null,
  };
}

/** A field's value as a query parameter. */
function param(field: string, value: unknown): unknown {
  if (TIME_FIELDS.has(field)) return ts(value as number | null);
  if (field === 'settings') return JSON.stringify(value);
  return value;
}

/** The connection reads of one workspace. */
export function pgConnectionReads(db: Queryable, team: string): ConnectionReads {
  const select = async (where: string, params: unknown[]) =>
    (
      await db.query(`SELECT ${COLUMNS} FROM connections WHERE team_id = $1 ${where} ORDER BY seq`, [
        team,
        ...params,
      ])
    ).rows.map(toConnection);
  return {
    list: () => select('', []),
    get: async (id) => (await select('AND id = $2', [id]))[0],
    syncedKeys: async (id, keys) => {
      if (keys.length === 0) return new Set();
      const { rows } = await db.query(
        'SELECT key FROM connection_keys WHERE team_id = $1 AND connection_id = $2 AND key = ANY($3)',
        [team, id, keys],
      );
      return new Set(rows.map((r) => r.key as string));
    },
    syncedKeyCount: async (id) => {
      const { rows } = await db.query(
        'SELECT count(*)::int AS n FROM connection_keys WHERE team_id = $1 AND connection_id = $2',
        [team, id],
      );
      return (rows[0]?.n as number | undefined) ?? 0;
    },
    allSyncedKeys: async () => {
      const { rows } = await db.query(
        'SELECT connection_id, key FROM connection_keys WHERE team_id = $1 ORDER BY connection_id, key COLLATE "C"',
        [team],
      );
      const out = new Map<string, string[]>();
      for (const r of rows) {
        const list = out.get(r.connection_id as string) ?? [];
        list.push(r.key as string);
        out.set(r.connection_id as string, list);
      }
      return out;
    },
    metrics: async (id) =>
      (
        await db.query(
          `SELECT connection_id, content_id, name, value, ${ms('at')} AS at FROM connection_metrics
            WHERE team_id = $1 AND connection_id = $2 ORDER BY content_id, name`,
          [team, id],
        )
      ).rows.map((r) => ({
        connection_id: r.connection_id as string,
        content_id: r.content_id as string,
        name: r.name as string,
        value: r.value as number,
        at: r.at as number,
      })),
  };
}

/** The connection writes of one change, on its transaction client. */
export function pgConnectionWrites(db: Queryable, team: string) {
  return {
    async put(record: ConnectionRecord): Promise<void> {
      const values = FIELDS.map((f) => param(f, record[f]));
      const list = FIELDS.join(', ');
      const placeholders = FIELDS.map((_, i) => `$${i + 3}`).join(', ');
      const updates = FIELDS.map((f) => `${f} = EXCLUDED.${f}`).join(', ');
      await db.query(
        `INSERT INTO connections (team_id, id, ${list}) VALUES ($1, $2, ${placeholders})
         ON CONFLICT (team_id, id) DO UPDATE SET ${updates}`,
        [team, record.id, ...values],
      );
    },

    async update(
      id: string,
      patch: Partial<Omit<ConnectionRecord, 'id'>>,
    ): Promise<ConnectionRecord | undefined> {
      const sets: string[] = [];
      const params: unknown[] = [team, id];
      for (const field of FIELDS) {
        const value = patch[field];
        if (value === undefined) continue;
        params.push(param(field, value));
        sets.push(`${field} = $${params.length}`);
      }
      const sql =
        sets.length === 0
          ? `SELECT ${COLUMNS} FROM connections WHERE team_id = $1 AND id = $2`
          : `UPDATE connections SET ${sets.join(', ')} WHERE team_id = $1 AND id = $2 RETURNING ${COLUMNS}`;
      const { rows } = await db.query(sql, params);
      return rows[0] ? toConnection(rows[0]) : undefined;
    },

    async remove(id: string): Promise<boolean> {
      await db.query('DELETE FROM connection_keys WHERE team_id = $1 AND connection_id = $2', [team, id]);
      await db.query('DELETE FROM connection_metrics WHERE team_id = $1 AND connection_id = $2', [team, id]);
      const { rowCount } = await db.query('DELETE FROM connections WHERE team_id = $1 AND id = $2', [
        team,
        id,
      ]);
      return (rowCount ?? 0) > 0;
    },

    async addKeys(id: string, keys: readonly string[]): Promise<void> {
      if (keys.length === 0) return;
      await db.query(
        `INSERT INTO connection_keys (team_id, connection_id, key)
         SELECT $1, $2, k FROM unnest($3::text[]) AS k ON CONFLICT DO NOTHING`,
        [team, id, keys],
      );
    },

    async clearKeys(space: string): Promise<void> {
      await db.query('DELETE FROM connection_keys WHERE team_id = $1 AND connection_id = $2', [team, space]);
    },

    async putMetrics(metrics: readonly ContentMetric[]): Promise<void> {
      if (metrics.length === 0) return;
      // One row per key in one statement: the last value of a repeated key wins, as on the file backend.
      const last = new Map(metrics.map((m) => [`${m.connection_id}\u0000${m.content_id}\u0000${m.name}`, m]));
      const rows = [...last.values()];
      await db.query(
        `INSERT INTO connection_metrics (team_id, connection_id, content_id, name, value, at)
         SELECT $1, c, k, n, v, a FROM unnest($2::text[], $3::text[], $4::text[], $5::float8[], $6::timestamptz[])
           AS t(c, k, n, v, a)
         ON CONFLICT (team_id, connection_id, content_id, name) DO UPDATE SET value = EXCLUDED.value, at = EXCLUDED.at`,
        [
          team,
          rows.map((m) => m.connection_id),
          rows.map((m) => m.content_id),
          rows.map((m) => m.name),
          rows.map((m) => m.value),
          rows.map((m) => ts(m.at)),
        ],
      );
    },
  };
}

/** The migration that adds the connection tables. */
export const CONNECTIONS_SQL = `
CREATE TABLE connections (
  team_id          text NOT NULL,
  id               text NOT NULL,
  seq              bigint NOT NULL DEFAULT nextval('audience_row_seq'),
  kind             text NOT NULL,
  owner_id         text NOT NULL,
  settings         jsonb NOT NULL DEFAULT '{}',
  base_url         text,
  -- Sealed by the app with the data key (AES-256-GCM); the database never sees a token.
  credentials      text,
  created_at       timestamptz NOT NULL,
  interval_minutes integer NOT NULL DEFAULT 60 CHECK (interval_minutes >= 0),
  cursor           text,
  paused           boolean NOT NULL DEFAULT false,
  paused_reason    text,
  resume_at        timestamptz,
  last_sync_at     timestamptz,
  last_sync_status text CHECK (last_sync_status IN ('ok', 'failed', 'paused')),
  rows_added       bigint NOT NULL DEFAULT 0,
  total_rows       bigint NOT NULL DEFAULT 0,
  next_run_at      timestamptz,
  last_error       text,
  lease_holder     text,
  lease_until      timestamptz,
  PRIMARY KEY (team_id, id)
);
CREATE INDEX connections_order ON connections (team_id, seq);

-- Source ids of the events each connection committed: a re-fetched page adds nothing.
CREATE TABLE connection_keys (
  team_id       text NOT NULL,
  connection_id text NOT NULL,
  key           text NOT NULL,
  PRIMARY KEY (team_id, connection_id, key)
);

CREATE TABLE connection_metrics (
  team_id       text NOT NULL,
  connection_id text NOT NULL,
  content_id    text NOT NULL,
  name          text NOT NULL,
  value         double precision NOT NULL,
  at            timestamptz NOT NULL,
  PRIMARY KEY (team_id, connection_id, content_id, name)
);
`;
