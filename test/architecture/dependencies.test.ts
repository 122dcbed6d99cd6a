import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('dependencies', () => {
  it('install one @slack/types, the one Bolt and the Web API client use', () => {
    // Two copies (ours 2.x beside Bolt's 3.x) made Block Kit types disagree and forced `as never` casts.
    const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string }>;
    };
    const copies = Object.entries(lock.packages)
      .filter(([where]) => where.endsWith('node_modules/@slack/types'))
      .map(([where, p]) => `${where}@${p.version}`);
    expect(copies).toHaveLength(1);
    const ours = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const bolt = lock.packages['node_modules/@slack/bolt'] as { dependencies?: Record<string, string> };
    const major = (range: string | undefined) => /\d+/.exec(range ?? '')?.[0];
    expect(major(ours.dependencies['@slack/types'])).toBe(major(bolt.dependencies?.['@slack/types']));
  });
});
