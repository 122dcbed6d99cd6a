import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { OperatorError } from './domain/errors.ts';
import { isCurrencyCode } from './domain/format.ts';

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
  /** Whether replies and digests carry chart images (the text is complete without them). */
  charts: boolean;
  /** A digest missed by less than this (the app was down) is still sent, late, with a note; older ones are skipped. */
  digestGraceHours: number;
  /**
   * How long a replica's claim on a digest occurrence lasts without renewal (PostgreSQL): when a replica dies,
   * another delivers its digests after this long. Renewed while the holder lives.
   */
  digestLeaseSeconds: number;
  /** Secret for the keyed pseudonyms of imported identifiers; null: a key file beside the data file is used. */
  pseudonymKey: string | null;
  /** Base64 of 32 bytes: the data file (and its .bak/temp copies) is encrypted with AES-256-GCM when set. */
  dataEncryptionKey: string | null;
  /** Slack user ids that may import, forget, export per-person data and manage anyone's digests. */
  adminUserIds: string[];
  /** Channels where the app answers in Slack; null: everywhere it is invited. */
  allowedChannelIds: string[] | null;
  /** Interactions older than this many days are purged daily; null: kept. */
  retentionDays: number | null;
  /** The Slack workspace this app serves (SLACK_TEAM_ID), or null when not set. */
  slackTeamId: string | null;
  /** PostgreSQL instead of the data file (DATABASE_URL); null: the file store, the default. */
  database: DatabaseConfig | null;
}

/**
 * With DATABASE_URL: the most profiles + interactions the app reads into memory at once (a snapshot, for what
 * the database does not answer itself). About 2M rows keep the app well under 1 GB (README, "Running for a
 * larger team"); above it those commands say what to use instead rather than exhaust the memory.
 */
export const DEFAULT_SNAPSHOT_MAX_ROWS = 2_000_000;

/** Where the PostgreSQL backend keeps the audience, and whose audience it is. */
export interface DatabaseConfig {
  /** The connection URL as given (it may hold a password: never log it, use `location`). */
  url: string;
  /** The URL without credentials, for messages and logs. */
  location: string;
  /** The Slack workspace (team) id every row carries; `local` for the local console. */
  teamId: string;
  /** The most profiles + interactions read into the app at once (SNAPSHOT_MAX_ROWS); null: no limit. */
  snapshotMaxRows: number | null;
}

/** Raised when the environment is invalid; the message lists every problem and how to fix it. */
export class ConfigError extends OperatorError {
  override name = 'ConfigError';
  readonly code = 'config';
}

const optionalText = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();
// Two reasons, said apart: "abc" or "1.5" is not a whole number; 99999 or -1 is one, outside the range.
const int = (fallback: number, min: number, max: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === undefined || v === '' ? String(fallback) : v))
    .refine((v) => /^[+-]?\d+$/.test(v), { error: 'must be a whole number' })
    .transform(Number)
    .refine((n) => n >= min && n <= max, {
      error: `must be from ${min.toLocaleString('en')} to ${max.toLocaleString('en')}`,
    });

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
    .refine(isCurrencyCode, {
      error: 'must be a three-letter ISO 4217 code such as USD, EUR or JPY',
    }),
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
  CHARTS: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v ? v.toLowerCase() : 'on'))
    .pipe(z.enum(['on', 'off'], { error: 'must be on or off' })),
  DIGEST_GRACE_HOURS: int(6, 0, 168),
  DIGEST_LEASE_SECONDS: int(60, 1, 3600),
  SNAPSHOT_MAX_ROWS: int(DEFAULT_SNAPSHOT_MAX_ROWS, 0, 1_000_000_000),
  PSEUDONYM_KEY: optionalText.refine((v) => v === undefined || v.length >= 16, {
    message:
      'must be a secret of at least 16 characters; generate one with `openssl rand -base64 32` (or leave it empty to use the key file beside the data file)',
  }),
  DATA_ENCRYPTION_KEY: optionalText.refine((v) => v === undefined || isBase64Key(v), {
    message:
      'must be 32 random bytes in base64 (44 characters ending in =); generate one with `openssl rand -base64 32`',
  }),
  ADMIN_USER_IDS: idList(/^[UW][A-Z0-9]{2,}$/, 'Slack user ids such as U012AB3CD'),
  ALLOWED_CHANNEL_IDS: idList(/^[CGD][A-Z0-9]{2,}$/, 'Slack channel ids such as C012AB3CD'),
  RETENTION_DAYS: optionalText
    .refine((v) => v === undefined || (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 36_500), {
      message: 'must be a whole number of days from 1 to 36500 (or empty to keep interactions forever)',
    })
    .transform((v) => (v === undefined ? null : Number(v))),
  DATABASE_URL: optionalText.refine((v) => v === undefined || databaseUrlProblem(v) === null, {
    error: (issue) =>
      `${databaseUrlProblem(String(issue.input))}; expected postgres://user:password@host:5432/database (or leave it empty for the data file)`,
  }),
  SLACK_TEAM_ID: optionalText.refine((v) => v === undefined || /^[TE][A-Z0-9]{2,}$/.test(v), {
    message: 'must be a Slack workspace id such as T012AB3CD (Slack: workspace settings, or auth.test)',
  }),
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
    charts: e.CHARTS === 'on',
    digestGraceHours: e.DIGEST_GRACE_HOURS,
    digestLeaseSeconds: e.DIGEST_LEASE_SECONDS,
    pseudonymKey: e.PSEUDONYM_KEY ?? null,
    dataEncryptionKey: e.DATA_ENCRYPTION_KEY ?? null,
    adminUserIds: e.ADMIN_USER_IDS ?? [],
    allowedChannelIds: e.ALLOWED_CHANNEL_IDS ?? null,
    retentionDays: e.RETENTION_DAYS,
    slackTeamId: e.SLACK_TEAM_ID ?? null,
    database: databaseConfig(e.DATABASE_URL, e.SLACK_TEAM_ID, mode, e.PSEUDONYM_KEY, e.SNAPSHOT_MAX_ROWS),
  };
}

/** Every secret value in the configuration, for the logger to redact wherever it appears. */
export function configSecrets(config: AppConfig): string[] {
  return [
    config.slack.botToken,
    config.slack.signingSecret,
    config.slack.appToken,
    config.pseudonymKey,
    config.dataEncryptionKey,
    config.database?.url,
    databasePassword(config.database?.url),
  ].filter((s): s is string => typeof s === 'string' && s !== '');
}

/** Why a DATABASE_URL cannot be used, or null when it can. */
function databaseUrlProblem(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    return `must start with postgres:// (not ${url.protocol}//)`;
  if (url.hostname === '' && !url.searchParams.has('host')) return 'names no host';
  if (url.pathname.replace(/^\//, '') === '') return 'names no database';
  return null;
}

function databasePassword(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const password = decodeURIComponent(new URL(url).password);
  return password === '' ? undefined : password;
}

/**
 * The database settings, when DATABASE_URL is set. Every row carries the workspace id, so a Slack app must say
 * which workspace it serves (SLACK_TEAM_ID): guessing would file the audience under the wrong one later.
 */
function databaseConfig(
  url: string | undefined,
  teamId: string | undefined,
  mode: SlackMode,
  pseudonymKey: string | undefined,
  snapshotMaxRows: number,
): DatabaseConfig | null {
  if (url === undefined) return null;
  if (teamId === undefined && mode !== 'local') {
    throw new ConfigError(
      'DATABASE_URL is set but SLACK_TEAM_ID is not: set it to the id of the Slack workspace this app serves (T012AB3CD; Slack shows it in the workspace settings, or call auth.test), since every row in the database is filed under it.',
    );
  }
  // Replicas share one database: a key file beside each one would give each its own pseudonyms.
  if (pseudonymKey === undefined && mode !== 'local') {
    throw new ConfigError(
      'DATABASE_URL is set but PSEUDONYM_KEY is not: every app replica on the database must pseudonymize with the same key, so set it (at least 16 characters, `openssl rand -base64 32`) from your secret manager.',
    );
  }
  const location = new URL(url);
  location.username = '';
  location.password = '';
  return {
    url,
    location: location.toString(),
    teamId: teamId ?? 'local',
    snapshotMaxRows: snapshotMaxRows === 0 ? null : snapshotMaxRows,
  };
}

function isBase64Key(text: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) return false;
  return Buffer.from(text, 'base64').length === 32;
}

/** A comma-separated list of ids, each matching `pattern`; empty means none. */
function idList(pattern: RegExp, what: string) {
  return optionalText
    .transform((v) =>
      v === undefined
        ? undefined
        : v
            .split(',')
            .map((id) => id.trim())
            .filter((id) => id !== ''),
    )
    .refine((ids) => ids === undefined || ids.every((id) => pattern.test(id)), {
      error: (issue) => {
        const bad = (issue.input as string[] | undefined)?.find((id) => !pattern.test(id)) ?? '';
        return `must be comma-separated ${what}; "${bad}" is not one`;
      },
    })
    .transform((ids) => (ids === undefined || ids.length === 0 ? undefined : ids));
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
