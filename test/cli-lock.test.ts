import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSample } from '../src/sample/load.ts';
import { type FileStore, openStore } from '../src/store/store.ts';
import { entryPoint, run } from './support/processes.ts';

// Issue #13: a CLI command that needs to write while the app runs (here: this process holds the lock) is
// refused before it does any work, with one message saying what to do.

const NOW = '2026-06-01T09:30:00Z';
// The current sources compiled once per run, as test/cli.test.ts runs them (bin/audience.js runs dist/).
const CLI = entryPoint('src/cli.ts');
let dir: string;
let file: string;
let app: FileStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audience-cli-lock-'));
  file = join(dir, 'audience.db');
  app = await openStore({ file });
  await loadSample(app, { profiles: 50, seed: 3, now: new Date(NOW) });
  // The "app" keeps the lock it took with its first save.
});

afterAll(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the CLI while another process writes the data file', () => {
  it('refuses a writing command at once, with one message', async () => {
    const csv = join(dir, 'profiles.csv');
    await writeFile(csv, 'id,country\nnew-person,DE\n');
    const result = await run('node', [...CLI, 'import', 'profiles', csv], {
      env: { DATA_FILE: file, FIXED_NOW: NOW },
    });
    expect(result.code).toBe(1);
    expect(result.stderr.match(/Cannot /g)).toHaveLength(1);
    expect(result.stderr).toContain('nothing was done');
    expect(result.stderr).toContain('stop the other one');
    expect(result.stdout).not.toMatch(/import/i);
    expect(app.data.profiles.some((p) => p.id === 'new-person')).toBe(false);
  });

  it('still answers a command that only reads', async () => {
    const result = await run('node', [...CLI, 'stats'], {
      env: { DATA_FILE: file, FIXED_NOW: NOW },
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Audience at a glance');
  });
});
