import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

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
