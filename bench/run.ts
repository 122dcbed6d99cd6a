/**
 * `npm run bench`: runs every benchmark section in its own process (so each peak-memory figure is its own)
 * and prints their tables. `npm run bench -- store engine` runs only the named sections; options after the
 * names go to each section chosen (`npm run bench -- import --huge` adds the 10M-row import; `npm run bench --
 * postgres --profiles 100000 --interactions 1000000` sizes the PostgreSQL section).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SECTIONS: ReadonlyArray<{ name: string; file: string; what: string; args?: string[] }> = [
  { name: 'store', file: 'bench/store-bench.ts', what: 'store load/write at 10k, 100k, 1M profiles' },
  { name: 'engine', file: 'bench/engine-bench.ts', what: 'stats, segments, predictions, recommendations' },
  { name: 'http', file: 'bench/http-bench.ts', what: 'signed /audience commands against the HTTP receiver' },
  {
    name: 'socket',
    file: 'bench/http-bench.ts',
    args: ['--socket'],
    what: 'the same bursts over Socket Mode: acknowledgements while the engine works',
  },
  { name: 'charts', file: 'bench/charts-bench.ts', what: 'chart rendering' },
  {
    name: 'import',
    file: 'bench/import-bench.ts',
    what: 'a 50 MB profiles CSV (and 10M rows with --huge): rows per second, peak RSS',
  },
  { name: 'cli', file: 'bench/cli-bench.ts', what: 'CLI and console start, built (a fresh process each)' },
  {
    name: 'digest',
    file: 'bench/digest-bench.ts',
    what: '1,000 digests due in one minute on a 100k-profile store, 200 channels',
  },
  {
    name: 'postgres',
    file: 'bench/postgres-bench.ts',
    what: 'PostgreSQL: 1M profiles / 10M interactions imported, stats, predict, segments, top 10 (--large: 10M/100M)',
  },
  {
    name: 'pgscale',
    file: 'bench/pg-scale-bench.ts',
    what: 'PostgreSQL at 10M profiles / 100M interactions generated in SQL: stats, segments, predict, recommendations, top 10, import rate, app RSS per step (--profiles/--interactions N, --reuse, --keep)',
  },
  {
    name: 'reco',
    file: 'bench/reco-bench.ts',
    what: 'recommendation quality: shipped vs a full tuned EASE vs popularity vs random, generated real-shaped stores and the sample, three protocols (slow; --quick, --only=movies,baskets)',
  },
  {
    name: 'hurdle',
    file: 'bench/hurdle-bench.ts',
    what: "the sample's planted spend coefficients: predict's errors per seed with the buyers' amounts calibrated (the default) and without (the balanced draw alone)",
  },
  {
    name: 'connectors',
    file: 'bench/connectors-bench.ts',
    what: 'sync engine into a data file against the stand-ins: rows/s, full and re-run; Shopify bulk at 100k orders (--orders=1000000)',
  },
  {
    name: 'platforms',
    file: 'bench/platform-connectors-bench.ts',
    what: 'Graph / YouTube / Shopify connectors against their stand-ins (rows/s); Shopify bulk JSONL at 1M orders, memory',
  },
];

const root = fileURLToPath(new URL('..', import.meta.url));
const words = process.argv.slice(2);
// Section names are the words that are neither options nor the value of a sizing option.
const isValue = (i: number) =>
  /^--(profiles|interactions|import-rows|import-kinds|schema|step-timeout|steps)$/.test(words[i - 1] ?? '');
const wanted = words.filter((a, i) => !a.startsWith('-') && !isValue(i));
const passed = words.filter((a, i) => a.startsWith('-') || isValue(i));
const chosen = wanted.length > 0 ? SECTIONS.filter((s) => wanted.includes(s.name)) : SECTIONS;
if (chosen.length === 0) {
  process.stderr.write(`Unknown section. Choose from: ${SECTIONS.map((s) => s.name).join(', ')}\n`);
  process.exit(2);
}

let failed = 0;
for (const section of chosen) {
  process.stdout.write(`\n## ${section.name}: ${section.what}\n\n`);
  const started = Date.now();
  const args = [...(section.args ?? []), ...passed];
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', section.file, ...args], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    failed++;
    process.stdout.write(`(section ${section.name} failed with exit code ${result.status})\n`);
  }
  process.stdout.write(`(${section.name}: ${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
}
process.exit(failed > 0 ? 1 : 0);
