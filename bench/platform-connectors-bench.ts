/**
 * Platform connectors against their local stand-ins (issue #15), connector side only (no store: the sync engine's
 * commit cost is measured by its own section): rows/s of a full Graph (Instagram) sync, a full YouTube sync, a
 * paged Shopify sync, and the Shopify bulk path streaming the JSONL of a 1M-order store (the stand-in in its own
 * process), with the connector's RSS sampled every 250 ms to show memory stays flat while the file streams.
 * Run: npx tsx bench/platform-connectors-bench.ts [--orders=N]
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Connector, ConnectorContext, SyncBatch } from '../src/connectors/connector.ts';
import { instagramConnector } from '../src/connectors/instagram/instagram-connector.ts';
import { shopifyConnector } from '../src/connectors/shopify/shopify-connector.ts';
import { youtubeConnector } from '../src/connectors/youtube/youtube-connector.ts';
import { graphFixtures } from '../test/support/stand-ins/fixtures-instagram.ts';
import { shopFixtures } from '../test/support/stand-ins/fixtures-shopify.ts';
import { youtubeFixtures } from '../test/support/stand-ins/fixtures-youtube.ts';
import { startGraphStandIn } from '../test/support/stand-ins/instagram-stand-in.ts';
import { startShopifyStandIn } from '../test/support/stand-ins/shopify-stand-in.ts';
import { startYouTubeStandIn } from '../test/support/stand-ins/youtube-stand-in.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ordersArg = process.argv.find((a) => a.startsWith('--orders='));
const BULK_ORDERS = ordersArg === undefined ? 1_000_000 : Number(ordersArg.slice('--orders='.length));
const MB = 1024 * 1024;

interface Figures {
  rows: number;
  interactions: number;
  batches: number;
  seconds: number;
}

function context(
  baseUrl: string,
  credentials: Record<string, string>,
  settings: Record<string, string>,
  now: number,
) {
  return {
    fetch: globalThis.fetch,
    now: () => new Date(now),
    baseUrl,
    credentials,
    settings,
    sleep: async () => undefined,
  } satisfies ConnectorContext;
}

async function run(
  connector: Connector,
  ctx: ConnectorContext,
  onBatch?: (b: SyncBatch, f: Figures) => void,
) {
  const f: Figures = { rows: 0, interactions: 0, batches: 0, seconds: 0 };
  const started = performance.now();
  for await (const batch of connector.fetchChanges(ctx, null)) {
    f.batches += 1;
    f.interactions += batch.interactions.length;
    f.rows +=
      batch.profiles.length +
      batch.products.length +
      batch.interactions.length +
      (batch.metrics?.length ?? 0);
    onBatch?.(batch, f);
  }
  f.seconds = (performance.now() - started) / 1000;
  return f;
}

function line(name: string, f: Figures, requests: number, extra = '') {
  const perSecond = Math.round(f.rows / f.seconds).toLocaleString('en-US');
  process.stdout.write(
    `| ${name} | ${f.rows.toLocaleString('en-US')} | ${f.interactions.toLocaleString('en-US')} | ${requests.toLocaleString('en-US')} | ${f.seconds.toFixed(2)} | ${perSecond} |${extra}\n`,
  );
}

async function smallSyncs() {
  process.stdout.write(
    '| sync (connector only, stand-in in-process) | rows | interactions | requests | s | rows/s |\n|---|---|---|---|---|---|\n',
  );
  const graph = await startGraphStandIn(graphFixtures({ media: 300, posts: 50, meanComments: 30 }));
  const gfx = graph.fixtures;
  const gctx = context(
    graph.baseUrl,
    { accessToken: gfx.token, pageAccessToken: gfx.pageToken },
    { igUserId: gfx.igUser.id, pageId: gfx.page.id },
    gfx.now,
  );
  line('Graph: IG account + Page, full', await run(instagramConnector, gctx), graph.requests.length);
  await graph.close();

  const yt = await startYouTubeStandIn(youtubeFixtures({ videos: 250, meanComments: 40 }));
  const yctx = context(
    yt.baseUrl,
    { apiKey: yt.fixtures.apiKey },
    { channelId: yt.fixtures.channel.id },
    yt.fixtures.now,
  );
  line('YouTube: channel, full', await run(youtubeConnector, yctx), yt.requests.length);
  await yt.close();

  const shop = await startShopifyStandIn(shopFixtures({ customers: 2_000, products: 200, orders: 5_000 }));
  const sctx = context(
    shop.baseUrl,
    { accessToken: shop.fixtures.token },
    { shop: 'bench', fullSync: 'pages' },
    shop.fixtures.now,
  );
  line('Shopify: paged full (5k orders)', await run(shopifyConnector, sctx), shop.requests.length);
  await shop.close();
}

async function bulkSync() {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/stand-in-child.ts', 'shopify', String(BULK_ORDERS), '100000', '2000'],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const first = await new Promise<string>((resolve) => {
    createInterface({ input: child.stdout }).once('line', resolve);
  });
  const { baseUrl, token } = JSON.parse(first) as { baseUrl: string; token: string };
  const fx = shopFixtures({ orders: BULK_ORDERS });
  const ctx = context(baseUrl, { accessToken: token }, { shop: 'bench', batchRows: '5000' }, fx.now);
  const samples: { interactions: number; rssMB: number; heapMB: number }[] = [];
  let latest = 0;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    samples.push({ interactions: latest, rssMB: m.rss / MB, heapMB: m.heapUsed / MB });
  }, 250);
  const f = await run(shopifyConnector, ctx, (_b, figures) => {
    latest = figures.interactions;
  });
  clearInterval(timer);
  child.kill('SIGTERM');
  process.stdout.write(
    `\n| Shopify bulk first sync (JSONL streamed; stand-in in its own process) | rows | purchases | s | rows/s |\n|---|---|---|---|---|\n| ${BULK_ORDERS.toLocaleString('en-US')} orders, 100k customers, 2k products | ${f.rows.toLocaleString('en-US')} | ${f.interactions.toLocaleString('en-US')} | ${f.seconds.toFixed(1)} | ${Math.round(f.rows / f.seconds).toLocaleString('en-US')} |\n`,
  );
  const orderSamples = samples.filter((s) => s.interactions > 0);
  const at = (q: number) =>
    orderSamples[Math.min(orderSamples.length - 1, Math.floor(q * (orderSamples.length - 1)))];
  process.stdout.write(
    '\nConnector memory while the orders file streams (flat = bounded):\n\n| purchases so far | RSS MB | heap MB |\n|---|---|---|\n',
  );
  for (const q of [0.1, 0.25, 0.5, 0.75, 1]) {
    const s = at(q);
    if (s !== undefined)
      process.stdout.write(
        `| ${s.interactions.toLocaleString('en-US')} | ${s.rssMB.toFixed(0)} | ${s.heapMB.toFixed(0)} |\n`,
      );
  }
  const peak = Math.max(...samples.map((s) => s.rssMB));
  process.stdout.write(`\nPeak RSS of the connector process: ${peak.toFixed(0)} MB\n`);
}

await smallSyncs();
await bulkSync();
