/**
 * `audience migrate` through the CLI's entry point: a data file into PostgreSQL and back, verified by row counts
 * and checksums, refusing to overwrite without --replace; and the CLI on DATABASE_URL answering like the file.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadSample } from '../../src/sample/load.ts';
import { openStore } from '../../src/store/store.ts';
import { describePostgres, usePostgresSchema } from '../support/postgres.ts';
import { entryPoint, run } from '../support/processes.ts';

const NOW = '2026-06-01T09:30:00Z';
const CLI = entryPoint('src/cli.ts');

describePostgres('audience migrate', () => {
  const db = usePostgresSchema('cli_migrate');
  let dir: string;
  let file: string;
  let url: string;
  const cli = (env: Record<string, string>, ...args: string[]) =>
    run('node', [...CLI, ...args], { env: { FIXED_NOW: NOW, ...env }, timeoutMs: 120_000 });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'audience-migrate-'));
    file = join(dir, 'audience.db');
    const store = await openStore({ file, onNotice: () => undefined });
    await loadSample(store, { profiles: 400, seed: 3, now: new Date(NOW) });
    await store.close();
    url = `${db.url}?options=${encodeURIComponent(`-c search_path=${db.schema}`)}`;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('copies the data file into PostgreSQL and back, verified, and refuses to overwrite without --replace', async () => {
    const into = await cli({ DATA_FILE: file }, 'migrate', '--to', url);
    expect(into.stderr).not.toMatch(/Error/);
    expect(into.code).toBe(0);
    expect(into.stdout).toMatch(
      /Copied .*audience\.db into postgres:\/\/127\.0\.0\.1:5432\/test.* verified:/,
    );
    expect(into.stdout).toMatch(/profiles\s+400 rows\s+sha256 [0-9a-f]{16}/);
    const sums = (out: string) => out.split('\n').filter((l) => / rows {2}sha256 /.test(l));
    expect(sums(into.stdout)).toHaveLength(11);

    const again = await cli({ DATA_FILE: file }, 'migrate', '--to', url);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(
      /already holds an audience; nothing was copied\. Pass --replace to overwrite it\./,
    );
    const replaced = await cli({ DATA_FILE: file }, 'migrate', '--to', url, '--replace');
    expect(replaced.code).toBe(0);
    expect(replaced.stdout).toMatch(/replacing what it held; verified/);

    const back = join(dir, 'back.db');
    const out = await cli({ DATA_FILE: file }, 'migrate', '--from', url, '--to', back);
    expect(out.code).toBe(0);
    // The same rows, by count and checksum, in both directions.
    expect(sums(out.stdout)).toEqual(sums(into.stdout));
    const refused = await cli({ DATA_FILE: file }, 'migrate', '--from', url, '--to', back);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/back\.db already holds an audience/);

    // The CLI on the database answers as on the file.
    const [onFile, onDatabase] = await Promise.all([
      cli({ DATA_FILE: file }, 'stats'),
      cli({ DATA_FILE: join(dir, 'unused.db'), DATABASE_URL: url }, 'stats'),
    ]);
    expect(onDatabase.code).toBe(0);
    expect(onDatabase.stdout).toBe(onFile.stdout);
  }, 300_000);

  it('says what to give when a side is missing or both are files', async () => {
    const none = await cli({ DATA_FILE: file }, 'migrate');
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/say where to copy the audience: `audience migrate --to postgres:/);
    const files = await cli({ DATA_FILE: file }, 'migrate', '--to', join(dir, 'other.db'));
    expect(files.code).toBe(1);
    expect(files.stderr).toMatch(/one side of a migration must be PostgreSQL and the other a data file/);
  });
});
