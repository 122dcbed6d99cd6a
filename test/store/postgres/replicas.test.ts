import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openPgStore, type PgStore } from '../../../src/store/postgres/pg-store.ts';
import { describePostgres, usePostgresSchema } from '../../support/postgres.ts';
import { ROOT } from '../../support/processes.ts';
import { type SlackStandIn, startSlackStandIn } from '../../support/slack-stand-in.ts';

const REPLICA = fileURLToPath(new URL('./fixtures/replica.ts', import.meta.url));
const OCCURRENCES = 200;
const TEAM = 'T0REPLICAS';

describePostgres('two replicas deliver each digest exactly once, even when one is killed mid-post', () => {
  const db = usePostgresSchema('replicas');
  let slack: SlackStandIn;
  let store: PgStore;
  beforeAll(async () => {
    slack = await startSlackStandIn();
    slack.addChannel({ id: 'C0DIGESTS', name: 'digests', member: true });
    // Migrated once here, so the replicas start on a ready schema.
    store = await openPgStore({ url: db.url, schema: db.schema, teamId: TEAM, onNotice: () => undefined });
  });
  afterAll(async () => {
    await store?.close();
    await slack?.close();
  });

  const start = (name: string): { child: ChildProcess; exited: Promise<number | null> } => {
    const child = spawn(process.execPath, ['--import', 'tsx', REPLICA], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        REPLICA_NAME: name,
        SLACK_API_URL: slack.apiUrl,
        DATABASE_URL: db.url,
        DATABASE_SCHEMA: db.schema,
        TEAM_ID: TEAM,
        OCCURRENCES: String(OCCURRENCES),
        LEASE_MS: '1000',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    return { child, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
  };

  it('posts 200 occurrences due together exactly 200 times', async () => {
    const a = start('a');
    const b = start('b');
    // Replica a dies the moment its 40th post reaches Slack, before it hears back or records anything:
    // its claim is left "posting", and the message is in the channel.
    let fromA = 0;
    let killed: string | null = null;
    slack.onCall((call) => {
      const text = String(call.body.text ?? '');
      if (call.method !== 'chat.postMessage' || !text.endsWith('from a')) return;
      fromA++;
      if (fromA === 40) {
        killed = text;
        a.child.kill('SIGKILL');
      }
    });
    expect(await b.exited).toBe(0);
    await a.exited;

    const posts = slack.callsTo('chat.postMessage');
    const keys = posts.map((c) => (c.body.metadata as { event_payload: { key: string } }).event_payload.key);
    expect(killed).not.toBeNull();
    expect(posts).toHaveLength(OCCURRENCES);
    expect(new Set(keys).size).toBe(OCCURRENCES);
    const deliveries = await store.digests.deliveries();
    expect(deliveries).toHaveLength(OCCURRENCES);
    // The post of the killed replica was found in the channel by the survivor, not sent again.
    const killedKey = String(killed).split(' ')[1];
    expect(deliveries.find((d) => d.key === killedKey)?.detail).toBe('found in the channel by b');
    expect(deliveries.filter((d) => d.detail === 'posted by a').length).toBeGreaterThanOrEqual(39);
  });
});
