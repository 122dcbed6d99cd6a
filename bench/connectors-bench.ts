/**
 * Sync throughput through the sync engine into a real store (issue #15): each platform's stand-in synced by
 * `syncConnection` into a temp data file (validation, pseudonymisation, dedupe, small pages gathered into one
 * store.change with the last page's cursor): rows added per second, pages, peak RSS; then the same pages again from
 * the start (an idempotent re-run: everything deduped, nothing added). The Shopify bulk path goes through the engine
 * too, its stand-in in a child process (bench/stand-in-child.ts), at 100k orders (`--orders=1000000` for 1M). The
 * connector-only figures (no store) are the `platforms` section's.
 * `--postgres` syncs into PostgreSQL instead (BENCH_DATABASE_URL, a schema of its own, dropped after).
 * Run: npx tsx bench/connectors-bench.ts [--orders=N] [--postgres]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { connect } from '../src/connectors/connections.ts';
import { connectorsByKind, defaultBaseUrl } from '../src/connectors/registry.ts';
import { type SyncDeps, type SyncOutcome, syncConnection } from '../src/connectors/sync.ts';
import { createPseudonymizer } from '../src/privacy/pseudonym.ts';
import { generateDataKey, parseDataKey } from '../src/store/encryption.ts';
import { openPgStore } from '../src/store/postgres/pg-store.ts';
import { openStore, type Store } from '../src/store/store.ts';
import { graphFixtures } from '../test/support/stand-ins/fixtures-instagram.ts';
import { shopFixtures } from '../test/support/stand-ins/fixtures-shopify.ts';
import { youtubeFixtures } from '../test/support/stand-ins/fixtures-youtube.ts';
import { startGraphStandIn } from '../test/support/stand-ins/instagram-stand-in.ts';
import { startShopifyStandIn } from '../test/support/stand-ins/shopify-stand-in.ts';
import { startYouTubeStandIn } from '../test/support/stand-ins/youtube-stand-in.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ordersArg = process.argv.find((a) => a.startsWith('--orders='));
const BULK_ORDERS = ordersArg === undefined ? 100_000 : Number(ordersArg.slice('--orders='.length));
const MB = 1024 * 1024;
const POSTGRES = process.argv.includes('--postgres');
const PG_URL =
  process.env.BENCH_DATABASE_URL ||
  process.env.TEST_DATABASE_URL ||
  'postgres://postgres@127.0.0.1:5432/test';

/** A fresh store: a temp data file, or (--postgres) a schema of its own, dropped after. */
async function freshStore(): Promise<{ store: Store; cleanup: () => Promise<void> }> {
  if (POSTGRES) {
    const schema = `bench_conn_${randomBytes(4).toString('hex')}`;
    const store = await openPgStore({ url: PG_URL, schema, teamId: 'TBENCH', onNotice: () => undefined });
    return {
      store,
      cleanup: async () => {
        await store.close();
        const admin = new pg.Client({ connectionString: PG_URL });
        await admin.connect();
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await admin.end();
      },
    };
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-connectors-'));
  const store = await openStore({
    file: path.join(dir, 'audience.db'),
    flushDelayMs: 50,
    onNotice: () => undefined,
  });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

interface Target {
  label: string;
  kind: 'instagram' | 'youtube' | 'shopify';
  baseUrl: string;
  credentials: Record<string, string>;
  settings: Record<string, string>;
  now: number;
}

let peak = 0;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 100);

/** A fresh store, the target connected, and two syncs: full, then the same pages again. */
async function measure(t: Target): Promise<string[]> {
  const { store, cleanup } = await freshStore();
  try {
    const deps: SyncDeps = {
      store,
      clock: () => new Date(t.now),
      connectors: connectorsByKind(),
      pseudonymizer: createPseudonymizer('bench-pseudonym-key-0123456789'),
      dataKey: parseDataKey(generateDataKey()),
      defaultBaseUrl,
      sleep: async () => undefined,
      random: () => 0.5,
    };
    await connect(
      { ...deps, defaultBaseUrl },
      {
        kind: t.kind,
        name: 'bench',
        owner: 'cli',
        settings: t.settings,
        credentials: t.credentials,
        baseUrl: t.baseUrl,
        check: false,
      },
    );
    global.gc?.();
    peak = process.memoryUsage().rss;
    const full = await timed(() => syncConnection(deps, 'bench'));
    const fullPeak = peak;
    await store.change((tx) => tx.updateConnection('bench', { cursor: null }));
    const again = await timed(() => syncConnection(deps, 'bench'));
    return [
      row(t.label, 'full sync', full),
      row(t.label, 're-run from the start', again),
      `peak RSS during the full sync: ${(fullPeak / MB).toFixed(0)} MB`,
    ];
  } finally {
    await cleanup();
  }
}

async function timed(run: () => Promise<SyncOutcome>) {
  const started = performance.now();
  const outcome = await run();
  const seconds = (performance.now() - started) / 1000;
  if (outcome.status !== 'ok') throw new Error(`sync ended ${outcome.status}: ${outcome.message}`);
  return { outcome, seconds };
}

function row(label: string, what: string, r: { outcome: SyncOutcome; seconds: number }): string {
  const o = r.outcome;
  const read =
    o.profiles.inserted +
    o.profiles.updated +
    o.products.inserted +
    o.products.updated +
    o.interactions.added +
    o.interactions.duplicates;
  return `| ${label} | ${what} | ${o.batches} | ${read.toLocaleString('en-US')} | ${o.rowsAdded.toLocaleString('en-US')} | ${r.seconds.toFixed(2)} | ${Math.round(read / r.seconds).toLocaleString('en-US')} | ${Math.round(o.rowsAdded / r.seconds).toLocaleString('en-US')} |`;
}

async function localTargets(): Promise<{ targets: Target[]; close: () => Promise<void> }> {
  const graph = await startGraphStandIn(
    graphFixtures({ media: 300, posts: 100, meanComments: 40, commenters: 5000 }),
  );
  const yt = await startYouTubeStandIn(youtubeFixtures({ videos: 200, meanComments: 60 }));
  const shop = await startShopifyStandIn(shopFixtures({ orders: 20_000, customers: 5_000, products: 300 }));
  const g = graph.fixtures;
  return {
    targets: [
      {
        label: 'Instagram + Page (Graph)',
        kind: 'instagram',
        baseUrl: graph.baseUrl,
        credentials: { accessToken: g.token, pageAccessToken: g.pageToken },
        settings: { igUserId: g.igUser.id, pageId: g.page.id },
        now: g.now,
      },
      {
        label: 'YouTube',
        kind: 'youtube',
        baseUrl: yt.baseUrl,
        credentials: { apiKey: yt.fixtures.apiKey },
        settings: { channelId: yt.fixtures.channel.id },
        now: yt.fixtures.now,
      },
      {
        label: 'Shopify (pages)',
        kind: 'shopify',
        baseUrl: shop.baseUrl,
        credentials: { accessToken: shop.fixtures.token },
        settings: { shop: 'bench', fullSync: 'pages' },
        now: shop.fixtures.now,
      },
      {
        label: 'Shopify (bulk, 20k orders)',
        kind: 'shopify',
        baseUrl: shop.baseUrl,
        credentials: { accessToken: shop.fixtures.token },
        settings: { shop: 'bench', fullSync: 'bulk' },
        now: shop.fixtures.now,
      },
    ],
    close: async () => {
      await Promise.all([graph.close(), yt.close(), shop.close()]);
    },
  };
}

/** The Shopify stand-in at `orders` orders in its own process, so the figures are the sync's alone. */
async function bulkTarget(orders: number): Promise<{ target: Target; close: () => void }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'bench/stand-in-child.ts',
      'shopify',
      String(orders),
      String(Math.max(1000, orders / 10)),
      '2000',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const first = await new Promise<string>((resolve) =>
    createInterface({ input: child.stdout }).once('line', resolve),
  );
  const { baseUrl, token } = JSON.parse(first) as { baseUrl: string; token: string };
  return {
    target: {
      label: `Shopify (bulk, ${orders.toLocaleString('en-US')} orders)`,
      kind: 'shopify',
      baseUrl,
      credentials: { accessToken: token },
      settings: { shop: 'bench', fullSync: 'bulk', batchRows: '5000' },
      now: shopFixtures().now,
    },
    close: () => child.kill('SIGTERM'),
  };
}

const lines = [
  '| platform | run | pages | rows read | rows added | seconds | rows read/s | rows added/s |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
];
const notes: string[] = [];
const local = await localTargets();
try {
  for (const t of local.targets) {
    const [full, again, mem] = await measure(t);
    lines.push(full as string, again as string);
    notes.push(`${t.label}: ${mem}`);
  }
} finally {
  await local.close();
}
const bulk = await bulkTarget(BULK_ORDERS);
try {
  const [full, again, mem] = await measure(bulk.target);
  lines.push(full as string, again as string);
  notes.push(`${bulk.target.label}: ${mem}`);
} finally {
  bulk.close();
}
clearInterval(sampler);
process.stdout.write(`${lines.join('\n')}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`);
process.stdout.write(
  `\nRows read = profiles, items and events handed over by the connector (re-runs: all deduped). Into ${POSTGRES ? 'PostgreSQL (one transaction per commit of gathered pages)' : 'a data file (in memory, saved durably per commit of gathered pages)'}.\n`,
);
