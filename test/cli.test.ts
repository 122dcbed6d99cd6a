import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSample } from '../src/sample/load.ts';
import { openStore } from '../src/store/store.ts';
import { entryPoint, ROOT, run } from './support/processes.ts';

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

// The current sources compiled once per run (entryPoint); tsx and bin/audience.js have their own tests below.
const CLI = entryPoint('src/cli.ts');
const cli = (...args: string[]) => run('node', [...CLI, ...args], { env });
const cliWith = (vars: Record<string, string>, ...args: string[]) =>
  run('node', [...CLI, ...args], { env: { ...env, ...vars } });
const consoleSession = (input: string) => run('node', entryPoint('src/app.ts'), { env, input });

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
    const result = await cliWith({ CURRENCY: 'dollars' }, 'stats');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/CURRENCY: must be a three-letter ISO 4217 code/);
  });
});

describe('the CLI as a new user meets it', () => {
  const fresh = async () => {
    const home = await mkdtemp(join(dir, 'fresh-'));
    return { home, vars: { DATA_FILE: join(home, 'audience.db') } };
  };

  it('prints its version, and answers help without touching the data file', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const version = await cli('--version');
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(pkg.version);
    const { home, vars } = await fresh();
    const help = await cliWith(vars, 'help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('stats: Quick audience stats');
    // No sample generated, no key, no lock: help reads nothing and writes nothing.
    expect(await readdir(home)).toEqual([]);
  });

  it('uses --format for the reply everywhere, and format= for the file of an export', async () => {
    const out = (name: string) => join(dir, 'exports', name);
    const asJson = await cli('export', 'predictions', 'format=json', '--out', out('a'));
    expect(asJson.code).toBe(0);
    expect(Array.isArray(JSON.parse(await readFile(out('a'), 'utf8')))).toBe(true);
    const reply = await cli('export', 'predictions', '--format', 'json', '--out', out('b'));
    expect(reply.code).toBe(0);
    // The reply is printed as JSON (an object, not the text), and the file stays CSV, the default.
    expect(typeof JSON.parse(reply.stdout)).toBe('object');
    expect(await readFile(out('b'), 'utf8')).toMatch(/^[a-z_]+,/);
    const blocks = await cli('export', 'recommendations', '--format', 'blocks', '--out', out('c'));
    expect(blocks.code).toBe(0);
    expect(JSON.parse(blocks.stdout).blocks.length).toBeGreaterThan(0);
  });

  it('gives import advice that works: --from names the file format', async () => {
    const file = join(dir, 'profiles.txt');
    await writeFile(file, 'id,country\nu1,DE\n');
    const refused = await cli('import', 'profiles', file, '--dry-run');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--from csv|json|ndjson');
    const advised = await cli('import', 'profiles', file, '--dry-run', '--from', 'csv');
    expect(advised.code).toBe(0);
    expect(advised.stdout).toContain('Dry run');
  });

  it('fails a dry run with invalid rows, and creates nothing for a store that does not exist', async () => {
    const { home, vars } = await fresh();
    const file = join(dir, 'bad-profiles.csv');
    await writeFile(file, 'id,email,followers\nu1,a@example.com,12\nu2,b@example.com,many\n');
    const dry = await cliWith(vars, 'import', 'profiles', file, '--dry-run');
    expect(dry.code).toBe(2);
    expect(dry.stdout).toContain('Nothing was imported');
    expect(await readdir(home)).toEqual([]);
    const skipping = await cliWith(vars, 'import', 'profiles', file, '--dry-run', '--skip-invalid');
    expect(skipping.code).toBe(0);
    expect(await readdir(home)).toEqual([]);
  });

  it('refuses to replace imported data with the sample unless --replace, and audits the load', async () => {
    const { vars } = await fresh();
    const file = join(dir, 'own-profiles.csv');
    await writeFile(file, 'id,country\nu1,DE\nu2,FR\n');
    expect((await cliWith(vars, 'import', 'profiles', file)).code).toBe(0);
    const refused = await cliWith(vars, 'sample', '--profiles', '50');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('holds imported data (2 profiles');
    expect(refused.stderr).toContain('--replace');
    const replaced = await cliWith(vars, 'sample', '--profiles', '50', '--replace');
    expect(replaced.code).toBe(0);
    expect(replaced.stdout).toContain('Loaded the sample audience');
    const audit = await cliWith(vars, 'audit');
    expect(audit.stdout).toMatch(/sample.*replacing imported data \(2 profiles/);
    // A sample over a sample needs no --replace.
    expect((await cliWith(vars, 'sample', '--profiles', '50')).code).toBe(0);
  });

  it('loads another share of buyers with --buyer-share, and refuses a share outside (0, 1]', async () => {
    const { vars } = await fresh();
    const interactions = (out: string) => Number(/(\d+) interactions/.exec(out)?.[1]);
    const planted = await cliWith(vars, 'sample', '--profiles', '300');
    const busier = await cliWith(vars, 'sample', '--profiles', '300', '--buyer-share', '20%');
    expect(busier.code).toBe(0);
    expect(busier.stdout).toContain('(seed 42, 20% buyers a month): 300 profiles');
    // About 5% buy in a month by default: at 20%, some 270 more buying windows in 26 weeks.
    expect(interactions(busier.stdout)).toBeGreaterThan(interactions(planted.stdout) + 150);
    expect((await cliWith(vars, 'audit')).stdout).toContain('300 profiles, 20% buyers a month');
    // The parser's cases are in test/cli/options.test.ts; here, that a refusal reaches the user.
    const refused = await cliWith(vars, 'sample', '--buyer-share', '1.5');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('expected a share above 0 and at most 1');
  });
});

describe('the TypeScript sources through tsx (npm run cli, npm run dev)', () => {
  it('answer as the compiled sources do', async () => {
    const [fromCli, fromConsole] = await Promise.all([
      run('node', ['--import', 'tsx', 'src/cli.ts', 'stats', '--format', 'json'], { env }),
      run('node', ['--import', 'tsx', 'src/app.ts'], { env, input: '/audience stats\nexit\n' }),
    ]);
    expect(fromCli.code).toBe(0);
    expect(JSON.parse(fromCli.stdout).total).toBe(800);
    expect(fromConsole.code).toBe(0);
    expect(fromConsole.stdout).toMatch(/Audience at a glance\n═+\nAudience +New this week\n800 /);
  });
});

describe('the built CLI', () => {
  // `npm install` builds dist/ (the prepare script); a checkout without a build has nothing to run here.
  const built = existsSync(join(ROOT, 'dist', 'src', 'cli.js'));
  it.skipIf(!built)('runs from dist/ through bin/audience.js', async () => {
    const version = await run('node', ['bin/audience.js', '--version'], { env });
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const help = await run('node', ['bin/audience.js', 'help'], { env });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('stats: Quick audience stats');
  });
});
