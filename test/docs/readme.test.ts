import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { entryPoint, run } from '../support/processes.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

describe('README', () => {
  it('names every status /healthz can answer', () => {
    const slack = (file: string) => readFileSync(path.join(ROOT, 'src', 'slack', file), 'utf8');
    const statuses = new Set<string>();
    // The app's report (its status type) and the front door's answer before the first report.
    const union = /status: ('[a-z_]+'(?: \| '[a-z_]+')+);/.exec(slack('health.ts'))?.[1] ?? '';
    for (const s of union.matchAll(/'([a-z_]+)'/g)) statuses.add(s[1] as string);
    for (const s of slack('front-door-worker.ts').matchAll(/JSON\.stringify\(\{ status: '([a-z_]+)' \}\)/g)) {
      statuses.add(s[1] as string);
    }
    expect([...statuses]).toContain('starting');
    const health = readme.slice(readme.indexOf('GET /healthz'), readme.indexOf('GET /healthz') + 800);
    for (const status of statuses) expect(health, status).toContain(`\`${status}\``);
  });
});

describe('the README quick start', () => {
  it('shows what the console prints on a fresh store', async () => {
    const block = /```text\n([\s\S]*?)\n```/.exec(readme)?.[1] ?? '';
    // The reply lines after the typed command, up to the "…" that ends the excerpt.
    const shown = block.split('\n');
    const reply = shown.slice(shown.findIndex((l) => l.startsWith('audience> ')) + 1, shown.indexOf('…'));
    expect(reply.length).toBeGreaterThan(5);
    const dir = await mkdtemp(path.join(tmpdir(), 'audience-readme-'));
    try {
      const env = { DATA_FILE: path.join(dir, 'var', 'audience.db'), FIXED_NOW: '2026-06-01T09:30:00Z' };
      const session = await run('node', entryPoint('src/app.ts'), {
        env,
        input: '/audience stats\nexit\n',
      });
      expect(session.code).toBe(0);
      const output = `${session.stdout}\n${session.stderr}`;
      // The banner and the INFO line, each part between the README's "…" as printed.
      for (const line of shown.filter((l) => l.startsWith('INFO ') || l.startsWith('Audience Insights, ')))
        for (const part of line.split('…').filter((p) => p.trim() !== '')) expect(output).toContain(part);
      expect(session.stdout).toContain(reply.join('\n'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
