/**
 * Starting against a Slack that cannot be reached or refuses a token: one clear line and a non-zero exit,
 * never a stack trace; an unreachable Web API is retried with backoff first.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCommands } from '../../commands/index.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { createSlackApp } from '../../src/slack/create-app.ts';
import { SlackStartError } from '../../src/slack/start-check.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { entryPoint, run } from '../support/processes.ts';
import { type SlackStandIn, startSlackStandIn } from '../support/slack-stand-in.ts';

let dir: string;
let store: Store;
let standIn: SlackStandIn;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audience-start-'));
  store = await openStore({ file: join(dir, 'audience.db'), onNotice: () => undefined });
  standIn = await startSlackStandIn();
});
afterAll(async () => {
  await store.close();
  await standIn.close();
  await rm(dir, { recursive: true, force: true });
});

function slackApp(env: Record<string, string>, logs: string[] = []) {
  const config = loadConfig({
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    DATA_FILE: join(dir, 'audience.db'),
    ...env,
  });
  const logger = createLogger('info', (line) => logs.push(line));
  const clock = () => new Date('2026-06-01T00:00:00Z');
  const router = registerCommands({ store, clock, config }, () => undefined);
  return createSlackApp({
    config,
    router,
    store,
    clock,
    logger,
    startRetry: { attempts: 3, firstDelayMs: 10 },
  });
}

describe('starting the Slack app', () => {
  it('retries an unreachable Web API with backoff, then stops with one line naming it and the reason', async () => {
    const closed = await startSlackStandIn();
    const apiUrl = closed.apiUrl;
    await closed.close();
    const logs: string[] = [];
    const app = slackApp({ SLACK_SIGNING_SECRET: 'secret', SLACK_API_URL: apiUrl }, logs);
    const failed = await app.start({ port: 0, host: '127.0.0.1' }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(SlackStartError);
    const message = (failed as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toBe(
      `Could not reach the Slack Web API at ${apiUrl} (auth.test: request_error, ECONNREFUSED) after 3 tries; check the network, a proxy or SLACK_API_URL.`,
    );
    expect(logs.filter((l) => l.includes('Slack did not answer auth.test; trying again'))).toHaveLength(2);
  });

  it('says which token Slack rejected in Socket Mode (apps.connections.open: invalid_auth), without retrying', async () => {
    standIn.failNext('apps.connections.open', { kind: 'error', error: 'invalid_auth' });
    const app = slackApp({
      SLACK_APP_TOKEN: 'xapp-revoked',
      SLACK_API_URL: standIn.apiUrl,
      PORT: String(30_000 + Math.floor(Math.random() * 20_000)),
    });
    const failed = await app.start().catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(ConfigError);
    expect((failed as Error).message).toMatch(
      /^Slack rejected SLACK_APP_TOKEN \(invalid_auth\): create an app-level token/,
    );
    expect(standIn.callsTo('apps.connections.open')).toHaveLength(1);
  });

  it('ends the process with that one line and a non-zero exit, not a stack trace', async () => {
    standIn.failNext('apps.connections.open', { kind: 'error', error: 'invalid_auth' });
    const result = await run('node', entryPoint('src/app.ts'), {
      env: {
        SLACK_BOT_TOKEN: 'xoxb-test-token',
        SLACK_APP_TOKEN: 'xapp-revoked',
        SLACK_API_URL: standIn.apiUrl,
        DATA_FILE: join(dir, 'app.db'),
        SAMPLE_PROFILES: '50',
        PORT: String(30_000 + Math.floor(Math.random() * 20_000)),
        LOG_LEVEL: 'error',
      },
      timeoutMs: 60_000,
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^Slack rejected SLACK_APP_TOKEN \(invalid_auth\): /),
    ]);
  });
});
