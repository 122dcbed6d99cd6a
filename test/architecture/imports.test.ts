import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  checkSources,
  formatViolation,
  parseMayImport,
  readReadmes,
  readSources,
  rulesFromReadmes,
  type SourceText,
  type Violation,
} from '../support/import-rules.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * KNOWN VIOLATIONS, one per line as `file -> import` (the import as written, or `process.env` / `Date.now()` /
 * `new Date()`). Each entry is a known violation of the house plan that is being removed (issue #11); nothing may
 * be added here. When you remove a violation, delete its entry: the test fails on entries that no longer match
 * anything, so this list only shrinks, and it ends empty.
 */
const KNOWN_VIOLATIONS: readonly string[] = [];

const keyOf = (v: Violation) => `${v.file} -> ${v.import}`;

describe('the house plan (folder README "May import:" rules)', () => {
  const readmes = readReadmes(ROOT);
  const { rules, missing } = rulesFromReadmes(readmes);
  const violations = checkSources(readSources(ROOT), rules);

  it('gives every folder under src/ and commands/ a README.md with a "May import:" line', () => {
    expect(missing.map((unit) => `${unit}: no "May import:" line in its README.md`)).toEqual([]);
  });

  it('names only existing folders (or config.ts / logger.ts) in "May import:" lines', () => {
    const known = new Set([...readmes.keys(), 'config.ts', 'logger.ts']);
    const unknown = [...readmes].flatMap(([unit, text]) =>
      [...(parseMayImport(text) ?? [])].filter((name) => !known.has(name)).map((name) => `${unit}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  it('has no forbidden import or ambient use beyond the known violations', () => {
    const allowed = new Set(KNOWN_VIOLATIONS);
    expect(violations.filter((v) => !allowed.has(keyOf(v))).map(formatViolation)).toEqual([]);
  });

  it('lists only known violations that still exist (delete an entry once its violation is gone)', () => {
    const found = new Set(violations.map(keyOf));
    expect(KNOWN_VIOLATIONS.filter((entry) => !found.has(entry))).toEqual([]);
  });
});

describe('the import-rule checker', () => {
  const fixtureRules = rulesFromReadmes(
    new Map([
      ['domain', 'Types.\n\nMay import: nothing\n'],
      ['engine', 'Numerics.\n\nMay import: domain\n'],
      ['store', 'Storage.\n\nMay import: domain, logger.ts\n'],
      ['slack', 'Slack.\n\nMay import: domain, engine, store, config.ts\n'],
    ]),
  ).rules;
  const check = (file: SourceText) => checkSources([file], fixtureRules).map(formatViolation);

  it('fails on a forbidden import, naming the file, the import and the rule', () => {
    const fixture = { path: 'src/engine/bad.ts', text: "import { load } from '../store/store.ts';\n" };
    expect(check(fixture)).toEqual([
      "src/engine/bad.ts:1 imports '../store/store.ts': src/engine/ may import only domain; not src/store/",
    ]);
  });

  it('passes allowed imports: its own folder, the listed folders and libraries', () => {
    const text = [
      "import type { Profile } from '../domain/types.ts';",
      "import { helper } from './helper.ts';",
      "import { Matrix } from 'ml-matrix';",
      "export { x } from './x.ts';",
    ].join('\n');
    expect(check({ path: 'src/engine/good.ts', text })).toEqual([]);
  });

  it('catches dynamic imports, type-only imports, import types, re-exports and require', () => {
    const text = [
      "const m = await import('../slack/app.ts');",
      "import type { Store } from '../store/store.ts';",
      "type T = import('../store/store.ts').Store;",
      "export * from '../../commands/router.ts';",
      "const lazy = createRequire(import.meta.url)('../store/store.ts');",
      "const old = require('@slack/bolt');",
    ].join('\n');
    const found = checkSources([{ path: 'src/engine/sneaky.ts', text }], fixtureRules);
    expect(found.map((v) => v.line)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('keeps @slack/bolt and @slack/web-api under src/slack/', () => {
    const text = "import { App } from '@slack/bolt';\nimport { WebClient } from '@slack/web-api';\n";
    expect(check({ path: 'src/store/x.ts', text })).toHaveLength(2);
    expect(check({ path: 'src/slack/listeners/x.ts', text })).toEqual([]);
  });

  it('lets only src/config.ts read process.env', () => {
    const text = 'export const port = process.env.PORT;\n';
    expect(check({ path: 'src/slack/x.ts', text })).toEqual([
      "src/slack/x.ts:1 imports 'process.env': only src/config.ts reads process.env",
    ]);
    expect(check({ path: 'src/config.ts', text })).toEqual([]);
  });

  it('keeps the engine and the domain free of the file system and clock reads', () => {
    const text = [
      "import { readFileSync } from 'node:fs';",
      "import { readFile } from 'fs/promises';",
      'const now = Date.now();',
      'const today = new Date();',
      'const then = new Date(0); // a given time is fine; Date.now() in a comment is too',
    ].join('\n');
    expect(check({ path: 'src/domain/x.ts', text })).toHaveLength(4);
    expect(check({ path: 'src/engine/x.ts', text })).toHaveLength(4);
    expect(check({ path: 'src/store/x.ts', text })).toEqual([]);
  });

  it('reports a folder with no rule, and imports from outside src/ and commands/', () => {
    expect(check({ path: 'src/newfolder/x.ts', text: "import '../domain/types.ts';\n" })[0]).toContain(
      'no "May import:" rule',
    );
    expect(check({ path: 'src/engine/x.ts', text: "import '../../test/support/x.ts';\n" })[0]).toContain(
      'outside src/ and commands/',
    );
  });

  it('reads the "May import:" line of a README', () => {
    expect(parseMayImport('# x\n\nOwns x.\n\nMay import: domain, store, `config.ts`\n')).toEqual(
      new Set(['domain', 'store', 'config.ts']),
    );
    expect(parseMayImport('May import: nothing')).toEqual(new Set());
    expect(parseMayImport('no rule here')).toBeUndefined();
  });
});
