import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

/** The repository root, for spawning the real entry points. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The node arguments that start `source` (`src/cli.ts`, `src/app.ts`) as `npm start` and `audience` do: its
 * JavaScript, compiled once per run from the current sources (compiled-setup.ts). The tsx route (`npm run cli`,
 * `npm run dev`) has its own test in test/cli.test.ts; every other child skips tsx's start-up.
 */
export function entryPoint(source: `${'src' | 'commands'}/${string}.ts`): string[] {
  return [join(inject('compiledRoot'), source.replace(/\.ts$/, '.js'))];
}

/** Runs a command to completion with the given environment and stdin; never throws on a non-zero exit. */
export function run(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      // Slack variables from the developer's shell must not switch a test out of local mode.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
