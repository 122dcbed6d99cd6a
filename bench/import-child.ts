/**
 * Imports one profiles file into a fresh store in this process and prints {ms, cpuMs, rows, rssPeakMB,
 * rssSamplesMB}, so the import bench measures the import's own peak memory. With `--load`, only opens the
 * data file and prints {rssMB, profiles}: the memory a process holding that store needs.
 * Usage: node --import tsx --expose-gc bench/import-child.ts [--load] <data file> [csv]
 */
import { performance } from 'node:perf_hooks';
import { importFile } from '../src/import/importer.ts';
import { openStore } from '../src/store/store.ts';

if (process.argv[2] === '--load') {
  const store = await openStore({ file: process.argv[3] ?? '', onNotice: () => undefined });
  globalThis.gc?.();
  const rssMB = process.memoryUsage.rss() / 1048576;
  console.log(JSON.stringify({ rssMB, profiles: store.data.profiles.length }));
  await store.close();
  process.exit(0);
}
const [file, csv] = process.argv.slice(2);
if (!file || !csv) {
  console.error('usage: node --import tsx bench/import-child.ts <data file> <csv>');
  process.exit(2);
}
const store = await openStore({ file, onNotice: () => undefined });
// RSS every 250 ms shows whether memory stays flat while reading or climbs with the rows.
const samples: number[] = [];
const sampler = setInterval(() => samples.push(Math.round(process.memoryUsage.rss() / 1048576)), 250);
const started = performance.now();
const cpuBefore = process.cpuUsage();
const report = await importFile(store, { kind: 'profiles', file: csv, now: new Date() });
const ms = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
clearInterval(sampler);
await store.close();
if (!report.applied) throw new Error(`the import was not applied: ${JSON.stringify(report.errors)}`);
console.log(
  JSON.stringify({
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    rows: report.rows,
    rssPeakMB: process.resourceUsage().maxRSS / 1024,
    rssSamplesMB: samples,
  }),
);
