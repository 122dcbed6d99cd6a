/**
 * The connector commands through the real CLI entry point (a child process per command) against the Graph API
 * stand-in: connect (refused without a data key; a bad token refused with the platform's reason; never echoing
 * it), sync with and without --dry-run, connections, and a clear message for an unknown connection.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataKey } from '../../src/store/encryption.ts';
import { entryPoint, run } from '../support/processes.ts';
import { type GraphStandIn, startGraphStandIn } from '../support/stand-ins/instagram-stand-in.ts';

let dir: string;
let graph: GraphStandIn;
let env: Record<string, string>;
let tokenFile: string;

const cli = (args: string[], extra: Record<string, string> = {}) =>
  run('node', [...entryPoint('src/cli.ts'), ...args], { env: { ...env, ...extra } });

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cli-connectors-'));
  graph = await startGraphStandIn();
  env = {
    DATA_FILE: path.join(dir, 'audience.db'),
    DATA_ENCRYPTION_KEY: generateDataKey(),
    PSEUDONYM_KEY: 'cli-test-pseudonym-key-0123456789',
    FIXED_NOW: new Date(graph.fixtures.now).toISOString(),
    LOG_LEVEL: 'error',
  };
  tokenFile = path.join(dir, 'token');
  await writeFile(tokenFile, `${graph.fixtures.token}\n`);
});
afterAll(async () => {
  await graph.close();
  await rm(dir, { recursive: true, force: true });
});

const connectArgs = (name: string, file: string) => [
  'connect',
  'instagram',
  '--name',
  name,
  '--ig-user',
  graph.fixtures.igUser.id,
  '--token-file',
  file,
  '--base-url',
  graph.baseUrl,
];

describe('audience connect / sync / connections', () => {
  it('refuses to store a token without a data key, saying how to make one', async () => {
    const res = await cli(connectArgs('brand-ig', tokenFile), { DATA_ENCRYPTION_KEY: '' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('DATA_ENCRYPTION_KEY is not set');
    expect(res.stderr).toContain('openssl rand -base64 32');
  });

  it('refuses a token the platform rejects, with its reason and without the token', async () => {
    const bad = path.join(dir, 'bad-token');
    await writeFile(bad, 'EAAB-not-a-valid-token-123');
    const res = await cli(connectArgs('brand-ig', bad));
    expect(res.code).toBe(1);
    expect(res.stderr + res.stdout).not.toContain('EAAB-not-a-valid-token-123');
    expect((await cli(['connections'])).stdout).toContain('No platform is connected');
  });

  it('connects, syncs (dry run first) and lists the connection; the token is stored sealed', async () => {
    const connected = await cli(connectArgs('brand-ig', tokenFile));
    expect(connected.stderr).toBe('');
    expect(connected.stdout).toContain('Connected instagram as "brand-ig" (account Marketing Admin');
    expect(connected.stdout).not.toContain(graph.fixtures.token);

    const dry = await cli(['sync', 'brand-ig', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^brand-ig \(dry run, nothing written\): would add [\d,]+ new people/);
    expect((await cli(['connections'])).stdout).toContain('brand-ig (instagram): not synced yet');

    const sync = await cli(['sync']);
    expect(sync.code).toBe(0);
    const added = /brand-ig: ([\d,]+) new people, ([\d,]+) new items, ([\d,]+) new events/.exec(sync.stdout);
    expect(added?.slice(1)).toEqual(
      /would add ([\d,]+) new people, ([\d,]+) new items, ([\d,]+) new events/.exec(dry.stdout)?.slice(1),
    );

    const again = await cli(['sync', 'brand-ig']);
    expect(again.stdout).toContain('brand-ig: 0 new people, 0 new items, 0 new events');
    const list = await cli(['connections']);
    expect(list.stdout).toMatch(
      /brand-ig \(instagram\): ok\n {2}last sync .*, 0 rows added \([\d,]+ in all\), next run /,
    );

    const onDisk = await readFile(env.DATA_FILE as string);
    expect(onDisk.includes(Buffer.from(graph.fixtures.token))).toBe(false);
  }, 60_000);

  it('names the connections there are when asked for an unknown one', async () => {
    const res = await cli(['sync', 'nope']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('there is no connection named "nope"; connections: brand-ig');
  });
});
