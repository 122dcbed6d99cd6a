import type { Server } from 'node:http';
import type { ListenOptions } from 'node:net';
import { App, LogLevel, type webApi } from '@slack/bolt';
import type { Router } from '../../commands/router.ts';
import { buildLateFormNotice } from '../blocks/late-form-notice.ts';
import { type AppConfig, ConfigError } from '../config.ts';
import type { Clock } from '../domain/types.ts';
import type { Logger } from '../logger.ts';
import { startWarmUp, type WarmUp } from '../queries/warm-up.ts';
import type { Store } from '../store/store.ts';
import { boltLogger } from './bolt-logger.ts';
import type { SlackDeps } from './deps.ts';
import { classifyFailure, slackErrorCode } from './errors.ts';
import { FrontDoorReceiver } from './front-door-receiver.ts';
import { healthRoute, readHealth } from './health.ts';
import { createHomeTab, type HomeTab } from './home.ts';
import { registerListeners } from './listeners/index.ts';
import { createPostingClient, sendDirectMessage } from './post.ts';
import { createResponseUrls } from './response-url.ts';
import { SlackStartError, type StartRetry, untilSlackAnswers } from './start-check.ts';
import { createVerifiedReceiver, MAX_REQUEST_BODY_BYTES } from './verified-receiver.ts';
import { createWorkQueue, type WorkQueue, type WorkQueueOptions } from './work-queue.ts';

/** Everything the Slack app is built from; the optional parts tune it for tests and benchmarks. */
export interface SlackAppOptions {
  config: AppConfig;
  router: Router;
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Web API retries (rate limits wait Retry-After first). Default: 3 retries, 0.5 s doubling, at most 10 s. */
  retryConfig?: webApi.RetryOptions;
  /** Per-call Web API timeout in ms (default 15 s). */
  requestTimeoutMs?: number;
  /** "Working on it…" after this many ms (default 1000). */
  workingAfterMs?: number;
  queue?: WorkQueueOptions;
  /** How often the Home tab checks for changed data to re-publish (default 30 s). */
  homeRefreshMs?: number;
  /**
   * `front-door` (default): a worker thread verifies (HTTP) or receives (Socket Mode) requests and acknowledges
   * them at once, so acknowledgements never wait for engine work (see front-door-receiver.ts). `bolt-http`,
   * `bolt-socket`: Bolt's own receiver on the main thread, where an ack waits for any engine work already running.
   */
  receiver?: 'front-door' | 'bolt-http' | 'bolt-socket';
  /** Retries of the start checks while Slack cannot be reached (default: 6 tries over about 30 s). */
  startRetry?: StartRetry;
  /** Front door only: how long Bolt has to answer a modal submission before Slack gets an empty answer
   * (default 2500 ms, under Slack's 3 s). */
  formAckTimeoutMs?: number;
}

/** The running Slack front door. */
export interface SlackApp {
  /** Checks the bot token with Slack, then listens (HTTP: on `listen`, default config.port; Socket Mode: connects). */
  start(listen?: number | ListenOptions): Promise<{ port: number | null }>;
  /** Stops taking requests and lets queued answers go out (up to `graceMs`, default 10 s). */
  stop(graceMs?: number): Promise<void>;
  /** Re-publishes the Home tab for people whose view is out of date; call after the data changed. */
  refreshHome(): Promise<void>;
  /** Resolves true once the models for the current audience are warmed up (false after `timeoutMs`). */
  whenWarm(timeoutMs: number): Promise<boolean>;
  /** The Bolt app, for adding listeners. */
  readonly bolt: App;
}

const BOLT_LEVELS = {
  debug: LogLevel.DEBUG,
  info: LogLevel.INFO,
  warn: LogLevel.WARN,
  error: LogLevel.ERROR,
} as const;

/** Default Web API retry policy: enough to ride out a rate limit or a blip while a person waits. */
export const DEFAULT_RETRY: webApi.RetryOptions = {
  retries: 3,
  factor: 2,
  minTimeout: 500,
  maxTimeout: 10_000,
  randomize: true,
};

const BOT_TOKEN_CHECK = {
  method: 'auth.test',
  token: 'SLACK_BOT_TOKEN',
  fix: 'copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions again.',
};
const APP_TOKEN_CHECK = {
  method: 'apps.connections.open',
  token: 'SLACK_APP_TOKEN',
  fix: 'create an app-level token (xapp-…) with the connections:write scope under Basic Information > App-Level Tokens.',
};

/** Runs a Bolt start step; a failure left after the checks above still ends in one line, not a stack trace. */
async function inOneLine<T>(method: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    const { code } = classifyFailure(error);
    throw new SlackStartError(`Slack answered ${method} with ${code}; the app cannot start.`);
  }
}

/** Builds the Bolt app for HTTP or Socket Mode from configuration and registers the listeners. */
export function createSlackApp(options: SlackAppOptions): SlackApp {
  const { config, store, clock, logger } = options;
  if (config.mode === 'local')
    throw new ConfigError('Slack is not configured: set SLACK_BOT_TOKEN and a signing secret or app token.');
  const queue = createWorkQueue(options.queue);
  const home = createHomeTab({ store, clock, currency: config.currency, logger, queue });
  const startedAt = Date.now();
  let stopping = false;
  let stopWatching: (() => void) | null = null;
  let warmUp: WarmUp | null = null;
  const readNow = () =>
    readHealth({ store, clock, queue, mode: config.mode, startedAt, stopping, warm: warmUp?.ready ?? false });
  const frontDoor = createFrontDoor(options, {
    readNow,
    onRequest: () => queue.noteActivity(),
    // A form's errors that missed Slack's deadline reach the person as a direct message instead of vanishing.
    onLateAck: (body, response) => void tellLateFormErrors(app.client, logger, body, response),
  });
  const app = createBoltApp(options, frontDoor, readNow);
  const deps = slackDeps(options, queue, home);
  // Every request that reaches Bolt holds back queued work briefly, so a burst is acknowledged first.
  app.use(async ({ next }) => {
    queue.noteActivity();
    await next();
  });
  registerListeners(app, deps);
  app.error(async (error) => {
    logger.error('unhandled Slack listener error', { error, slackError: slackErrorCode(error) });
  });

  return {
    bolt: app,
    async start(listen) {
      await checkSlack(app, deps.poster, options);
      // Data changed by imports, segment runs or digest edits reach open Home tabs without anyone calling in.
      stopWatching = home.watch(app.client, options.homeRefreshMs ?? 30_000);
      // Index and models are computed while nobody is asking, so the first command after a change is quick too.
      warmUp = startWarmUp({ store, clock, currency: config.currency, queue, logger });
      // A model or segment run saved in the middle of a burst of commands waits for the answers to go out.
      store.deferBackgroundSaves(() => queue.pending > 0);
      if (frontDoor) {
        const { port } = await inOneLine('apps.connections.open', () =>
          frontDoor.start(listen ?? config.port),
        );
        return { port };
      }
      if (config.mode === 'socket') {
        await inOneLine('apps.connections.open', () => app.start());
        return { port: null };
      }
      return listenOnMainThread(app, listen ?? config.port, queue);
    },
    async stop(graceMs = 10_000) {
      stopping = true;
      stopWatching?.();
      warmUp?.stop();
      try {
        await app.stop();
      } catch (error) {
        logger.warn('the Slack receiver did not stop cleanly', { error });
      }
      if (!(await queue.drain(graceMs)))
        logger.warn('stopped with answers still queued', { pending: queue.pending });
    },
    refreshHome: () => home.refresh(app.client),
    whenWarm: (timeoutMs) => warmUp?.whenReady(timeoutMs) ?? Promise.resolve(false),
  };
}

type ReadHealth = () => ReturnType<typeof readHealth>;

/** The worker-thread front door, unless a Bolt receiver was asked for (then null). */
function createFrontDoor(
  options: SlackAppOptions,
  hooks: {
    readNow: ReadHealth;
    onRequest: () => void;
    onLateAck: (body: Record<string, unknown>, response: unknown) => void;
  },
): FrontDoorReceiver | null {
  const { config, logger } = options;
  const { slack } = config;
  if (options.receiver === (config.mode === 'socket' ? 'bolt-socket' : 'bolt-http')) return null;
  return new FrontDoorReceiver({
    signingSecret: slack.signingSecret ?? '',
    ...(config.mode === 'socket'
      ? { socket: { appToken: slack.appToken ?? '', ...(slack.apiUrl ? { apiUrl: slack.apiUrl } : {}) } }
      : {}),
    logger,
    health: async () => {
      const body = await hooks.readNow();
      return { status: body.status === 'stopping' ? 503 : 200, body };
    },
    onRequest: hooks.onRequest,
    bodyLimit: MAX_REQUEST_BODY_BYTES,
    onLateAck: hooks.onLateAck,
    ...(options.formAckTimeoutMs === undefined ? {} : { ackTimeoutMs: options.formAckTimeoutMs }),
  });
}

/** The Bolt app over the front door, or over Bolt's own Socket Mode or verified HTTP receiver. */
function createBoltApp(
  options: SlackAppOptions,
  frontDoor: FrontDoorReceiver | null,
  readNow: ReadHealth,
): App {
  const { config, logger } = options;
  const { slack } = config;
  return new App({
    token: slack.botToken,
    // auth.test runs in start(), where a rejected token can be reported clearly instead of failing later.
    deferInitialization: true,
    ...(frontDoor
      ? { receiver: frontDoor }
      : config.mode === 'socket'
        ? {
            socketMode: true,
            appToken: slack.appToken,
            port: config.port,
            // The socket's own client (apps.connections.open) talks to the same Web API as everything else.
            installerOptions: {
              clientOptions: slack.apiUrl ? { slackApiUrl: slack.apiUrl } : {},
            },
            customRoutes: [healthRoute(readNow)],
          }
        : {
            // Both HTTP receivers verify signature and timestamp and cap the body size (verified-receiver.ts).
            receiver: createVerifiedReceiver({
              signingSecret: slack.signingSecret ?? '',
              port: config.port,
              customRoutes: [healthRoute(readNow)],
              logger: boltLogger(logger, BOLT_LEVELS[config.logLevel]),
            }),
          }),
    logger: boltLogger(logger, BOLT_LEVELS[config.logLevel]),
    clientOptions: {
      ...(slack.apiUrl ? { slackApiUrl: slack.apiUrl } : {}),
      retryConfig: options.retryConfig ?? DEFAULT_RETRY,
      rejectRateLimitedCalls: false,
      timeout: options.requestTimeoutMs ?? 15_000,
    },
  });
}

/** What the listeners are given. */
function slackDeps(options: SlackAppOptions, queue: WorkQueue, home: HomeTab): SlackDeps {
  const { config, logger } = options;
  return {
    router: options.router,
    store: options.store,
    clock: options.clock,
    config,
    logger,
    queue,
    home,
    poster: createPostingClient({
      token: config.slack.botToken ?? '',
      ...(config.slack.apiUrl ? { apiUrl: config.slack.apiUrl } : {}),
      timeoutMs: options.requestTimeoutMs ?? 15_000,
      logger,
    }),
    responses: createResponseUrls({ logger }),
    workingAfterMs: options.workingAfterMs ?? 1000,
  };
}

/** Tells someone, in a direct message, that their form was not saved: its errors missed Slack's deadline. */
async function tellLateFormErrors(
  client: webApi.WebClient,
  logger: Logger,
  body: Record<string, unknown>,
  response: unknown,
): Promise<void> {
  const answer = response as { response_action?: unknown; errors?: unknown } | null;
  const userId = (body.user as { id?: unknown } | undefined)?.id;
  if (answer?.response_action !== 'errors' || typeof userId !== 'string') return;
  try {
    await sendDirectMessage(client, userId, buildLateFormNotice(answer.errors as Record<string, string>));
  } catch (error) {
    logger.error('could not tell someone their form was not saved', { user: userId, error });
  }
}

/** Slack answers and takes both tokens, or start() ends in one line (start-check.ts). */
async function checkSlack(app: App, poster: SlackDeps['poster'], options: SlackAppOptions): Promise<void> {
  const { config, logger } = options;
  const startOptions = {
    apiUrl: config.slack.apiUrl ?? 'https://slack.com/api/',
    logger,
    ...(options.startRetry ? { retry: options.startRetry } : {}),
  };
  await untilSlackAnswers(BOT_TOKEN_CHECK, () => poster.apiCall('auth.test'), startOptions);
  await inOneLine('auth.test', () => app.init());
  if (config.mode !== 'socket') return;
  const appLevel = createPostingClient({ ...startOptions, token: config.slack.appToken ?? '' });
  await untilSlackAnswers(APP_TOKEN_CHECK, () => appLevel.apiCall('apps.connections.open'), startOptions);
}

/**
 * Bolt's HTTP receiver on the main thread, where engine work delays acknowledgements: queued work at least
 * waits while requests are arriving or not yet answered, so a burst is acknowledged first. Connections count
 * before their request is read.
 */
async function listenOnMainThread(
  app: App,
  listen: number | ListenOptions,
  queue: WorkQueue,
): Promise<{ port: number | null }> {
  const server = (await app.start(listen)) as Server;
  let unanswered = 0;
  server.on('connection', () => queue.noteActivity());
  server.on('request', (_req, res) => {
    queue.noteActivity();
    unanswered++;
    res.once('close', () => {
      unanswered--;
    });
  });
  queue.holdWhile(() => unanswered > 0);
  const address = server.address();
  return { port: typeof address === 'object' && address !== null ? address.port : null };
}
