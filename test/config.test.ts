import { describe, expect, it } from 'vitest';
import { ConfigError, configSecrets, loadConfig } from '../src/config.ts';

describe('loadConfig', () => {
  it('defaults to local mode with sensible values when no Slack variables are set', () => {
    const c = loadConfig({});
    expect(c.mode).toBe('local');
    expect(c.port).toBe(3000);
    expect(c.currency).toBe('USD');
    expect(c.minCohortSize).toBe(10);
    expect(c.dataFile).toMatch(/var\/audience\.db$/);
    expect(c.fixedNow).toBeNull();
  });

  it('chooses Socket Mode or HTTP from the tokens present', () => {
    expect(loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' }).mode).toBe('socket');
    const http = loadConfig({
      SLACK_BOT_TOKEN: 'xoxb-1',
      SLACK_SIGNING_SECRET: 's',
      SLACK_API_URL: 'http://127.0.0.1:9/api',
    });
    expect(http.mode).toBe('http');
    expect(http.slack.apiUrl).toBe('http://127.0.0.1:9/api/');
  });

  it('fails fast with every problem listed and how to fix it', () => {
    expect(() => loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1' })).toThrow(
      /neither SLACK_APP_TOKEN .* nor SLACK_SIGNING_SECRET/,
    );
    expect(() => loadConfig({ SLACK_SIGNING_SECRET: 's' })).toThrow(/SLACK_BOT_TOKEN is missing/);
    try {
      loadConfig({ PORT: 'eighty', CURRENCY: 'dollars', SLACK_BOT_TOKEN: 'abc' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      expect(message).toMatch(/PORT: must be a whole number/);
      expect(message).toMatch(/CURRENCY: must be a three-letter/);
      expect(message).toMatch(/SLACK_BOT_TOKEN: must be a bot token/);
    }
  });

  it('selects PostgreSQL with DATABASE_URL, and the file store without it', () => {
    expect(loadConfig({}).database).toBeNull();
    const local = loadConfig({ DATABASE_URL: 'postgres://app:s3cret-pass@db.internal:5432/audience' });
    expect(local.database).toEqual({
      url: 'postgres://app:s3cret-pass@db.internal:5432/audience',
      location: 'postgres://db.internal:5432/audience',
      teamId: 'local',
      snapshotMaxRows: 2_000_000,
    });
    // SNAPSHOT_MAX_ROWS: the app's memory budget for a snapshot of the database; 0 lifts it.
    const url = 'postgres://127.0.0.1/test';
    expect(loadConfig({ DATABASE_URL: url, SNAPSHOT_MAX_ROWS: '5000' }).database?.snapshotMaxRows).toBe(5000);
    expect(loadConfig({ DATABASE_URL: url, SNAPSHOT_MAX_ROWS: '0' }).database?.snapshotMaxRows).toBeNull();
    expect(() => loadConfig({ DATABASE_URL: url, SNAPSHOT_MAX_ROWS: 'lots' })).toThrow(/SNAPSHOT_MAX_ROWS/);
    expect(configSecrets(local)).toContain('s3cret-pass');
    const slack = loadConfig({
      SLACK_BOT_TOKEN: 'xoxb-1',
      SLACK_APP_TOKEN: 'xapp-1',
      DATABASE_URL: 'postgresql://127.0.0.1/test',
      SLACK_TEAM_ID: 'T012AB3CD',
      PSEUDONYM_KEY: 'a-shared-secret-of-some-length',
    });
    expect(slack.database?.teamId).toBe('T012AB3CD');
  });

  it('refuses a DATABASE_URL it cannot use, and a Slack app without its workspace id', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://h/db' })).toThrow(
      /DATABASE_URL: must start with postgres:\/\//,
    );
    expect(() => loadConfig({ DATABASE_URL: 'postgres://h' })).toThrow(/DATABASE_URL: names no database/);
    expect(() => loadConfig({ DATABASE_URL: 'not a url' })).toThrow(/DATABASE_URL: is not a URL/);
    expect(() =>
      loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1', DATABASE_URL: 'postgres://h/db' }),
    ).toThrow(/SLACK_TEAM_ID is not/);
    expect(() =>
      loadConfig({
        SLACK_BOT_TOKEN: 'xoxb-1',
        SLACK_APP_TOKEN: 'xapp-1',
        DATABASE_URL: 'postgres://h/db',
        SLACK_TEAM_ID: 'T012AB3CD',
      }),
    ).toThrow(/PSEUDONYM_KEY is not: every app replica/);
    expect(() => loadConfig({ SLACK_TEAM_ID: 'workspace' })).toThrow(
      /SLACK_TEAM_ID: must be a Slack workspace id/,
    );
  });
});

describe('loadConfig ranges and currencies', () => {
  const problem = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (error) {
      return (error as Error).message;
    }
    return 'accepted';
  };

  it('says a whole number out of range is out of range, not that it is no whole number', () => {
    expect(problem({ PORT: '99999' })).toMatch(/PORT: must be from 1 to 65,535/);
    expect(problem({ FLUSH_DELAY_MS: '-1' })).toMatch(/FLUSH_DELAY_MS: must be from 0 to 60,000/);
    expect(problem({ PORT: '1.5' })).toMatch(/PORT: must be a whole number/);
  });

  it('takes only ISO 4217 currency codes', () => {
    expect(problem({ CURRENCY: 'XYZ' })).toMatch(/CURRENCY: must be a three-letter ISO 4217/);
    expect(loadConfig({ CURRENCY: 'jpy' }).currency).toBe('JPY');
    expect(loadConfig({ CURRENCY: 'CHF' }).currency).toBe('CHF');
  });
});
