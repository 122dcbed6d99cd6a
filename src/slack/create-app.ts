import { App, LogLevel } from '@slack/bolt';
import type { AppConfig } from '../config.ts';
import { createAudienceCommandListener } from '../listeners/commands/audience.ts';
import type { Logger } from '../logger.ts';
import type { Router } from '../router/router.ts';

/** Builds the Bolt app for HTTP or Socket Mode from configuration and registers the listeners. */
export function createSlackApp(config: AppConfig, router: Router, logger: Logger): App {
  const { slack } = config;
  const app = new App({
    token: slack.botToken,
    ...(config.mode === 'socket'
      ? { socketMode: true, appToken: slack.appToken }
      : { signingSecret: slack.signingSecret, port: config.port }),
    logLevel: config.logLevel === 'debug' ? LogLevel.DEBUG : LogLevel.WARN,
    ...(slack.apiUrl ? { clientOptions: { slackApiUrl: slack.apiUrl } } : {}),
  });
  app.command('/audience', createAudienceCommandListener(router, logger));
  app.error(async (error) => {
    logger.error('unhandled Slack listener error', { error });
  });
  return app;
}
