/**
 * Loads one data file in a fresh process and prints {loadMs, loadCpuMs, rssPeakMB, profiles, interactions},
 * so the store bench measures peak memory without its own generator's garbage in the way.
 * Usage: node --import tsx bench/store-load-child.ts <file>
 */
import { performance } from 'node:perf_hooks';
import { openStore } from '../src/store/store.ts';

const file = process.argv[2];
if (!file) {
  console.error('usage: node --import tsx bench/store-load-child.ts <file>');
  process.exit(2);
}
const started = performance.now();
const cpuBefore = process.cpuUsage();
const store = await openStore({ file, onNotice: () => undefined });
const loadMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
// CPU time of all threads (GC helpers included): a steadier figure than wall time on a busy machine.
const loadCpuMs = (cpu.user + cpu.system) / 1000;
// maxRSS is in kilobytes.
const rssPeakMB = process.resourceUsage().maxRSS / 1024;
const result = {
  loadMs,
  loadCpuMs,
  rssPeakMB,
  profiles: store.data.profiles.length,
  interactions: store.data.interactions.length,
};
await store.close();
console.log(JSON.stringify(result));
