import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSample } from '../src/sample/load.ts';
import { openStore } from '../src/store/store.ts';
import { run } from './support/processes.ts';

const NOW = '2026-06-01T09:30:00Z';
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audience-cli-'));
  const file = join(dir, 'audience.db');
  const store = await openStore({ file });
  await loadSample(store, { profiles: 800, seed: 3, now: new Date(NOW) });
  await store.close();
  env = { DATA_FILE: file, FIXED_NOW: NOW };
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => run('node', ['bin/audience.js', ...args], { env });
const consoleSession = (input: string) => run('node', ['--import', 'tsx', 'src/app.ts'], { env, input });

describe('the CLI and the local console', () => {
  it('print the same reply for the same command', async () => {
    const [fromCli, fromConsole] = await Promise.all([
      cli('stats', 'where=country:DE'),
      consoleSession('/audience stats where=country:DE\nexit\n'),
    ]);
    expect(fromCli.code).toBe(0);
    expect(fromCli.stdout).toContain('Audience at a glance: country:DE');
    expect(fromCli.stdout).toContain('Top countries: DE 100%');
    expect(fromConsole.code).toBe(0);
    // The console adds its banner and a blank line between replies; the reply itself is identical.
    expect(fromConsole.stdout).toContain(fromCli.stdout.trimEnd());
    expect(fromConsole.stdout).toMatch(/local mode \(no Slack tokens set\)/);
  });

  it('answers help in both front doors and suggests the closest subcommand for a typo', async () => {
    const help = await cli('help');
    expect(help.stdout).toContain('stats: Quick audience stats');
    const typo = await cli('statz');
    expect(typo.code).toBe(2);
    expect(typo.stdout).toContain('Unknown subcommand "statz". Did you mean /audience stats?');
    const fromConsole = await consoleSession('statz\n');
    expect(fromConsole.stdout).toContain(typo.stdout.trimEnd());
  });

  it('prints the machine-readable result and the exact Slack payload', async () => {
    const json = JSON.parse((await cli('stats', '--format', 'json')).stdout);
    expect(json.total).toBe(800);
    expect(json.asOf).toBe(Date.parse(NOW));
    const blocks = JSON.parse((await cli('stats', '--format', 'blocks')).stdout);
    expect(blocks.text).toMatch(/^Audience at a glance: 800 profiles/);
    expect(blocks.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: 'Audience at a glance', emoji: true },
    });
  });

  it('refuses a malformed option with a reason and a non-zero exit', async () => {
    const bad = await cli('stats', 'where=colour:red');
    expect(bad.code).toBe(2);
    expect(bad.stdout).toContain('unknown filter field "colour"');
    const badFormat = await cli('stats', '--format', 'xml');
    expect(badFormat.code).not.toBe(0);
    expect(badFormat.stderr).toMatch(/Allowed choices are text, json, blocks/);
  });

  it('stops at start with a clear message on invalid configuration', async () => {
    const result = await run('node', ['bin/audience.js', 'stats'], { env: { ...env, CURRENCY: 'dollars' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/CURRENCY: must be a three-letter ISO 4217 code/);
  });
});
