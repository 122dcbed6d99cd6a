import { registerCommands } from '../commands/index.ts';
import { buildConnectorNotice } from './blocks/connections-message.ts';
import { renderChart } from './charts/render.ts';
import { configSecrets, loadConfig } from './config.ts';
import { createConnectorSchedule } from './connectors/schedule.ts';
import { connectorDeps } from './connectors/service.ts';
import { runConsole } from './console.ts';
import { createConsoleTransport } from './digest/deliver.ts';
import { createDigestScheduler } from './digest/scheduler.ts';
import { UserError } from './domain/errors.ts';
import type { Clock } from './domain/types.ts';
import { createLogger } from './logger.ts';
import { pseudonymizerFor } from './privacy/pseudonym.ts';
import { startRetention } from './privacy/retention.ts';
import { ensureAudience } from './sample/load.ts';
import { createSlackApp, type SlackApp } from './slack/create-app.ts';
import { createSlackTransport } from './slack/digest-transport.ts';
import { parseDataKey } from './store/encryption.ts';
import { openBackend } from './store/open-backend.ts';

// Entry point: only wiring. Read config, open the store, build the router, then Slack or the local console.
try {
  const config = loadConfig();
  // Tokens, the signing secret and the keys are redacted from every log line, wherever they appear.
  const logger = createLogger(config.logLevel, undefined, { secrets: configSecrets(config) });
  const fixed = config.fixedNow;
  const clock: Clock = fixed ? () => new Date(fixed) : () => new Date();
  // DATABASE_URL: PostgreSQL (migrated at start, shared by any number of replicas); otherwise the data file.
  const store = await openBackend({
    database: config.database,
    file: {
      file: config.dataFile,
      flushDelayMs: config.flushDelayMs,
      onFlushError: (error) => logger.error('could not save the data file; will retry', { error }),
      // DATA_ENCRYPTION_KEY: the file, its .bak and temp copies are encrypted; a wrong key stops here.
      encryption: { key: config.dataEncryptionKey ? parseDataKey(config.dataEncryptionKey) : null },
    },
    onNotice: (message) => logger.info(message),
  });
  // The pseudonym key exists before the first import or lookup (generated beside the data file if not set).
  pseudonymizerFor(config, (message) => logger.info(message));
  const notice = await ensureAudience(store, { ...config.sample, now: clock() });
  if (notice) logger.info(notice);
  // RETENTION_DAYS: expired interactions are purged now and daily.
  const retention = startRetention({ store, config, clock, logger });
  // Digests: posted to Slack, or printed in local mode. On the data file, starting the scheduler takes the
  // file's lock, so a second app on the same file stops here with a clear message instead of sending digests
  // twice; on PostgreSQL every replica runs it and each occurrence is claimed in the database first.
  const transport =
    config.mode === 'local'
      ? createConsoleTransport(process.stdout)
      : createSlackTransport({ token: config.slack.botToken ?? '', apiUrl: config.slack.apiUrl, logger });
  const digests = createDigestScheduler({
    store,
    clock,
    logger,
    config,
    leaseMs: config.digestLeaseSeconds * 1000,
    transport,
    ...(config.charts ? { renderChart: (spec) => renderChart(spec, { logger }) } : {}),
  });
  await digests.start();
  // Platform connections sync on their schedule (default hourly), one at a time; a paused one's owner hears
  // why by direct message (a connection made from the CLI has no Slack owner: the log says it).
  const connectors = createConnectorSchedule({
    deps: connectorDeps({
      store,
      config,
      clock,
      logger,
      notify: async (record, message) => {
        if (record.owner_id === 'cli') logger.warn(message);
        else await transport.notifyUser(record.owner_id, buildConnectorNotice(message));
      },
    }),
    logger,
  });
  connectors.start();
  const router = registerCommands({ store, clock, config, digests }, (error, context) =>
    logger.error('command failed', { error, text: context.text, user: context.invocation.userId }),
  );

  let stopping = false;
  let slackApp: SlackApp | null = null;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: saving data and stopping`);
    // Stop taking Slack requests and let queued answers go out before the final save.
    await slackApp?.stop();
    await digests.stop();
    await connectors.stop();
    retention.stop();
    await store.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  if (config.mode === 'local') {
    await runConsole(router, {
      input: process.stdin,
      output: process.stdout,
      prompt: process.stdin.isTTY ?? false,
      banner:
        'Audience Insights, local mode (no Slack tokens set). Type /audience help, /audience stats, … ; exit to quit.',
    });
    await shutdown('end of input');
  } else {
    slackApp = createSlackApp({ config, router, store, clock, logger });
    await slackApp.start(config.port);
    logger.info(
      `Audience Insights is running (${config.mode === 'socket' ? 'Socket Mode' : `HTTP on port ${config.port}`})`,
    );
  }
} catch (error) {
  if (error instanceof UserError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
