import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCommands } from '../../commands/index.ts';
import { parseCommand } from '../../commands/parse.ts';
import type { Router } from '../../commands/router.ts';
import type { AppConfig } from '../../src/config.ts';
import { UsageError } from '../../src/domain/errors.ts';
import type { Invocation } from '../../src/domain/reply.ts';
import { ImportError, importFile } from '../../src/import/importer.ts';
import { pseudonymizerFor } from '../../src/privacy/pseudonym.ts';
import { readDataFile } from '../../src/store/codec.ts';
import type { Store } from '../../src/store/store.ts';
import { NOW, sampleStore, tempDir, testConfig } from './helpers.ts';

// Bounded runs with a fixed seed: reproducible, and well under the suite's time budget.
const RUNS = { numRuns: 200, seed: 20260601 };
const text = fc.string({ unit: 'binary', maxLength: 40 });

let cleanup: () => Promise<void>;
let inputs: { dir: string; cleanup: () => Promise<void> };
let config: AppConfig;
let store: Store;
let router: Router;
const unexpected: unknown[] = [];

beforeAll(async () => {
  const temp = await tempDir('audience-fuzz-');
  cleanup = temp.cleanup;
  inputs = await tempDir('audience-fuzz-inputs-');
  config = testConfig(temp.dir, { ADMIN_USER_IDS: 'U0ADMIN01' });
  store = await sampleStore(config, { profiles: 250, seed: 5 });
  router = registerCommands({ store, clock: () => NOW, config }, (error) => unexpected.push(error));
});

afterAll(async () => {
  await store.close();
  await cleanup();
  await inputs.cleanup();
});

describe('the command parser and router under random input', () => {
  it('parseCommand returns a parse or throws a one-line UsageError, for any text', () => {
    fc.assert(
      fc.property(fc.oneof(text, fc.string({ unit: 'grapheme', maxLength: 60 })), (line) => {
        try {
          const parsed = parseCommand(line);
          expect(typeof parsed.subcommand).toBe('string');
          expect(Array.isArray(parsed.positional)).toBe(true);
          for (const [k, v] of Object.entries(parsed.options)) {
            expect(k).toMatch(/^[a-z][\w-]*$/);
            expect(typeof v).toBe('string');
          }
        } catch (error) {
          expect(error).toBeInstanceOf(UsageError);
          expect((error as Error).message).not.toContain('\n');
        }
      }),
      { numRuns: 1000, seed: RUNS.seed },
    );
  });

  it('router.dispatch answers every line with a reply, never a crash or an internal error', async () => {
    const sub = fc.constantFrom(
      'stats',
      'segments',
      'predict',
      'recommend',
      'export',
      'forget',
      'import',
      'help',
      'digest',
      'bogus',
      '/audience',
      '',
    );
    const value = fc.oneof(
      text,
      fc.constantFrom(
        'auto',
        '0',
        '-1',
        '1e9',
        'NaN',
        'country:DE',
        'age<30',
        '@jane',
        'u000001',
        'ps_aaaaaaaaaaaaaaaaaaaaaaaaaa',
      ),
      fc.constantFrom(
        '"',
        '“x y”',
        'x@y.z',
        'spend_next_30d',
        'monetary,frequency',
        'add',
        'list',
        'segments',
      ),
    );
    const key = fc.constantFrom(
      'k',
      'where',
      'user',
      'segment',
      'n',
      'features',
      'target',
      'format',
      'seed',
      'page',
      'x',
    );
    const word = fc.oneof(
      fc.tuple(key, value).map(([k, v]) => `${k}=${v}`),
      value,
    );
    const random = fc.tuple(sub, fc.array(word, { maxLength: 4 })).map(([s, rest]) => [s, ...rest].join(' '));
    // Valid lines with a random word added, so the engines behind the commands run too, not only the checks.
    const valid = fc.constantFrom(
      'stats',
      'stats where=country:DE',
      'segments k=3',
      'segments page=2',
      'predict',
      'predict segment=1',
      'predict user=u000001',
      'recommend segment=1',
      'recommend user=u000002 n=3',
      'recommend user=@nobody',
      'export segments',
      'forget u000249',
      'help predict',
    );
    const line = fc.oneof(
      random,
      valid,
      fc.tuple(valid, word).map(([v, w]) => `${v} ${w}`),
    );
    const who = fc.constantFrom<Invocation>(
      { userId: 'U0MEMBER1', channelId: 'C0001', surface: 'slack' },
      { userId: 'U0MEMBER1', channelId: 'C0001', surface: 'slack', audience: 'channel' },
      { userId: 'U0ADMIN01', channelId: 'C0001', surface: 'slack' },
      { userId: 'local-user', channelId: null, surface: 'console' },
    );
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(line, who, async (input, invocation) => {
        const reply = await router.dispatch(input, invocation);
        if (!(typeof reply.data === 'object' && reply.data !== null && 'error' in reply.data)) answered++;
        expect(typeof reply.text).toBe('string');
        expect(reply.text.length).toBeGreaterThan(0);
        expect(Array.isArray(reply.blocks)).toBe(true);
        expect(unexpected).toEqual([]);
      }),
      RUNS,
    );
    expect(answered).toBeGreaterThan(20);
  });
});

describe('the importer under random CSV bytes', () => {
  it('either applies a file fully or leaves the data file byte-identical, with a clear error', async () => {
    const cell = fc.oneof(
      fc.constantFrom('', 'u000001', 'u900001', '@jane', 'jane@example.com', '12', '-3', '1e3', '12k'),
      fc.constantFrom(
        '2024-01-01',
        'yes',
        'a|b',
        '"',
        '""',
        ',',
        '\n',
        '\r\n',
        'é',
        '\u0000',
        '=cmd()',
        'null',
      ),
      fc.string({ unit: 'binary', maxLength: 8 }),
    );
    const column = fc.constantFrom(
      'id',
      'user_id',
      'platform',
      'country',
      'followers',
      'created_at',
      'interests',
      'handle',
      'Email',
      'Full Name',
      'age',
      'x y',
      '',
    );
    const csv = fc
      .tuple(
        fc.array(column, { minLength: 1, maxLength: 6 }),
        fc.array(fc.array(cell, { maxLength: 7 }), { maxLength: 6 }),
      )
      .map(([header, rows]) => Buffer.from([header.join(','), ...rows.map((r) => r.join(','))].join('\n')));
    const bytes = fc.oneof(
      csv,
      fc.uint8Array({ maxLength: 160 }).map((a) => Buffer.from(a)),
    );
    const input = path.join(inputs.dir, 'fuzz.csv');
    let applied = 0;
    let refused = 0;

    await fc.assert(
      fc.asyncProperty(bytes, fc.boolean(), async (content, skipInvalid) => {
        await writeFile(input, content);
        await store.flush();
        const before = await readFile(store.file);
        const version = store.data.meta.dataVersion;
        const count = store.data.profiles.length;
        let report: Awaited<ReturnType<typeof importFile>> | null = null;
        try {
          report = await importFile(store, {
            kind: 'profiles',
            file: input,
            now: NOW,
            skipInvalid,
            pii: { pseudonymizer: pseudonymizerFor(config) },
          });
        } catch (error) {
          if (!(error instanceof ImportError)) throw error;
          expect(error.message.length).toBeGreaterThan(0);
        }
        await store.flush();
        const after = await readFile(store.file);
        if (report?.applied) {
          applied++;
          expect(store.data.meta.dataVersion).toBe(version + 1);
          expect(store.data.profiles.length).toBe(count + report.inserted);
          // What is on disk is the whole change: it decodes to exactly what is in memory.
          const onDisk = await readDataFile(store.file);
          expect((onDisk.data.profiles as unknown[]).length).toBe(store.data.profiles.length);
          expect(onDisk.data.meta).toEqual(store.data.meta);
        } else {
          refused++;
          expect(after.equals(before)).toBe(true);
          expect(store.data.meta.dataVersion).toBe(version);
          expect(store.data.profiles.length).toBe(count);
        }
      }),
      RUNS,
    );
    // Both paths were exercised.
    expect(applied).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });
});
