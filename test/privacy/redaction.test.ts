import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, configSecrets, loadConfig } from '../../src/config.ts';
import { createLogger, redact } from '../../src/logger.ts';

const BOT = 'xoxb-1111-2222-abcdefghijklmnop';
const APP = 'xapp-1-A111-222-abcdef0123';
const SIGNING = 'f3e2d1c0b9a8f3e2d1c0b9a8f3e2d1c0';
const DATA_KEY = randomBytes(32).toString('base64');
const PSEUDONYM = 'my pseudonym secret with spaces';

describe('secrets never reach a log line', () => {
  it('redacts the configured tokens, signing secret and keys wherever they appear', () => {
    const config = loadConfig({
      SLACK_BOT_TOKEN: BOT,
      SLACK_APP_TOKEN: APP,
      SLACK_SIGNING_SECRET: SIGNING,
      DATA_ENCRYPTION_KEY: DATA_KEY,
      PSEUDONYM_KEY: PSEUDONYM,
    });
    const lines: string[] = [];
    const logger = createLogger('debug', (line) => lines.push(line), { secrets: configSecrets(config) });
    logger.info(`token ${BOT} and ${APP}`, { secret: SIGNING, nested: { key: DATA_KEY, p: PSEUDONYM } });
    logger.error('request failed', { error: new Error(`Authorization: Bearer ${BOT}; signing ${SIGNING}`) });
    logger.warn(`quoted "${PSEUDONYM}" and key=${DATA_KEY}`);
    const all = lines.join('\n');
    for (const secret of [BOT, APP, SIGNING, DATA_KEY, PSEUDONYM]) expect(all).not.toContain(secret);
    expect(all).toContain('[redacted]');
  });

  it('redacts tokens and 32-byte keys even without the configuration, and people typed into commands', () => {
    expect(redact(`a ${BOT} b`)).toBe('a [redacted] b');
    expect(redact(`k ${DATA_KEY}`)).toBe('k [redacted]');
    expect(redact('password=hunter2 ok')).toBe('password=[redacted] ok');
    expect(redact('"text":"predict user=@jane_doe"')).toBe('"text":"predict user=@[person]"');
    expect(redact('forget jane@example.com now')).toBe('forget [person] now');
    // Slack's own mentions and package names are not people typed into a command.
    expect(redact('<@U012AB3CD> at node_modules/@slack/bolt')).toBe(
      '<@U012AB3CD> at node_modules/@slack/bolt',
    );
  });
});

describe('privacy configuration', () => {
  it('reads the new variables and explains every bad value', () => {
    const config = loadConfig({
      DATA_ENCRYPTION_KEY: DATA_KEY,
      ADMIN_USER_IDS: 'U012AB3CD,W0ENTERPR',
      ALLOWED_CHANNEL_IDS: 'C012AB3CD, G0PRIVATE',
      RETENTION_DAYS: '90',
    });
    expect(config).toMatchObject({
      dataEncryptionKey: DATA_KEY,
      pseudonymKey: null,
      adminUserIds: ['U012AB3CD', 'W0ENTERPR'],
      allowedChannelIds: ['C012AB3CD', 'G0PRIVATE'],
      retentionDays: 90,
    });
    expect(loadConfig({})).toMatchObject({ adminUserIds: [], allowedChannelIds: null, retentionDays: null });
    try {
      loadConfig({
        DATA_ENCRYPTION_KEY: randomBytes(16).toString('base64'),
        PSEUDONYM_KEY: 'short',
        ADMIN_USER_IDS: '@jane',
        ALLOWED_CHANNEL_IDS: '#general',
        RETENTION_DAYS: '0',
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      expect(message).toMatch(
        /DATA_ENCRYPTION_KEY: must be 32 random bytes in base64.*openssl rand -base64 32/,
      );
      expect(message).toMatch(/PSEUDONYM_KEY: must be a secret of at least 16 characters/);
      expect(message).toMatch(/ADMIN_USER_IDS: must be comma-separated Slack user ids .*"@jane" is not one/);
      expect(message).toMatch(/ALLOWED_CHANNEL_IDS: .*"#general" is not one/);
      expect(message).toMatch(/RETENTION_DAYS: must be a whole number of days/);
      expect(message).not.toContain(DATA_KEY);
    }
  });
});
