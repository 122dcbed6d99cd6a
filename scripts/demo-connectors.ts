/**
 * `npm run demo:connectors`: a sample sync against the local stand-ins, end to end through the real CLI. Starts the
 * Graph API, YouTube Data API and Shopify Admin API stand-ins (test/support/stand-ins, seeded fixtures), connects
 * them in a temp data file with a fresh data key, syncs (a dry run, full syncs, then an incremental one after new
 * comments arrive), lists the connections and ends with `audience stats` showing the synced audience. Nothing
 * outside the temp directory is touched.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generateDataKey } from '../src/store/encryption.ts';
import { startGraphStandIn } from '../test/support/stand-ins/instagram-stand-in.ts';
import { startShopifyStandIn } from '../test/support/stand-ins/shopify-stand-in.ts';
import { startYouTubeStandIn } from '../test/support/stand-ins/youtube-stand-in.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = await mkdtemp(path.join(tmpdir(), 'audience-demo-connectors-'));
const graph = await startGraphStandIn();
const youtube = await startYouTubeStandIn();
const shop = await startShopifyStandIn();
const fx = graph.fixtures;
const env = {
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '',
  DATA_FILE: path.join(dir, 'audience.db'),
  DATA_ENCRYPTION_KEY: generateDataKey(),
  PSEUDONYM_KEY: 'demo-pseudonym-key-not-for-production',
  FIXED_NOW: new Date(fx.now).toISOString(),
  LOG_LEVEL: 'error',
};

async function audience(...args: string[]): Promise<void> {
  // The token file's path is shown; the token itself never is.
  process.stdout.write(`\n$ audience ${args.join(' ')}\n`);
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: root,
      env,
    });
    process.stdout.write(stdout + stderr);
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; code?: number };
    process.stdout.write(`${failed.stdout ?? ''}${failed.stderr ?? ''}(exit ${failed.code})\n`);
  }
}

try {
  const tokenFile = path.join(dir, 'graph-token');
  await writeFile(tokenFile, `${fx.token}\n`, { mode: 0o600 });
  process.stdout.write(`Graph API stand-in at ${graph.baseUrl}; data file ${env.DATA_FILE}\n`);
  await audience(
    'connect',
    'instagram',
    '--name',
    'brand-ig',
    '--ig-user',
    fx.igUser.id,
    '--page',
    fx.page.id,
    '--token-file',
    tokenFile,
    '--base-url',
    graph.baseUrl,
  );
  await audience(
    'connect',
    'youtube',
    '--name',
    'brand-yt',
    '--channel',
    youtube.fixtures.channel.id,
    '--api-key',
    youtube.fixtures.apiKey,
    '--base-url',
    youtube.baseUrl,
  );
  const shopToken = path.join(dir, 'shopify-token');
  await writeFile(shopToken, `${shop.fixtures.token}\n`, { mode: 0o600 });
  await audience(
    'connect',
    'shopify',
    '--name',
    'store',
    '--shop',
    shop.fixtures.shop.domain,
    '--token-file',
    shopToken,
    '--base-url',
    shop.baseUrl,
  );
  await audience('sync', 'brand-ig', '--dry-run');
  await audience('sync', 'brand-ig');
  await audience('sync', 'brand-yt');
  await audience('sync', 'store');
  // New comments arrive on the newest post; the next sync picks up only those.
  const newest = fx.media[0];
  if (newest) for (let i = 0; i < 5; i++) graph.addComment(newest.id, fx.now - 60_000 * (i + 1), i);
  await audience('sync');
  await audience('connections');
  await audience('stats');
} finally {
  await Promise.all([graph.close(), youtube.close(), shop.close()]);
  await rm(dir, { recursive: true, force: true });
}
