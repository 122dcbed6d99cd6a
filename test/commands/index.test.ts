import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCommands } from '../../commands/index.ts';
import type { Router } from '../../commands/router.ts';
import type { AppConfig } from '../../src/config.ts';
import type { Invocation, Reply } from '../../src/domain/reply.ts';
import type { Store } from '../../src/store/store.ts';
import { NOW, sampleStore, tempDir, testConfig } from '../privacy/helpers.ts';

const CONSOLE: Invocation = { userId: 'local-user', channelId: null, surface: 'console' };
const ROOT = path.resolve(import.meta.dirname, '../..');

let cleanup: () => Promise<void>;
let config: AppConfig;
let store: Store;
let router: Router;
const unexpected: unknown[] = [];

beforeAll(async () => {
  const temp = await tempDir('audience-commands-');
  cleanup = temp.cleanup;
  config = testConfig(temp.dir);
  store = await sampleStore(config, { profiles: 600, seed: 42 });
  router = registerCommands({ store, clock: () => NOW, config }, (error) => unexpected.push(error));
});

afterAll(async () => {
  await store.close();
  await cleanup();
});

function errorOf(reply: Reply): unknown {
  return typeof reply.data === 'object' && reply.data !== null && 'error' in reply.data
    ? (reply.data as { error: unknown }).error
    : undefined;
}

/** Every `/audience …` example written in the README and the docs (placeholders left out). */
function documentedExamples(): string[] {
  const found = new Set<string>();
  for (const file of ['README.md', 'docs/EXAMPLES.md', 'docs/PRIVACY.md']) {
    const text = readFileSync(path.join(ROOT, file), 'utf8');
    for (const match of text.matchAll(/`(\/audience [^`]+)`/g)) {
      const example = match[1] as string;
      // Placeholders (`<id>`, `…`) and a bare subcommand named in prose are not examples to run.
      if (!/[<…|]/.test(example) && example.trim().includes(' ', '/audience '.length)) found.add(example);
    }
  }
  return [...found];
}

describe('every documented example', () => {
  it('answers without an error: the help, the README and the docs', async () => {
    const fromHelp = router.commands.flatMap((c) => c.examples);
    const examples = [...new Set([...fromHelp, ...documentedExamples()])];
    // Forgetting comes last: the other examples name the people it removes.
    examples.sort(
      (a, b) => Number(a.startsWith('/audience forget')) - Number(b.startsWith('/audience forget')),
    );
    expect(examples).toContain('/audience predict user=u000042');
    const failed: string[] = [];
    for (const example of examples) {
      const reply = await router.dispatch(example, CONSOLE);
      const error = errorOf(reply);
      // Lookups by handle need imported handles, which the sample has none of: they must answer "no profile".
      if (/@jane/.test(example)) expect(String(error), example).toMatch(/^no profile has that handle/);
      else if (error !== undefined) failed.push(`${example}: ${String(error)}`);
    }
    expect(failed).toEqual([]);
    expect(unexpected).toEqual([]);
  });
});

describe('names typed by people', () => {
  it('are never looked up among the members every object inherits', async () => {
    for (const line of [
      'predict target=__proto__',
      'predict target=constructor',
      'predict target=toString',
      'stats where=constructor>1',
      'stats where=__proto__:x',
      'segments features=constructor',
      'predict features=hasOwnProperty',
    ]) {
      const reply = await router.dispatch(line, CONSOLE);
      expect(errorOf(reply), line).toMatch(/unknown|not/);
      expect(reply.text, line).not.toMatch(/\[object Object\]|native code|function/);
    }
    // Option names too: `constructor=` is an unknown option, not one "given twice".
    const option = await router.dispatch('stats constructor=1', CONSOLE);
    expect(errorOf(option)).toMatch(/stats does not take constructor=/);
    expect(unexpected).toEqual([]);
  });
});

describe('help', () => {
  it('defines every stats figure, the engagement rate by reach', async () => {
    const reply = await router.dispatch('help stats', CONSOLE);
    const text = JSON.stringify(reply.blocks);
    for (const figure of [
      'Audience:',
      'Active, last 7 / 30 days',
      'Purchasers, 30 days',
      'Revenue per user',
    ]) {
      expect(text).toContain(figure);
    }
    expect(text).toMatch(/Engagement rate, 30 days: people who engaged .*÷ reach/);
    expect(text).toContain('never above 100%');
  });

  it('shows the engagement rate of the people reached in the stats reply', async () => {
    const reply = await router.dispatch('stats', CONSOLE);
    const data = reply.data as { engagementRate: number; reach30d: number; engaged30d: number };
    expect(data.engagementRate).toBeGreaterThan(0);
    expect(data.engagementRate).toBeLessThanOrEqual(1);
    expect(data.engagementRate).toBeCloseTo(data.engaged30d / data.reach30d, 12);
    expect(JSON.stringify(reply.blocks)).toMatch(
      /Engagement rate, 30 days\*\\n[\d.]+% of [\d.k]+ people reached/,
    );
  });

  it('suggests the closest subcommand for a typo', async () => {
    const reply = await router.dispatch('help segmnts', CONSOLE);
    expect(errorOf(reply)).toMatch(
      /^there is no subcommand "segmnts" \(did you mean segments\?\); choose one of:/,
    );
  });
});
