/**
 * The real app on PostgreSQL: two replicas of src/app.ts (HTTP mode, DATABASE_URL) share one database and the
 * Slack stand-in. 200 digests fall due in the same minute; one replica is killed in the middle of posting. Each
 * digest still reaches Slack exactly once, and the survivor answers a slash command over HTTP.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DigestSchedule } from '../../../src/domain/types.ts';
import { generateSample } from '../../../src/sample/generate.ts';
import { storeSample } from '../../../src/sample/load.ts';
import { openPgStore, type PgStore } from '../../../src/store/postgres/pg-store.ts';
import { describePostgres, usePostgresSchema } from '../../support/postgres.ts';
import { entryPoint, ROOT } from '../../support/processes.ts';
import { postSigned, slashCommand } from '../../support/signed-request.ts';
import { type SlackStandIn, startSlackStandIn } from '../../support/slack-stand-in.ts';
import { SIGNING_SECRET, TEST_NOW } from '../../support/test-app.ts';

const TEAM = 'T0APPREPL';
const SCHEDULES = 200;
const CHANNELS = 50;
/** The app's pinned clock: 30 s after every schedule's 09:00 occurrence fell due. */
const NOW = '2026-06-01T09:00:30Z';

interface Replica {
  name: string;
  port: number;
  child: ChildProcess;
  exited: Promise<number | null>;
  output: string[];
}

describePostgres('app replicas on one PostgreSQL database', () => {
  const db = usePostgresSchema('app_replicas');
  let slack: SlackStandIn;
  let store: PgStore;
  const replicas: Replica[] = [];

  beforeAll(async () => {
    slack = await startSlackStandIn();
    store = await openPgStore({ url: db.url, schema: db.schema, teamId: TEAM, onNotice: () => undefined });
    await storeSample(store, generateSample({ profiles: 300, seed: 7, end: TEST_NOW }), TEST_NOW);
    await store.change(async (tx) => {
      for (let i = 0; i < SCHEDULES; i++) await tx.addSchedule(schedule(i));
    });
    for (let c = 0; c < CHANNELS; c++) slack.addChannel({ id: channelId(c), name: `d${c}`, member: true });
  });
  afterAll(async () => {
    for (const r of replicas) r.child.kill('SIGKILL');
    await Promise.all(replicas.map((r) => r.exited));
    await store?.close();
    await slack?.close();
  });

  const start = (name: string): Replica => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    // The schema rides in the URL, as any libpq option can.
    const url = `${db.url}?options=${encodeURIComponent(`-c search_path=${db.schema}`)}`;
    const child = spawn(process.execPath, entryPoint('src/app.ts'), {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        // A token per replica, so the stand-in can tell whose post it received.
        SLACK_BOT_TOKEN: `xoxb-replica-${name}`,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: slack.apiUrl,
        DATABASE_URL: url,
        SLACK_TEAM_ID: TEAM,
        PSEUDONYM_KEY: 'a-shared-pseudonym-key-for-tests',
        ADMIN_USER_IDS: 'U0000001',
        FIXED_NOW: NOW,
        DIGEST_LEASE_SECONDS: '2',
        CHARTS: 'off',
        PORT: String(port),
        LOG_LEVEL: 'warn',
        DATA_FILE: '/nonexistent/never-used.db',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    child.stdout?.on('data', (chunk) => output.push(String(chunk)));
    child.stderr?.on('data', (chunk) => output.push(String(chunk)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const replica = { name, port, child, exited, output };
    replicas.push(replica);
    return replica;
  };

  it('posts 200 digests due in the same minute exactly 200 times, though one replica is killed midway', async () => {
    const a = start('a');
    const b = start('b');
    const byToken = new Map([
      ['Bearer xoxb-replica-a', a],
      ['Bearer xoxb-replica-b', b],
    ]);
    // Whichever replica makes the 40th post dies the moment it reaches Slack, before it hears back or
    // records anything: its claims are left "posting" (that one) or "claimed" (those it had not posted yet).
    let posts = 0;
    let killed: Replica | null = null;
    slack.onCall((call) => {
      if (call.method !== 'chat.postMessage' || ++posts !== 40) return;
      killed = byToken.get(String(call.headers.authorization)) ?? null;
      killed?.child.kill('SIGKILL');
    });

    const finished = await waitFor(async () => (await finalDeliveries()) === SCHEDULES, 120_000);
    expect(finished, replicas.map((r) => `${r.name}: ${r.output.join('')}`).join('\n')).toBe(true);
    expect(killed).not.toBeNull();
    const survivor = killed === a ? b : a;

    const sent = slack.callsTo('chat.postMessage');
    const keys = sent.map((c) => (c.body.metadata as { event_payload: { key: string } }).event_payload.key);
    expect(sent).toHaveLength(SCHEDULES);
    expect(new Set(keys).size).toBe(SCHEDULES);
    const deliveries = await store.digests.deliveries();
    expect(deliveries.filter((d) => d.status === 'delivered')).toHaveLength(SCHEDULES);
    // The killed replica's last post was found in the channel by the survivor, not sent again.
    const found = deliveries.filter((d) => d.detail?.includes('found in the channel'));
    expect(found.length).toBeGreaterThan(0);
    expect(keys.filter((k) => found.some((d) => d.key === k))).toHaveLength(found.length);
    const { rows } = await store.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM digest_occurrences WHERE team_id = $1 AND state = 'done'`,
      [TEAM],
    );
    expect(rows[0]?.n).toBe(SCHEDULES);

    // The survivor answers a slash command over HTTP, from the database.
    const form = slashCommand({ text: 'stats', responseUrl: slack.responseUrl('stats') });
    const ack = await postSigned(`http://127.0.0.1:${survivor.port}`, form, { secret: SIGNING_SECRET });
    expect(ack.status).toBe(200);
    const reply = await slack.waitFor(
      (c) => c.path === '/response/stats' && !String(c.body.text ?? '').startsWith('Working on it'),
    );
    expect(String(reply.body.text)).toMatch(/300 profiles/);

    survivor.child.kill('SIGTERM');
    expect(await survivor.exited).toBe(0);
    // Nothing more was posted while it stopped.
    expect(slack.callsTo('chat.postMessage')).toHaveLength(SCHEDULES);
  }, 180_000);

  async function finalDeliveries(): Promise<number> {
    const { rows } = await store.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM digest_deliveries WHERE team_id = $1 AND status <> 'started'`,
      [TEAM],
    );
    return rows[0]?.n ?? 0;
  }
});

function channelId(c: number): string {
  return `C0DIG${String(c).padStart(3, '0')}`;
}

function schedule(i: number): DigestSchedule {
  return {
    id: `sch_${String(i).padStart(3, '0')}`,
    channel_id: channelId(i % CHANNELS),
    owner_id: 'U0000001',
    cadence: 'daily',
    weekdays: [],
    local_time: '09:00',
    time_zone: 'UTC',
    paused: false,
    last_error: null,
    created_at: Date.parse('2026-06-01T08:00:00Z'),
    options: {},
  };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}
