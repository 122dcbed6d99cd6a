import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryPoint, ROOT, run } from '../support/processes.ts';
import { sampleStore } from './helpers.ts';

let env: Awaited<ReturnType<typeof sampleStore>>;
let vars: Record<string, string>;

beforeAll(async () => {
  env = await sampleStore();
  await env.store.close();
  vars = { DATA_FILE: env.file, FIXED_NOW: '2026-06-01T10:00:00Z' };
});
afterAll(async () => {
  await env.cleanup();
});

describe('one app per data file', () => {
  it('refuses to start a second app on the same data file, with a clear message', async () => {
    const first = spawn('node', entryPoint('src/app.ts'), {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...vars },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => first.on('close', resolve));
    try {
      // The console's banner comes after the scheduler has taken the data file.
      await new Promise<void>((resolve, reject) => {
        let out = '';
        first.stdout.on('data', (chunk) => {
          out += String(chunk);
          if (out.includes('local mode')) resolve();
        });
        first.on('close', (code) => reject(new Error(`the first app exited early (${code})`)));
      });

      const second = await run('node', entryPoint('src/app.ts'), { env: vars, input: 'exit\n' });
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`Another Audience Insights app (process ${first.pid} on `);
      expect(second.stderr).toContain(`is already running on ${env.file}, so this one will not start`);
      expect(second.stdout).not.toContain('local mode');
    } finally {
      first.stdin.end('exit\n');
    }
    expect(await exited).toBe(0);

    // Once the first has stopped, the data file is free again.
    const third = await run('node', entryPoint('src/app.ts'), {
      env: vars,
      input: 'digest list\nexit\n',
    });
    expect(third.code).toBe(0);
    expect(third.stdout).toContain('No digests yet');
  });
});
