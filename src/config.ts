import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

/** How the app talks to Slack: HTTP events, Socket Mode, or not at all (local console on the sample). */
export type SlackMode = 'http' | 'socket' | 'local';

/** Validated configuration; the only place that reads process.env. */
export interface AppConfig {
  mode: SlackMode;
  slack: { botToken?: string; signingSecret?: string; appToken?: string; apiUrl?: string };
  port: number;
  dataFile: string;
  currency: string;
  minCohortSize: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Pins "now" for reproducible demos and tests; the real clock otherwise. */
  fixedNow: Date | null;
  sample: { profiles: number; seed: number };
  flushDelayMs: number;
}

/** Raised when the environment is invalid; the message lists every problem and how to fix it. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const optionalText = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();
const int = (fallback: number, min: number, max: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === undefined || v === '' ? String(fallback) : v))
    .transform(Number)
    .pipe(z.number({ error: 'must be a whole number' }).int().min(min).max(max));

const schema = z.object({
  SLACK_BOT_TOKEN: optionalText.refine((v) => v === undefined || v.startsWith('xoxb-'), {
    message: 'must be a bot token starting with xoxb- (OAuth & Permissions page of your Slack app)',
  }),
  SLACK_SIGNING_SECRET: optionalText,
  SLACK_APP_TOKEN: optionalText.refine((v) => v === undefined || v.startsWith('xapp-'), {
    message:
      'must be an app-level token starting with xapp- (Basic Information > App-Level Tokens, scope connections:write)',
  }),
  SLACK_API_URL: optionalText.refine((v) => v === undefined || /^https?:\/\//.test(v), {
    message: 'must be an http(s) URL such as https://slack.com/api/',
  }),
  PORT: int(3000, 1, 65535),
  DATA_FILE: z.string().trim().optional(),
  CURRENCY: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v ? v.toUpperCase() : 'USD'))
    .pipe(z.string().regex(/^[A-Z]{3}$/, 'must be a three-letter ISO 4217 code such as USD or EUR')),
  MIN_COHORT_SIZE: int(10, 1, 1000),
  LOG_LEVEL: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v ? v.toLowerCase() : 'info'))
    .pipe(z.enum(['debug', 'info', 'warn', 'error'])),
  FIXED_NOW: optionalText.refine((v) => v === undefined || !Number.isNaN(Date.parse(v)), {
    message: 'must be an ISO-8601 date-time such as 2026-06-01T09:00:00Z',
  }),
  SAMPLE_PROFILES: int(5000, 10, 2_000_000),
  SAMPLE_SEED: int(42, 0, 2 ** 31 - 1),
  FLUSH_DELAY_MS: int(250, 0, 60_000),
});

/** Reads and validates the environment (and `.env` in the working directory, if present); throws ConfigError. */
export function loadConfig(env: NodeJS.ProcessEnv = readEnv()): AppConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(
      `Invalid configuration:\n${problems.join('\n')}\nSee .env.sample for every variable.`,
    );
  }
  const e = parsed.data;
  const mode = slackMode(e.SLACK_BOT_TOKEN, e.SLACK_SIGNING_SECRET, e.SLACK_APP_TOKEN);
  return {
    mode,
    slack: {
      ...(e.SLACK_BOT_TOKEN ? { botToken: e.SLACK_BOT_TOKEN } : {}),
      ...(e.SLACK_SIGNING_SECRET ? { signingSecret: e.SLACK_SIGNING_SECRET } : {}),
      ...(e.SLACK_APP_TOKEN ? { appToken: e.SLACK_APP_TOKEN } : {}),
      ...(e.SLACK_API_URL
        ? { apiUrl: e.SLACK_API_URL.endsWith('/') ? e.SLACK_API_URL : `${e.SLACK_API_URL}/` }
        : {}),
    },
    port: e.PORT,
    dataFile: resolve(e.DATA_FILE || 'var/audience.db'),
    currency: e.CURRENCY,
    minCohortSize: e.MIN_COHORT_SIZE,
    logLevel: e.LOG_LEVEL,
    fixedNow: e.FIXED_NOW ? new Date(e.FIXED_NOW) : null,
    sample: { profiles: e.SAMPLE_PROFILES, seed: e.SAMPLE_SEED },
    flushDelayMs: e.FLUSH_DELAY_MS,
  };
}

function slackMode(bot?: string, secret?: string, appToken?: string): SlackMode {
  if (!bot && !secret && !appToken) return 'local';
  if (!bot) {
    throw new ConfigError(
      'SLACK_BOT_TOKEN is missing: set it (xoxb-…) together with SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP), or unset all Slack variables to run the local console.',
    );
  }
  if (appToken) return 'socket';
  if (secret) return 'http';
  throw new ConfigError(
    'SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (HTTP mode) is: set one of them.',
  );
}

function readEnv(): NodeJS.ProcessEnv {
  // A local .env is a convenience for development; real deployments set the environment directly.
  if (existsSync('.env')) process.loadEnvFile('.env');
  return process.env;
}
