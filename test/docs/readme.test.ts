import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

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
