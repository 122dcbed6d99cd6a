/**
 * PostgreSQL at scale (issue #14): generates 10M profiles and 100M interactions straight into a database of its
 * own with set-based SQL (pg-scale-generate.ts), then runs each step the way the app does, in a child process
 * with the CLI's router over DATABASE_URL (pg-scale-child.ts): `stats`, `segments k=5`, `predict`, the
 * recommendation model's build (the first `recommend user=`), then one person's top 10 for 100 people (p50/p99);
 * and the import rate on a realistic chunk through the real `audience import` (1M interactions of the last month
 * from a CSV, then 1M new profiles), last, since it adds to the audience. Each child's peak RSS is reported; a
 * child runs with --max-old-space-size as a guard, and one that reaches it or grows past RSS_KILL_MB (a step
 * that would read the whole audience into the app) is reported as refused, not left to take the machine.
 *
 * Run: npm run bench -- pgscale [--profiles N] [--interactions N] [--reuse] [--keep] [--import-rows N]
 *      [--no-import] [--import-only] [--import-kinds interactions,profiles] [--generate-only] [--step-timeout S]
 *      [--steps stats,segments,predict,recommend]
 * Defaults: 10M profiles, 100M interactions (21 GB once generated, and about an hour on two
 * cores). --reuse keeps an audience of the same size already generated in the database; --keep leaves the
 * database for another run (otherwise it is dropped at the end). BENCH_PGSCALE_URL names the database
 * (default postgres://postgres@127.0.0.1:5432/bench_pgscale); it is created when missing.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openPgStore } from '../src/store/postgres/pg-store.ts';
import {
  generateAudience,
  PEOPLE_TAIL,
  PRODUCT_TAIL,
  personId,
  personOfRank,
  productOfRank,
  ranked,
  type ScaleSpec,
} from './pg-scale-generate.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const URL_ = process.env.BENCH_PGSCALE_URL || 'postgres://postgres@127.0.0.1:5432/bench_pgscale';
const TEAM = 'TPGSCALE';
const END = Date.parse('2026-12-01T00:00:00Z');
const HEAP_MB = 1024;
const RSS_KILL_MB = 1600;
const PEOPLE = 100;
/** A step still running after this long is stopped and reported as such (--step-timeout seconds). */
const STEP_TIMEOUT_MS = numberFlag('--step-timeout', 1800) * 1000;

/** The value of `--name V` or `--name=V`, else `fallback`. */
function stringFlag(name: string, fallback: string): string {
  const at = process.argv.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (at < 0) return fallback;
  const raw = process.argv[at]?.includes('=') ? process.argv[at]?.split('=')[1] : process.argv[at + 1];
  return raw ?? fallback;
}

function numberFlag(name: string, fallback: number): number {
  const v = Number(stringFlag(name, ''));
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : fallback;
}

const spec: ScaleSpec = {
  team: TEAM,
  profiles: numberFlag('--profiles', 10_000_000),
  interactions: numberFlag('--interactions', 100_000_000),
  products: 20_000,
  end: END,
  years: 3,
};
const IMPORT_ROWS = numberFlag('--import-rows', 1_000_000);
const log = (line: string) => process.stdout.write(`  ${line}\n`);

interface Outcome {
  ms: number[];
  peakMb: number;
  /** The child's CPU time (user + system), when it reports one. */
  cpuMs?: number;
  /** Why the step gave no figure (heap limit, RSS guard, an error), if it did not. */
  refused?: string;
  output: string;
}

/** Peak RSS of a running process from /proc (its high-water mark), in MB; 0 once it is gone. */
async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Math.round(Number(match[1]) / 1024) : 0;
}

/** Runs pg-scale-child.ts with `args`, watching its RSS; see the file's comment for the guard. */
function runChild(args: string[]): Promise<Outcome> {
  const child = spawn(
    process.execPath,
    [`--max-old-space-size=${HEAP_MB}`, '--import', 'tsx', 'bench/pg-scale-child.ts', ...args],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: URL_,
        SLACK_TEAM_ID: TEAM,
        FIXED_NOW: new Date(END).toISOString(),
        LOG_LEVEL: 'error',
      },
    },
  );
  let output = '';
  let peak = 0;
  const started = performance.now();
  let killed = '';
  child.stdout.on('data', (d) => {
    output += String(d);
  });
  child.stderr.on('data', (d) => {
    output += String(d);
  });
  const watch = setInterval(async () => {
    const mb = await rssMb(child.pid ?? 0);
    peak = Math.max(peak, mb);
    if (performance.now() - started > STEP_TIMEOUT_MS && !killed) {
      killed = `stopped after ${STEP_TIMEOUT_MS / 1000} s (--step-timeout)`;
      child.kill('SIGKILL');
    }
    if (mb > RSS_KILL_MB && !killed) {
      killed = `refused: too large (RSS passed ${RSS_KILL_MB} MB: reads the whole audience into the app)`;
      child.kill('SIGKILL');
    }
  }, 200);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearInterval(watch);
      const line = output.split('\n').find((l) => l.startsWith('@@result '));
      const shown = output.replace(/\n?@@result .*\n?/, '').trim();
      if (line && !killed) {
        const r = JSON.parse(line.slice('@@result '.length)) as {
          ms: number[];
          codes: number[];
          peakMb: number;
          cpuMs?: number;
        };
        const failed = r.codes.some((c) => c !== 0);
        resolve({
          ms: r.ms,
          peakMb: Math.max(peak, r.peakMb),
          ...(r.cpuMs === undefined ? {} : { cpuMs: r.cpuMs }),
          output: shown,
          ...(failed ? { refused: `exit ${r.codes.join(',')}` } : {}),
        });
        return;
      }
      const heap = /heap out of memory|Allocation failed/.test(output);
      const why =
        killed ||
        (heap
          ? `refused: too large (reached the ${HEAP_MB} MB heap guard: reads the whole audience into the app)`
          : `failed (exit ${code}): ${shown.split('\n').slice(-3).join(' ')}`);
      resolve({ ms: [], peakMb: peak, refused: why, output: shown });
    });
  });
}

interface Row {
  step: string;
  time: string;
  goal: string;
  ratio: string;
  rss: string;
  /** The machine's 1-minute load average when the step ended (`uptime`): two cores shared with other work. */
  load: string;
  note: string;
}
const rows: Row[] = [];
/** Seconds per generation step (pg-scale-generate.ts), printed with the results when this run generated. */
let generated: Record<string, number> | null = null;

/** The 1-, 5- and 15-minute load averages, as `uptime` prints them. */
async function loadAverages(): Promise<string> {
  const text = await readFile('/proc/loadavg', 'utf8').catch(() => '');
  return text.split(' ').slice(0, 3).join(' ') || '?';
}

const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};

/** One row per step: time against the goal (ratio = goal ÷ time, ≥ 1 meets it) and RSS against 1 GB. */
async function record(
  step: string,
  o: Outcome,
  goalMs: number | null,
  pick: (ms: number[]) => number,
  note = '',
): Promise<void> {
  const rss = `${o.peakMb} MB (${(1024 / Math.max(1, o.peakMb)).toFixed(2)}x)`;
  const load = await loadAverages();
  const goal = goalMs === null ? 'report' : fmt(goalMs);
  if (o.refused) {
    rows.push({ step, time: '—', goal, ratio: '—', rss, load, note: o.refused });
    return;
  }
  const ms = pick(o.ms);
  const ratio = goalMs === null ? '—' : `${(goalMs / ms).toFixed(2)}x`;
  rows.push({ step, time: fmt(ms), goal, ratio, rss, load, note });
}

async function ensureDatabase(): Promise<void> {
  const url = new URL(URL_);
  const name = url.pathname.slice(1);
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    const { rows: found } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.length === 0) await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
}

async function dropDatabase(): Promise<void> {
  const url = new URL(URL_);
  const name = url.pathname.slice(1);
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
}

/** Generates the audience unless --reuse finds one of this size already there. */
async function prepare(): Promise<void> {
  await ensureDatabase();
  const store = await openPgStore({ url: URL_, teamId: TEAM, onNotice: () => undefined });
  const counts = await store.audience.counts();
  await store.close();
  if (
    process.argv.includes('--reuse') &&
    counts.profiles >= spec.profiles &&
    counts.interactions >= spec.interactions
  ) {
    log(
      `reusing ${counts.profiles.toLocaleString('en')} profiles, ${counts.interactions.toLocaleString('en')} interactions`,
    );
    return;
  }
  // Heap, indexes and rollups take about 250 bytes an event; WAL comes and goes on top.
  const free = await statfs(ROOT);
  const needGb = (spec.interactions * 250 + spec.profiles * 400) / 1e9;
  const freeGb = (free.bavail * free.bsize) / 1e9;
  if (freeGb < needGb * 1.5)
    throw new Error(`about ${needGb.toFixed(0)} GB needed, ${freeGb.toFixed(0)} GB free`);
  const client = new pg.Client({ connectionString: URL_ });
  await client.connect();
  try {
    const started = performance.now();
    generated = await generateAudience(client, spec, log);
    const s = (performance.now() - started) / 1000;
    generated.total = s;
    log(`generated in ${s.toFixed(0)} s`);
  } finally {
    await client.end();
  }
}

/** A CSV of `n` interactions in the audience's last month (people and products of the generated audience). */
async function writeInteractionsCsv(file: string, n: number): Promise<void> {
  const out = createWriteStream(file);
  out.write('user_id,item_id,type,timestamp,value\n');
  let seed = 7;
  const rnd = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const active = Math.floor(spec.profiles * 0.6);
  let chunk = '';
  for (let k = 0; k < n; k++) {
    const user = personId(personOfRank(ranked(active, PEOPLE_TAIL, rnd()), spec.profiles));
    const item = `p${String(productOfRank(ranked(spec.products, PRODUCT_TAIL, rnd()), spec.products)).padStart(6, '0')}`;
    const r = rnd();
    const type = r < 0.7 ? 'view' : r < 0.82 ? 'like' : r < 0.9 ? 'click' : r < 0.95 ? 'comment' : 'purchase';
    const at = new Date(END - Math.floor(rnd() * 30 * 86_400_000)).toISOString();
    const value = type === 'purchase' ? (5 + rnd() * 100).toFixed(2) : '';
    chunk += `${user},${type === 'comment' ? '' : item},${type},${at},${value}\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      chunk = '';
    }
  }
  out.end(chunk);
  await finished(out);
}

/** A CSV of `n` new profiles (ids after the generated ones), with an e-mail column the import pseudonymizes. */
async function writeProfilesCsv(file: string, n: number): Promise<void> {
  const out = createWriteStream(file);
  out.write('id,platform,country,created_at,followers,interests,loyalty_tier,email\n');
  const platforms = ['instagram', 'tiktok', 'youtube', 'x', 'facebook'];
  const countries = ['US', 'GB', 'DE', 'FR', 'BR', 'IN', 'JP', 'CA'];
  let chunk = '';
  for (let i = 0; i < n; i++) {
    const id = personId(spec.profiles + 1 + i);
    const day = new Date(END - ((i * 7919) % 900) * 86_400_000).toISOString().slice(0, 10);
    chunk += `${id},${platforms[i % 5]},${countries[(i * 3) % 8]},${day},${(i * 37) % 250_000},food|travel,plus,fan${i}@example.com\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      chunk = '';
    }
  }
  out.end(chunk);
  await finished(out);
}

/** The query steps to run: `--steps stats,segments,predict,recommend` (default all, in that order). */
const STEPS = new Set(stringFlag('--steps', 'stats,segments,predict,recommend').split(','));

async function measureQueries(): Promise<void> {
  if (STEPS.has('stats')) {
    const stats = await runChild(['stats', 'stats']);
    await record('stats (cold)', stats, 1000, (ms) => ms[0] ?? Number.NaN);
    await record('stats (again)', stats, 1000, (ms) => ms[1] ?? Number.NaN);
  }
  if (STEPS.has('segments'))
    await record('segments k=5', await runChild(['segments k=5']), 30_000, (ms) => ms[0] ?? Number.NaN);
  if (STEPS.has('predict'))
    await record('predict fit', await runChild(['predict']), 30_000, (ms) => ms[0] ?? Number.NaN);
  if (!STEPS.has('recommend')) return;
  // People spread over the activity ranks (busy and quiet ones), golden-ratio steps; the first call builds the model.
  const active = Math.floor(spec.profiles * 0.6);
  const people = Array.from({ length: PEOPLE }, (_, i) =>
    personId(personOfRank(Math.floor(active * ((i * 0.6180339887) % 1) ** 2), spec.profiles)),
  );
  const reco = await runChild(people.map((id) => `recommend user=${id}`));
  await record('recommendation model build (first recommend)', reco, null, (ms) => ms[0] ?? Number.NaN);
  const warm = { ...reco, ms: reco.ms.slice(1) };
  await record(`one person's top 10, p50 of ${PEOPLE - 1}`, warm, 50, (ms) => quantile(ms, 0.5));
  await record(`one person's top 10, p99 of ${PEOPLE - 1}`, warm, 50, (ms) => quantile(ms, 0.99));
}

/** Rows per second of an import, and the app's CPU seconds in it (the rest of the wall time is the database's). */
function importNote(o: Outcome): string {
  if (o.refused) return '';
  const rate = `${Math.round(IMPORT_ROWS / ((o.ms[0] ?? 1) / 1000)).toLocaleString('en')} rows/s`;
  return o.cpuMs === undefined ? rate : `${rate}, app CPU ${(o.cpuMs / 1000).toFixed(1)} s`;
}

/** The imports to run: `--import-kinds interactions,profiles` (default both, in that order). */
const IMPORT_KINDS = new Set(stringFlag('--import-kinds', 'interactions,profiles').split(','));

async function measureImport(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pgscale-'));
  try {
    if (IMPORT_KINDS.has('interactions')) await measureEventsImport(dir);
    if (IMPORT_KINDS.has('profiles')) await measureProfilesImport(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function measureEventsImport(dir: string): Promise<void> {
  const events = path.join(dir, 'events.csv');
  await writeInteractionsCsv(events, IMPORT_ROWS);
  const o = await runChild(['--cli', 'import', 'interactions', events]);
  const goal = (IMPORT_ROWS / 200_000) * 1000;
  await record(
    `import ${IMPORT_ROWS.toLocaleString('en')} interactions (CSV → committed)`,
    o,
    goal,
    (ms) => ms[0] ?? Number.NaN,
    importNote(o),
  );
}

async function measureProfilesImport(dir: string): Promise<void> {
  const goal = (IMPORT_ROWS / 200_000) * 1000;
  const people = path.join(dir, 'profiles.csv');
  await writeProfilesCsv(people, IMPORT_ROWS);
  const p = await runChild(['--cli', 'import', 'profiles', people]);
  await record(
    `import ${IMPORT_ROWS.toLocaleString('en')} profiles (CSV → committed)`,
    p,
    goal,
    (ms) => ms[0] ?? Number.NaN,
    importNote(p),
  );
}

/** The benchmark database's size on disk (pg_database_size), pretty-printed. */
async function databaseSize(): Promise<string> {
  const client = new pg.Client({ connectionString: URL_ });
  await client.connect();
  try {
    const { rows: found } = await client.query<{ size: string }>(
      'SELECT pg_size_pretty(pg_database_size(current_database())) AS size',
    );
    return found[0]?.size ?? '?';
  } finally {
    await client.end();
  }
}

/** The generation's steps (when this run generated), then every step against its goal. */
function printResults(size: string): void {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  if (generated) {
    out('\n| generation step | time |\n| --- | --- |');
    for (const [name, s] of Object.entries(generated)) out(`| ${name} | ${s.toFixed(0)} s |`);
  }
  out(`\ndatabase ${new URL(URL_).pathname.slice(1)}: ${size}`);
  out(
    '\n| step | time | goal | ratio (goal ÷ time, ≥ 1 meets it) | app peak RSS (÷ 1 GB goal) | load (1, 5, 15 min) | note |',
  );
  out('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows)
    out(`| ${r.step} | ${r.time} | ${r.goal} | ${r.ratio} | ${r.rss} | ${r.load} | ${r.note} |`);
}

async function main(): Promise<void> {
  log(
    `${spec.profiles.toLocaleString('en')} profiles, ${spec.interactions.toLocaleString('en')} interactions in ${new URL(URL_).pathname.slice(1)}`,
  );
  await prepare();
  if (!process.argv.includes('--generate-only')) {
    if (!process.argv.includes('--import-only')) await measureQueries();
    if (!process.argv.includes('--no-import')) await measureImport();
  }
  printResults(await databaseSize());
  if (!process.argv.includes('--keep')) await dropDatabase();
}

await main();
