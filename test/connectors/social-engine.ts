/**
 * End-to-end set-up for the platform connectors (Graph, Shopify, YouTube) through the real sync engine: a temp
 * data file (helpers.ts), a connection whose base URL is the platform's stand-in, and a crash helper that runs the
 * sync in a child process and SIGKILLs it while a chosen request to the stand-in waits.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { connect } from '../../src/connectors/connections.ts';
import type { Connector } from '../../src/connectors/connector.ts';
import { instagramConnector } from '../../src/connectors/instagram/instagram-connector.ts';
import { shopifyConnector } from '../../src/connectors/shopify/shopify-connector.ts';
import { youtubeConnector } from '../../src/connectors/youtube/youtube-connector.ts';
import { openStore } from '../../src/store/store.ts';
import type { LoggedRequest, StandInServer } from '../support/stand-ins/stand-in-server.ts';
import { syncSetup } from './helpers.ts';

/** The three platform connectors, by kind, as the engine takes them. */
export const SOCIAL_CONNECTORS: Readonly<Record<string, Connector>> = {
  instagram: instagramConnector,
  shopify: shopifyConnector,
  youtube: youtubeConnector,
};

/** syncSetup with the platform connectors and the clock at `now`. */
export async function socialSetup(now: number) {
  const env = await syncSetup();
  env.clock.now = now;
  env.deps = { ...env.deps, connectors: SOCIAL_CONNECTORS };
  return env;
}

type Env = Awaited<ReturnType<typeof socialSetup>>;

/** Stores connection `name` of `kind` against `baseUrl` (token not checked: the stand-in is the platform). */
export function connectStandIn(
  env: Env,
  kind: string,
  baseUrl: string,
  settings: Record<string, string>,
  credentials: Record<string, string>,
  name = kind,
) {
  return connect(
    {
      store: env.deps.store,
      clock: env.deps.clock,
      connectors: env.deps.connectors,
      dataKey: env.deps.dataKey,
      defaultBaseUrl: () => baseUrl,
    },
    { kind, name, owner: 'U_OWNER', settings, credentials, baseUrl, check: false },
  );
}

/**
 * Syncs `connection` in a child process and SIGKILLs it when `killAt` first matches a request to `standIn` (that
 * request is left hanging, so the kill lands between two committed pages). Reopens the data file and answers the
 * store; env.store / env.deps.store are replaced by it.
 */
export async function syncAndKill(
  env: Env,
  standIn: StandInServer,
  connection: string,
  killAt: (request: LoggedRequest) => boolean,
) {
  await env.store.close();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(import.meta.dirname, 'fixtures', 'social-sync-child.ts'),
      env.file,
      env.keyText,
      connection,
      String(env.clock.now),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    output += c.toString();
  });
  let killed = false;
  standIn.watch((request) => {
    if (killed || !killAt(request)) return;
    killed = true;
    standIn.failNext(request.path, { kind: 'hang' });
    child.kill('SIGKILL');
  });
  const signal = await new Promise<string | null>((resolve) =>
    child.on('exit', (_code, sig) => resolve(sig)),
  );
  standIn.watch(null);
  if (signal !== 'SIGKILL') throw new Error(`the child was not killed mid-sync: ${output}`);
  const store = await openStore({ file: env.file, flushDelayMs: 0, onNotice: () => undefined });
  env.store = store;
  env.deps = { ...env.deps, store };
  return store;
}
