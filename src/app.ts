import { registerCommands } from '../commands/index.ts';
import { ConfigError, loadConfig } from './config.ts';
import { runConsole } from './console.ts';
import { createLogger } from './logger.ts';
import type { Clock } from './model/types.ts';
import { ensureAudience } from './sample/load.ts';
import { createSlackApp } from './slack/create-app.ts';
import { openStore, StoreError } from './store/store.ts';

// Entry point: only wiring. Read config, open the store, build the router, then Slack or the local console.
try {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const fixed = config.fixedNow;
  const clock: Clock = fixed ? () => new Date(fixed) : () => new Date();
  const store = await openStore({
    file: config.dataFile,
    flushDelayMs: config.flushDelayMs,
    onFlushError: (error) => logger.error('could not save the data file; will retry', { error }),
  });
  const notice = await ensureAudience(store, { ...config.sample, now: clock() });
  if (notice) logger.info(notice);
  const router = registerCommands({ store, clock, config }, (error, context) =>
    logger.error('command failed', { error, text: context.text, user: context.invocation.userId }),
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: saving data and stopping`);
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
    const app = createSlackApp(config, router, logger);
    await app.start(config.port);
    logger.info(
      `Audience Insights is running (${config.mode === 'socket' ? 'Socket Mode' : `HTTP on port ${config.port}`})`,
    );
  }
} catch (error) {
  if (error instanceof ConfigError || error instanceof StoreError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
