/**
 * The real Slack app for tests: a real store on a temp file filled with the sample generator, the real
 * router and commands, the real Bolt app in HTTP mode on 127.0.0.1, talking to the Slack stand-in.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerCommands } from '../../commands/index.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { generateSample, type SampleData } from '../../src/sample/generate.ts';
import { storeSample } from '../../src/sample/load.ts';
import { createSlackApp, type SlackApp, type SlackAppOptions } from '../../src/slack/create-app.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { buttonPress, type PostResult, postEvent, postSigned, slashCommand } from './signed-request.ts';
import { type RecordedCall, type SlackStandIn, startSlackStandIn } from './slack-stand-in.ts';

/** The sample's end and the app's pinned "now". */
export const TEST_NOW = new Date('2026-06-01T00:00:00Z');
export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';

/** A running app with its stand-in and store. */
export interface TestApp {
  baseUrl: string;
  standIn: SlackStandIn;
  store: Store;
  slack: SlackApp;
  /** Log lines the app wrote (errors are asserted on). */
  logs: string[];
  /** Sends `/audience <text>` signed; the reply goes to the stand-in under `responseId`. */
  command(
    text: string,
    options?: { responseId?: string; userId?: string; channelId?: string },
  ): Promise<{ ack: PostResult; responseId: string }>;
  /** Presses a button; its answers go to the stand-in under `responseId`. */
  press(options: {
    actionId: string;
    value: string;
    responseId?: string;
    channelId?: string;
    userId?: string;
    ephemeral?: boolean;
  }): Promise<{ ack: PostResult; responseId: string }>;
  event(event: Record<string, unknown>): Promise<PostResult>;
  /** Waits for the final answer (not the "Working on it…" placeholder) posted to a response_url. */
  reply(responseId: string): Promise<RecordedCall>;
  stop(): Promise<void>;
}

let counter = 0;

/** Starts the stand-in, a store with `profiles` sample profiles (seed 7), and the app in HTTP mode. */
export async function startTestApp(
  options: {
    profiles?: number;
    /** Adjusts the generated sample before it is stored. */
    prepare?: (data: SampleData) => void;
    slack?: Partial<
      Pick<SlackAppOptions, 'retryConfig' | 'workingAfterMs' | 'queue' | 'homeRefreshMs' | 'receiver'>
    >;
  } = {},
): Promise<TestApp> {
  const dir = await mkdtemp(join(tmpdir(), 'audience-slack-'));
  const file = join(dir, 'audience.db');
  const standIn = await startSlackStandIn();
  const config = loadConfig({
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: standIn.apiUrl,
    DATA_FILE: file,
    FIXED_NOW: TEST_NOW.toISOString(),
    LOG_LEVEL: 'info',
    // The default test user (slashCommand/buttonPress) is an admin, so exports and forget work; use another
    // user id to test what non-admins get.
    ADMIN_USER_IDS: 'U0000001',
  });
  const store = await openStore({ file, flushDelayMs: 20, onNotice: () => undefined });
  const sample = generateSample({ profiles: options.profiles ?? 500, seed: 7, end: TEST_NOW });
  options.prepare?.(sample);
  await storeSample(store, sample, TEST_NOW);
  const logs: string[] = [];
  const logger = createLogger('info', (line) => logs.push(line));
  const clock = () => new Date(TEST_NOW);
  const router = registerCommands({ store, clock, config }, (error, context) =>
    logger.error('command failed', { error, text: context.text }),
  );
  const slack = createSlackApp({
    config,
    router,
    store,
    clock,
    logger,
    // Fast retries keep tests quick; a 429 still waits its Retry-After.
    retryConfig: { retries: 2, minTimeout: 0, maxTimeout: 20 },
    requestTimeoutMs: 5000,
    ...options.slack,
  });
  const { port } = await slack.start({ port: 0, host: '127.0.0.1' });
  const baseUrl = `http://127.0.0.1:${port}`;
  const sign = { secret: SIGNING_SECRET };
  const nextId = () => `r${++counter}`;

  return {
    baseUrl,
    standIn,
    store,
    slack,
    logs,
    async command(text, o = {}) {
      const responseId = o.responseId ?? nextId();
      const form = slashCommand({ text, responseUrl: standIn.responseUrl(responseId), ...o });
      return { ack: await postSigned(baseUrl, form, sign), responseId };
    },
    async press(o) {
      const responseId = o.responseId ?? nextId();
      const form = buttonPress({ ...o, responseUrl: standIn.responseUrl(responseId) });
      return { ack: await postSigned(baseUrl, form, sign), responseId };
    },
    event: (event) => postEvent(baseUrl, event, sign),
    reply(responseId) {
      return standIn.waitFor(
        (c) =>
          c.method === 'response_url' &&
          c.path === `/response/${responseId}` &&
          !String(c.body.text ?? '').startsWith('Working on it'),
      );
    },
    async stop() {
      await slack.stop(5000);
      await store.close();
      await standIn.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** All text of a Block Kit payload, joined, for assertions on what people would read. */
export function blockText(blocks: unknown): string {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(blocks);
  return out.join('\n');
}
