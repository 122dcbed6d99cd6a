/**
 * One step of the scale benchmark (pg-scale-bench.ts), in a process of its own: the CLI's own context and
 * router over DATABASE_URL (what `audience <command>` and the Slack app run), each command line timed from
 * dispatch to reply. Prints each reply, then one `@@result` line: per-line milliseconds and the process's peak RSS.
 * With `--cli`, runs one whole `audience …` invocation instead (the import: `--cli import interactions file.csv`).
 * Run: DATABASE_URL=… SLACK_TEAM_ID=… FIXED_NOW=… node --import tsx bench/pg-scale-child.ts 'stats' 'predict' …
 */
import { performance } from 'node:perf_hooks';
import { lazyStoreContext } from '../src/cli/context.ts';
import { storeEncryption } from '../src/cli/privacy-commands.ts';
import { loadRoutedCommands } from '../src/cli/routed-commands.ts';
import { loadConfig } from '../src/config.ts';

const lines = process.argv.slice(2);
if (lines[0] === '--cli') {
  const { runCli } = await import('../src/cli.ts');
  const started = performance.now();
  const code = await runCli(['node', 'audience', ...lines.slice(1)]);
  const ms = performance.now() - started;
  const usage = process.resourceUsage();
  const peakMb = Math.round(usage.maxRSS / 1024);
  // The app's own CPU (parse, validation, COPY encoding), against the wall time the database's work fills.
  const cpuMs = (usage.userCPUTime + usage.systemCPUTime) / 1000;
  process.stdout.write(`\n@@result ${JSON.stringify({ ms: [ms], codes: [code], peakMb, cpuMs })}\n`);
  process.exit(0);
}
const config = loadConfig();
const fixed = config.fixedNow;
const ctx = lazyStoreContext(
  config,
  () => (fixed ? new Date(fixed) : new Date()),
  storeEncryption(config, []),
);
const routed = await loadRoutedCommands(ctx);
await ctx.store();
const ms: number[] = [];
const codes: number[] = [];
for (const line of lines) {
  const started = performance.now();
  codes.push(await routed.route(line.split(' '), 'text'));
  ms.push(performance.now() - started);
}
await ctx.close();
const peakMb = Math.round(process.resourceUsage().maxRSS / 1024);
process.stdout.write(`\n@@result ${JSON.stringify({ ms, codes, peakMb })}\n`);
