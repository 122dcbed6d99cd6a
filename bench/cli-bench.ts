/**
 * CLI start benchmark: the built `audience` command (bin/audience.js -> dist/) answering `--version`, `help`
 * and `stats` on the 5k sample, and `npm start` until the local console is ready on an existing store. Each is
 * a fresh process, as a script calling the CLI per step pays it. Builds dist/ first when it is missing.
 * Run: npx tsx bench/cli-bench.ts [runs]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BANNER = 'local mode (no Slack tokens set)';

/** One measured start: the best and the median of its runs, in seconds. */
export interface CliRow {
  name: string;
  bestS: number;
  medianS: number;
  /** CPU seconds (user + system) of the run with the median wall time; null without /usr/bin/time. */
  cpuS: number | null;
  /** Seconds; null when the issue sets none. */
  target: number | null;
}

function ensureBuilt(): void {
  if (existsSync(path.join(ROOT, 'dist', 'src', 'cli.js'))) return;
  process.stdout.write('dist/ is missing; building it first (npm run build)\n');
  const built = spawnSync(process.execPath, ['scripts/build.js'], { cwd: ROOT, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('the build failed');
}

/** Wall seconds, and CPU seconds of the whole process when they could be read. */
interface Timing {
  wallS: number;
  cpuS: number | null;
}

// GNU time reports the child's CPU time, which a busy machine inflates far less than the wall time.
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const CPU_MARK = 'cpu-seconds:';

/** Runs a command to its end (or, with `until`, until stdout shows that text) and returns the time taken. */
function timeRun(command: string, args: string[], env: NodeJS.ProcessEnv, until?: string): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const [file, argv] = GNU_TIME
      ? [GNU_TIME, ['-f', `${CPU_MARK}%U %S`, command, ...args]]
      : [command, args];
    const child = spawn(file, argv, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let seen: number | null = null;
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (until !== undefined && seen === null && out.includes(until)) {
        seen = (performance.now() - started) / 1000;
        child.stdin.end('exit\n');
      }
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${err}`));
      if (until !== undefined && seen === null) return reject(new Error(`never printed "${until}"`));
      const cpu = err
        .slice(err.lastIndexOf(CPU_MARK) + CPU_MARK.length)
        .trim()
        .split(/\s+/)
        .map(Number);
      const cpuS = GNU_TIME && cpu.length === 2 ? (cpu[0] ?? 0) + (cpu[1] ?? 0) : null;
      resolve({ wallS: seen ?? (performance.now() - started) / 1000, cpuS });
    });
    if (until === undefined) child.stdin.end();
  });
}

async function measure(
  name: string,
  target: number | null,
  runs: number,
  once: () => Promise<Timing>,
): Promise<CliRow> {
  await once(); // warm the file system cache, as on any machine that ran the command before
  const times: Timing[] = [];
  for (let i = 0; i < runs; i++) times.push(await once());
  times.sort((a, b) => a.wallS - b.wallS);
  const median = times[Math.floor(times.length / 2)];
  return {
    name,
    target,
    bestS: times[0]?.wallS ?? 0,
    medianS: median?.wallS ?? 0,
    cpuS: median?.cpuS ?? null,
  };
}

/** Measures each start `runs` times over a temp store holding the 5k sample. */
export async function runCliBench(runs = 5): Promise<CliRow[]> {
  ensureBuilt();
  const dir = await mkdtemp(path.join(tmpdir(), 'cli-bench-'));
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    DATA_FILE: path.join(dir, 'a.db'),
  };
  const cli =
    (...args: string[]) =>
    () =>
      timeRun(process.execPath, ['bin/audience.js', ...args], env);
  try {
    await cli('sample', '--profiles', '5000')();
    return [
      await measure('audience --version', null, runs, cli('--version')),
      await measure('audience help', 0.3, runs, cli('help')),
      await measure('audience stats (5k sample)', 0.8, runs, cli('stats')),
      await measure('npm start to the console', 1.5, runs, () => timeRun('npm', ['start'], env, BANNER)),
      await measure('node dist/src/app.js to the console', null, runs, () =>
        timeRun(process.execPath, ['dist/src/app.js'], env, BANNER),
      ),
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The printed report: best and median wall time, CPU time, and the ratio of the best to its target. */
export function formatCliBench(rows: readonly CliRow[]): string {
  const secs = (s: number | null, width: number) => (s === null ? '-' : `${s.toFixed(2)} s`).padStart(width);
  const lines = ['start (wall time)                          best    median  cpu (whole run)   target'];
  for (const r of rows) {
    const target = r.target === null ? '' : `${r.target.toFixed(1)} s (${(r.bestS / r.target).toFixed(2)}x)`;
    lines.push(
      `${r.name.padEnd(38)} ${secs(r.bestS, 8)} ${secs(r.medianS, 9)} ${secs(r.cpuS, 16)}   ${target}`,
    );
  }
  lines.push('', 'cpu counts the whole process, exit included; a busy machine inflates wall time far more.');
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const runs = Number(process.argv[2] ?? 5);
  console.log(formatCliBench(await runCliBench(runs > 0 ? runs : 5)));
}
