/**
 * The sync engine against a fake platform over real HTTP, into a real data file: pages to the end, incremental
 * syncs, idempotent re-runs, pseudonymised identifiers, each fault's outcome, one sync at a time, and a process
 * killed between two pages resuming with no duplicates.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isDue } from '../../src/connectors/connections.ts';
import { backoffMs, syncConnection } from '../../src/connectors/sync.ts';
import { createPseudonymizer } from '../../src/privacy/pseudonym.ts';
import { openStore } from '../../src/store/store.ts';
import { type FakePlatform, makeComments, startFakePlatform } from './fake-platform.ts';
import { connectFake, NOW, PSEUDONYM_KEY, syncSetup } from './helpers.ts';

let env: Awaited<ReturnType<typeof syncSetup>>;
let platform: FakePlatform;

beforeEach(async () => {
  env = await syncSetup();
  platform = await startFakePlatform(makeComments(45, 7), 10);
  await connectFake(env.deps, platform.url);
});
afterEach(async () => {
  await platform.close();
  await env.cleanup();
});

const ps = createPseudonymizer(PSEUDONYM_KEY);

/** Every comment id stored once: the interactions, keyed as the fake's comments are (user, media, time). */
async function storedEvents() {
  const events = await env.store.audience.interactions();
  return events.map((e) => `${e.user_id}|${e.item_id}|${e.timestamp}`);
}

function expectedEvents(count: number) {
  return makeComments(count, 7).map((c) => `instagram:${c.userId}|instagram:${c.mediaId}|${c.at}`);
}

describe('a full sync', () => {
  it('pages to the end and commits people, items, comments, metrics and the cursor', async () => {
    const outcome = await syncConnection(env.deps, 'insta', { actor: 'U_OWNER' });
    expect(outcome).toMatchObject({
      status: 'ok',
      batches: 5,
      profiles: { inserted: 7 },
      products: { inserted: 3 },
      interactions: { added: 45, duplicates: 4 },
      rowsAdded: 55,
      message: null,
    });
    expect(platform.requests).toEqual(['', '10', '20', '30', '40']);
    expect(await storedEvents()).toEqual(expectedEvents(45));
    const record = await env.store.connections.get('insta');
    expect(record).toMatchObject({
      cursor: '45',
      last_sync_status: 'ok',
      rows_added: 55,
      total_rows: 55,
      last_sync_at: NOW.getTime(),
      next_run_at: NOW.getTime() + 60 * 60_000,
      last_error: null,
      paused: false,
      lease_holder: null,
    });
    expect(await env.store.connections.syncedKeyCount('instagram')).toBe(45);
    expect((await env.store.connections.metrics('insta')).map((m) => m.content_id)).toEqual([
      'instagram:m1',
      'instagram:m2',
      'instagram:m3',
    ]);
    const audit = await env.store.audit.entries();
    expect(audit.at(-1)).toMatchObject({ actor: 'U_OWNER', action: 'connector.sync' });
    expect(audit.at(-1)?.detail).toBe('insta (instagram): 55 rows added in 5 pages, ok');
  });

  it('pseudonymises handles and e-mails exactly as an import does, and stores no token', async () => {
    await syncConnection(env.deps, 'insta');
    const [first] = await env.store.audience.profiles({ ids: ['instagram:u1'] });
    expect(first?.platform).toBe('instagram');
    expect(first?.attrs).toEqual({
      comments_seen: 1,
      handle: ps.pseudonym('fan_1', 'handle'),
      email: ps.pseudonym('fan1@example.com', 'email'),
    });
    expect(await env.store.audience.attributeKinds()).toMatchObject({
      handle: 'category',
      email: 'category',
    });
    await env.store.flush();
    const onDisk = await readFile(env.file, 'utf8');
    expect(onDisk).toContain('instagram:u1');
    for (const secret of ['Fan_1', 'fan_1', 'fan1@example.com', 'good-token']) {
      expect(onDisk).not.toContain(secret);
    }
  });

  it('drops identifiers when there is no pseudonym key, as an import without one does', async () => {
    await syncConnection({ ...env.deps, pseudonymizer: null }, 'insta');
    const [first] = await env.store.audience.profiles({ ids: ['instagram:u1'] });
    expect(first?.attrs).toEqual({ comments_seen: 1 });
  });
});

describe('commits', () => {
  it('gather small pages into one change by default, and every page on its own with commitRows 1', async () => {
    const before = await env.store.audience.version();
    expect(await syncConnection(env.deps, 'insta')).toMatchObject({ batches: 5, rowsAdded: 55 });
    expect(await env.store.audience.version()).toBe(before + 1);
    expect(await storedEvents()).toEqual(expectedEvents(45));

    const other = await syncSetup();
    try {
      await connectFake(other.deps, platform.url);
      const first = await other.store.audience.version();
      await syncConnection({ ...other.deps, commitRows: 1 }, 'insta');
      expect(await other.store.audience.version()).toBe(first + 5);
    } finally {
      await other.cleanup();
    }
  });

  it('commit what was read before a fault, so the retry asks again only from the failed page', async () => {
    platform.onRequest = (after) => {
      if (after === '30' && platform.requests.filter((r) => r === '30').length === 1) {
        platform.faults.push({ status: 503, body: { error: 'busy' } });
      }
    };
    const before = await env.store.audience.version();
    const outcome = await syncConnection(env.deps, 'insta');
    expect(outcome).toMatchObject({ status: 'ok', retries: 1, interactions: { added: 45 } });
    expect(platform.requests).toEqual(['', '10', '20', '30', '30', '40']);
    // Pages 1-3 in one change at the fault, pages 4-5 in another at the end.
    expect(await env.store.audience.version()).toBe(before + 2);
    expect(await storedEvents()).toEqual(expectedEvents(45));
  });
});

describe('incremental syncs', () => {
  it('start from the stored cursor and add only what is new; a sync with nothing new adds nothing', async () => {
    await syncConnection(env.deps, 'insta');
    const version = await env.store.audience.version();
    platform.comments.push(...makeComments(52, 7).slice(45));
    platform.requests.length = 0;
    const second = await syncConnection(env.deps, 'insta');
    expect(platform.requests).toEqual(['45']);
    expect(second).toMatchObject({ status: 'ok', interactions: { added: 7, duplicates: 1 }, rowsAdded: 7 });
    expect(await storedEvents()).toEqual(expectedEvents(52));

    const third = await syncConnection(env.deps, 'insta');
    expect(third).toMatchObject({ status: 'ok', rowsAdded: 0, interactions: { added: 0, duplicates: 1 } });
    expect(await env.store.connections.get('insta')).toMatchObject({ rows_added: 0, total_rows: 62 });
    // The profile upsert of the repeated comment is a change, but no event was added twice.
    expect(await storedEvents()).toEqual(expectedEvents(52));
    expect(await env.store.audience.version()).toBeGreaterThan(version);
  });

  it('are idempotent: syncing every page again from the start adds nothing', async () => {
    await syncConnection(env.deps, 'insta');
    await env.store.change((tx) => tx.updateConnection('insta', { cursor: null }));
    const again = await syncConnection(env.deps, 'insta');
    expect(again).toMatchObject({ status: 'ok', rowsAdded: 0, interactions: { added: 0, duplicates: 49 } });
    expect(await storedEvents()).toEqual(expectedEvents(45));
    expect((await env.store.audience.counts()).profiles).toBe(7);
  });
});

describe('faults', () => {
  it('retries a rate limit after Retry-After and a 5xx with backoff, then finishes', async () => {
    platform.onRequest = (after) => {
      if (after === '20' && platform.faults.length === 0 && platform.requests.length === 3) {
        platform.faults.push(
          { status: 429, headers: { 'retry-after': '7' }, body: { error: 'slow down' } },
          { status: 503, body: { error: 'unavailable' } },
        );
      }
    };
    const outcome = await syncConnection(env.deps, 'insta');
    expect(outcome).toMatchObject({ status: 'ok', retries: 2, interactions: { added: 45 } });
    // Each retry asks again from the last committed cursor.
    expect(platform.requests).toEqual(['', '10', '20', '20', '20', '30', '40']);
    expect(env.slept).toHaveLength(2);
    expect(env.slept[0]).toBeGreaterThanOrEqual(7_000);
    expect(env.slept[1]).toBeGreaterThanOrEqual(1_000);
    expect(await storedEvents()).toEqual(expectedEvents(45));
  });

  it('backs off exponentially with jitter, capped, never below the platform’s Retry-After', () => {
    const mid = () => 0.5;
    expect([0, 1, 2, 3].map((a) => backoffMs(a, mid))).toEqual([750, 1500, 3000, 6000]);
    expect(backoffMs(20, () => 0.999)).toBeLessThanOrEqual(5 * 60_000);
    expect(backoffMs(0, () => 0)).toBe(500);
    expect(backoffMs(0, () => 1, 42_000)).toBe(42_000);
  });

  it('fails the run when retries run out, keeping the last committed cursor', async () => {
    platform.onRequest = (after) => {
      if (after === '20') platform.faults.push({ status: 500, body: { error: 'boom' } });
    };
    const outcome = await syncConnection({ ...env.deps, maxRetries: 2 }, 'insta');
    expect(outcome).toMatchObject({ status: 'failed', retries: 2, interactions: { added: 20 } });
    expect(outcome.message).toContain('500');
    expect(await env.store.connections.get('insta')).toMatchObject({
      cursor: '20',
      last_sync_status: 'failed',
      paused: false,
      next_run_at: NOW.getTime() + 60 * 60_000,
      lease_holder: null,
    });
    expect(await storedEvents()).toEqual(expectedEvents(20));
    expect(env.notices).toEqual([]);
  });

  it('fails a malformed page without writing any of it; the next sync starts from the same page', async () => {
    platform.onRequest = (after) => {
      if (after === '20' && platform.requests.length === 3) platform.faults.push({ malformed: true });
    };
    const outcome = await syncConnection(env.deps, 'insta');
    expect(outcome).toMatchObject({ status: 'failed', retries: 0, batches: 2 });
    expect(outcome.message).toContain('no data list');
    expect((await env.store.connections.get('insta'))?.cursor).toBe('20');
    expect(await storedEvents()).toEqual(expectedEvents(20));
    platform.requests.length = 0;
    expect(await syncConnection(env.deps, 'insta')).toMatchObject({ status: 'ok' });
    expect(platform.requests[0]).toBe('20');
    expect(await storedEvents()).toEqual(expectedEvents(45));
  });

  it('refuses a page whose rows break the import rules, naming the row, and writes none of it', async () => {
    platform.comments[12] = { ...(platform.comments[12] as (typeof platform.comments)[number]), at: -5 };
    const outcome = await syncConnection(env.deps, 'insta');
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toMatch(
      /interaction 4 \(c13\): timestamp: expected a date between 1970 and 2100/,
    );
    expect(await storedEvents()).toEqual(expectedEvents(10));
  });

  it('pauses on an expired token and tells the owner; the schedule skips it until it is reconnected', async () => {
    await connectFake(env.deps, platform.url, 'expired-token');
    const outcome = await syncConnection(env.deps, 'insta');
    expect(outcome).toMatchObject({ status: 'paused', nextRunAt: null });
    const record = await env.store.connections.get('insta');
    expect(record).toMatchObject({ paused: true, paused_reason: 'auth_expired', last_sync_status: 'paused' });
    expect(isDue(record as NonNullable<typeof record>, NOW.getTime() + 1e9)).toBe(false);
    expect(env.notices).toHaveLength(1);
    expect(env.notices[0]?.owner).toBe('U_OWNER');
    expect(env.notices[0]?.message).toContain('"insta": the access token has expired');
    expect(env.notices[0]?.message).not.toContain('expired-token');

    const again = await connectFake(env.deps, platform.url, 'good-token');
    expect(again.reconnected).toBe(true);
    expect(await env.store.connections.get('insta')).toMatchObject({ paused: false, paused_reason: null });
    expect(await syncConnection(env.deps, 'insta')).toMatchObject({
      status: 'ok',
      interactions: { added: 45 },
    });
  });

  it('pauses until the quota resets, without bothering the owner, and resumes from the cursor', async () => {
    const resumeAt = NOW.getTime() + 5 * 3_600_000;
    platform.onRequest = (after) => {
      if (after === '30' && platform.requests.length === 4) {
        platform.faults.push({ status: 403, body: { error: { reason: 'quotaExceeded', resumeAt } } });
      }
    };
    const outcome = await syncConnection(env.deps, 'insta');
    expect(outcome).toMatchObject({ status: 'paused', nextRunAt: resumeAt, interactions: { added: 30 } });
    const record = await env.store.connections.get('insta');
    expect(record).toMatchObject({ paused: true, paused_reason: 'quota', resume_at: resumeAt, cursor: '30' });
    const paused = record as NonNullable<typeof record>;
    expect(isDue(paused, resumeAt - 1)).toBe(false);
    expect(isDue(paused, resumeAt)).toBe(true);
    expect(env.notices).toEqual([]);
    env.clock.now = resumeAt;
    expect(await syncConnection(env.deps, 'insta')).toMatchObject({
      status: 'ok',
      interactions: { added: 15 },
    });
    expect(await env.store.connections.get('insta')).toMatchObject({ paused: false, resume_at: null });
    expect(await storedEvents()).toEqual(expectedEvents(45));
  });

  it('gives up on a request that does not answer within the timeout and retries it', async () => {
    platform.faults.push({ hang: true });
    const outcome = await syncConnection({ ...env.deps, requestTimeoutMs: 300 }, 'insta');
    expect(outcome).toMatchObject({ status: 'ok', retries: 1, interactions: { added: 45 } });
    expect(platform.requests.slice(0, 2)).toEqual(['', '']);
  });
});

describe('one sync at a time', () => {
  it('answers busy to a second sync of the same connection in this process', async () => {
    const [a, b] = await Promise.all([syncConnection(env.deps, 'insta'), syncConnection(env.deps, 'insta')]);
    expect([a.status, b.status]).toEqual(['ok', 'busy']);
    expect(b.message).toContain('already running');
    expect(await storedEvents()).toEqual(expectedEvents(45));
  });

  it('answers busy while another process holds the lease, and takes over once it has run out', async () => {
    const until = NOW.getTime() + 60_000;
    await env.store.change((tx) =>
      tx.updateConnection('insta', { lease_holder: 'other:1', lease_until: until }),
    );
    expect(await syncConnection(env.deps, 'insta')).toMatchObject({ status: 'busy' });
    expect(platform.requests).toEqual([]);
    env.clock.now = until + 1;
    expect(await syncConnection(env.deps, 'insta')).toMatchObject({ status: 'ok' });
  });
});

describe('a dry run', () => {
  it('reads every page and counts what a sync would add, writing nothing', async () => {
    const dry = await syncConnection(env.deps, 'insta', { dryRun: true });
    expect(dry).toMatchObject({
      status: 'dry-run',
      batches: 5,
      profiles: { inserted: 7 },
      products: { inserted: 3 },
      interactions: { added: 45, duplicates: 4 },
      rowsAdded: 55,
    });
    expect(await env.store.audience.version()).toBe(0);
    expect(await env.store.connections.get('insta')).toMatchObject({ cursor: null, last_sync_at: null });
    const real = await syncConnection(env.deps, 'insta');
    expect(real.rowsAdded).toBe(dry.rowsAdded);
  });
});

describe('a crash between two pages', () => {
  it('loses nothing committed and resumes from the last committed page with no duplicates', async () => {
    await env.store.close();
    const fixture = path.join(import.meta.dirname, 'fixtures', 'sync-child.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, env.file, platform.url, env.keyText], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      output += c.toString();
    });
    // The child asks for page 4 only once page 3 is committed: kill it while that request waits.
    platform.onRequest = (after) => {
      if (after === '30') {
        platform.faults.push({ hang: true });
        child.kill('SIGKILL');
      }
    };
    const exit = await new Promise<string | null>((resolve) =>
      child.on('exit', (_c, signal) => resolve(signal)),
    );
    expect(exit, output).toBe('SIGKILL');
    platform.onRequest = () => undefined;
    platform.requests.length = 0;

    const store = await openStore({ file: env.file, flushDelayMs: 0, onNotice: () => undefined });
    env.store = store;
    const deps = { ...env.deps, store };
    expect(await store.connections.get('insta')).toMatchObject({ cursor: '30', lease_holder: 'child' });
    expect((await store.audience.counts()).interactions).toBe(30);
    // The dead child's lease holds the connection until it runs out, then this process takes over.
    expect(await syncConnection(deps, 'insta')).toMatchObject({ status: 'busy' });
    env.clock.now = NOW.getTime() + 11 * 60_000;
    const resumed = await syncConnection(deps, 'insta');
    expect(resumed).toMatchObject({ status: 'ok', interactions: { added: 15, duplicates: 2 } });
    expect(platform.requests).toEqual(['30', '40']);
    const events = await store.audience.interactions();
    expect(events.map((e) => `${e.user_id}|${e.item_id}|${e.timestamp}`)).toEqual(expectedEvents(45));
    expect(await store.connections.syncedKeyCount('instagram')).toBe(45);
    expect((await store.audience.counts()).profiles).toBe(7);
  }, 60_000);
});
