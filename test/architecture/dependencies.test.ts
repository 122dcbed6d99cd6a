import { readdirSync, readFileSync } from 'node:fs';
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

  it("import date-fns by function, never the package root, on the CLI's and the app's paths", () => {
    // The root loads ~300 modules (issue #13: `audience help` loaded 1,080 in all); `date-fns/format` loads a few
    // dozen. The connectors run only when syncing a platform, never on `audience help` or at app start.
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) {
          if (full !== path.join(ROOT, 'src', 'connectors')) walk(full);
        } else if (entry.name.endsWith('.ts') && /from ['"]date-fns['"]/.test(readFileSync(full, 'utf8'))) {
          offenders.push(path.relative(ROOT, full));
        }
      }
    };
    walk(path.join(ROOT, 'src'));
    walk(path.join(ROOT, 'commands'));
    expect(offenders).toEqual([]);
  });
});
