/**
 * Import benchmark: a generated profiles CSV (50 MB, about 560k rows, with custom attributes and an e-mail
 * column, dropped as an identifier) imported into an empty store in a fresh process; then the resulting data
 * file opened in another fresh process, whose RSS once loaded (after a full GC) is what the store itself needs.
 * The import's peak RSS above that is its own overhead. `--huge` adds a 10M-row (about 1 GB) file, run after
 * the 50 MB one (several minutes and a few GB of memory: opt-in).
 * Run: npx tsx bench/import-bench.ts [megabytes] [--huge]
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PLATFORMS = ['instagram', 'tiktok', 'youtube', 'x', 'facebook'];
const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'BR', 'IN', 'JP', 'CA'];
const INTERESTS = ['fitness', 'travel', 'food', 'fashion', 'gaming', 'music', 'tech', 'beauty'];
const TIERS = ['free', 'plus', 'pro', 'team'];

/** The measured figures. */
export interface ImportBenchResult {
  fileMB: number;
  rows: number;
  seconds: number;
  cpuSeconds: number;
  rowsPerSecond: number;
  importPeakMB: number;
  /** RSS of a process holding the resulting store, after a full GC. */
  storeMB: number;
  /** RSS during the import, sampled every 250 ms. */
  samplesMB: number[];
}

/** Writes a profiles CSV of about `bytes` bytes, or of `maxRows` rows if that comes first; returns its row count. */
export async function writeProfilesCsv(file: string, bytes: number, maxRows = Infinity): Promise<number> {
  const out = createWriteStream(file);
  out.write(
    'id,platform,country,created_at,last_active_at,followers,interests,loyalty_tier,lifetime_value,email\n',
  );
  let rows = 0;
  let written = 0;
  const day = (n: number) =>
    `2025-${String((n % 12) + 1).padStart(2, '0')}-${String((n % 28) + 1).padStart(2, '0')}`;
  while (written < bytes && rows < maxRows) {
    const i = rows++;
    const line =
      `u${String(i).padStart(7, '0')},${PLATFORMS[i % 5]},${COUNTRIES[i % 8]},${day(i)},${day(i * 7)},` +
      `${(i * 37) % 250_000},${INTERESTS[i % 8]}|${INTERESTS[(i * 3) % 8]},${TIERS[i % 4]},${((i * 13) % 9000) / 10},` +
      `fan${i}@example.com\n`;
    written += line.length;
    if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  out.end();
  await finished(out);
  return rows;
}

function child<T>(script: string, args: string[], nodeFlags: string[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', '--expose-gc', script, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (chunk) => {
      out += chunk;
    });
    proc.on('error', reject);
    proc.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${script} exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as T);
    });
  });
}

/** Generates the CSV, imports it, loads the result; all in a temp folder removed afterwards. */
export async function runImportBench(megabytes = 50, maxRows = Infinity): Promise<ImportBenchResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'import-bench-'));
  try {
    const csv = path.join(dir, 'profiles.csv');
    const data = path.join(dir, 'audience.db');
    const rows = await writeProfilesCsv(csv, megabytes * 1_000_000, maxRows);
    const fileMB = (await stat(csv)).size / 1048576;
    // A 10M-profile store holds more than V8's default heap; the 50 MB run keeps the defaults.
    const flags = rows > 2_000_000 ? ['--max-old-space-size=16384'] : [];
    const imported = await child<{
      ms: number;
      cpuMs: number;
      rows: number;
      rssPeakMB: number;
      rssSamplesMB: number[];
    }>('bench/import-child.ts', [data, csv], flags);
    if (imported.rows !== rows) throw new Error(`imported ${imported.rows} rows, wrote ${rows}`);
    const loaded = await child<{ rssMB: number; profiles: number }>(
      'bench/import-child.ts',
      ['--load', data],
      flags,
    );
    return {
      fileMB,
      rows,
      seconds: imported.ms / 1000,
      cpuSeconds: imported.cpuMs / 1000,
      rowsPerSecond: rows / (imported.ms / 1000),
      importPeakMB: imported.rssPeakMB,
      storeMB: loaded.rssMB,
      samplesMB: imported.rssSamplesMB,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The printed report: throughput and memory against their targets (below 1x is within target). */
export function formatImportBench(r: ImportBenchResult): string {
  const over = r.importPeakMB - r.storeMB;
  const every = Math.max(1, Math.ceil(r.samplesMB.length / 12));
  const curve = r.samplesMB.filter((_, i) => i % every === 0);
  return [
    `profiles CSV: ${r.fileMB.toFixed(1)} MB, ${r.rows.toLocaleString('en-US')} rows`,
    `import: ${r.seconds.toFixed(1)} s wall, ${r.cpuSeconds.toFixed(1)} s cpu`,
    `RSS while importing (MB, every ${every * 0.25} s): ${curve.join(' ')}`,
    `peak RSS of the import ${r.importPeakMB.toFixed(0)} MB; RSS holding the resulting store ${r.storeMB.toFixed(0)} MB`,
    '',
    `rows per second: ${Math.round(r.rowsPerSecond).toLocaleString('en-US')} (target >= 50,000, ${(50_000 / r.rowsPerSecond).toFixed(2)}x)`,
    // On a shared machine the wall time says more about the neighbours than the import; CPU time does not.
    `rows per CPU second: ${Math.round(r.rows / r.cpuSeconds).toLocaleString('en-US')} (what one free core would do)`,
    `peak RSS above the store's: ${over.toFixed(0)} MB (target <= 300 MB, ${(over / 300).toFixed(2)}x)`,
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const mb = Number(process.argv.slice(2).find((a) => !a.startsWith('-')) ?? 50);
  console.log(formatImportBench(await runImportBench(mb > 0 ? mb : 50)));
  if (process.argv.includes('--huge')) {
    console.log('\n10M rows (--huge):');
    console.log(formatImportBench(await runImportBench(2_000, 10_000_000)));
  }
}
