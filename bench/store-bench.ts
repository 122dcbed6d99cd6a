/**
 * Store benchmark: writes synthetic audiences of several sizes through the store, then loads each file in a
 * fresh child process (bench/store-load-child.ts) so load time and peak RSS are measured cleanly.
 * Run: npx tsx bench/store-bench.ts [sizes…]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  type AudienceData,
  emptyAudienceData,
  INTERACTION_TYPES,
  type Interaction,
  type Product,
  type Profile,
} from '../src/domain/types.ts';
import { markAudienceChanged, openStore, SCHEMA_VERSION } from '../src/store/store.ts';

/** One measured size. */
export interface Row {
  profiles: number;
  writeMs: number;
  loadMs: number;
  /** CPU time of the load (all threads); wall time suffers more when the machine is busy. */
  loadCpuMs: number;
  fileMB: number;
  peakRssMB: number;
}

const PLATFORMS = ['instagram', 'tiktok', 'youtube', 'x', 'facebook', null] as const;
const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'BR', 'IN', 'JP', 'CA', 'AU', 'ES', 'MX', 'IT'] as const;
const INTERESTS = [
  'fitness',
  'travel',
  'food',
  'fashion',
  'gaming',
  'music',
  'tech',
  'beauty',
  'sports',
  'finance',
  'parenting',
  'pets',
  'diy',
  'books',
  'film',
  'art',
  'photography',
  'outdoors',
  'cars',
  'crypto',
] as const;
const TIERS = ['free', 'plus', 'pro', 'team'] as const;
const DAY = 86_400_000;
const NOW = Date.UTC(2025, 5, 1);

/** mulberry32: small, fast, seeded. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(list: readonly T[], r: number): T {
  return list[Math.floor(r * list.length)] as T;
}

/** A synthetic audience: `profiles` profiles (3 interests, 2 custom attrs), ~2 interactions each, 500 products. */
export function makeSyntheticAudience(profiles: number, seed = 42): AudienceData {
  const random = rng(seed);
  const data = emptyAudienceData(SCHEMA_VERSION);
  data.attributes = { age: 'number', tier: 'category' };
  const people = new Array<Profile>(profiles);
  for (let i = 0; i < profiles; i++) {
    const created = NOW - Math.floor(random() * 3 * 365 * DAY);
    const interests = [pick(INTERESTS, random()), pick(INTERESTS, random()), pick(INTERESTS, random())];
    people[i] = {
      id: `u${String(i).padStart(7, '0')}`,
      platform: pick(PLATFORMS, random()),
      country: pick(COUNTRIES, random()),
      created_at: created,
      last_active_at: random() < 0.05 ? null : created + Math.floor(random() * (NOW - created)),
      followers: Math.floor(Math.exp(random() * 12)),
      interests,
      attrs: { age: 18 + Math.floor(random() * 52), tier: pick(TIERS, random()) },
    };
  }
  const products = new Array<Product>(500);
  for (let i = 0; i < products.length; i++) {
    products[i] = {
      id: `p${String(i).padStart(4, '0')}`,
      name: `Product ${i}`,
      category: pick(['apparel', 'beauty', 'home', 'tech', 'food'], random()),
      price: Math.round(random() * 20_000) / 100,
      in_stock: random() < 0.9,
    };
  }
  const count = profiles * 2;
  const events = new Array<Interaction>(count);
  let timestamp = NOW - 90 * DAY;
  const step = (90 * DAY) / Math.max(1, count);
  for (let i = 0; i < count; i++) {
    timestamp += Math.floor(random() * 2 * step);
    const type = pick(INTERACTION_TYPES, random());
    const product = random() < 0.8 ? (products[Math.floor(random() * products.length)] as Product) : null;
    events[i] = {
      user_id: (people[Math.floor(random() * profiles)] as Profile).id,
      item_id: product?.id ?? null,
      type,
      value:
        type === 'purchase'
          ? (product?.price ?? 10)
          : type === 'rating'
            ? 1 + Math.floor(random() * 5)
            : null,
      timestamp,
    };
  }
  data.profiles = people;
  data.products = products;
  data.interactions = events;
  return data;
}

interface ChildResult {
  loadMs: number;
  loadCpuMs: number;
  rssPeakMB: number;
  profiles: number;
}

function loadInChild(file: string): Promise<ChildResult> {
  const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'store-load-child.ts');
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => {
      out += chunk;
    });
    proc.on('error', reject);
    proc.on('close', (code) => {
      if (code !== 0) return reject(new Error(`load child exited with ${code}`));
      const last = out.trim().split('\n').pop() ?? '';
      resolve(JSON.parse(last) as ChildResult);
    });
  });
}

/** Writes and loads each size; returns one row per size. */
export async function runStoreBench(sizes: number[] = [10_000, 100_000, 1_000_000]): Promise<Row[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'store-bench-'));
  const rows: Row[] = [];
  try {
    for (const size of sizes) {
      const file = path.join(dir, `audience-${size}.db`);
      let source: AudienceData | null = makeSyntheticAudience(size);
      const store = await openStore({ file, onNotice: () => undefined });
      const started = performance.now();
      await store.commit((data) => {
        const s = source as AudienceData;
        data.attributes = s.attributes;
        data.profiles = s.profiles;
        data.products = s.products;
        data.interactions = s.interactions;
        markAudienceChanged(data, new Date(NOW), 'sample');
      });
      const writeMs = performance.now() - started;
      await store.close();
      source = null;
      const fileMB = (await stat(file)).size / 1024 / 1024;
      const loaded = await loadInChild(file);
      if (loaded.profiles !== size) throw new Error(`loaded ${loaded.profiles} profiles, wrote ${size}`);
      rows.push({
        profiles: size,
        writeMs,
        loadMs: loaded.loadMs,
        loadCpuMs: loaded.loadCpuMs,
        fileMB,
        peakRssMB: loaded.rssPeakMB,
      });
      await rm(file, { force: true });
      await rm(`${file}.bak`, { force: true });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}

function label(n: number): string {
  return n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1_000 ? `${n / 1_000}k` : String(n);
}

/** The printed report: a table, then each target with its ratio (below 1x is within target). */
export function formatStoreBench(rows: readonly Row[]): string {
  const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const lines = [
    'profiles  interactions     write   load (wall)   load (cpu)   file MB   peak RSS MB',
    ...rows.map(
      (r) =>
        `${label(r.profiles).padEnd(9)} ${label(r.profiles * 2).padEnd(12)} ${secs(r.writeMs).padStart(9)} ` +
        `${secs(r.loadMs).padStart(13)} ${secs(r.loadCpuMs).padStart(12)} ${r.fileMB.toFixed(1).padStart(9)} ` +
        `${r.peakRssMB.toFixed(0).padStart(13)}`,
    ),
    '',
  ];
  const target = (name: string, value: number, limit: number, unit: string, digits: number) =>
    `${name}: ${value.toFixed(digits)} ${unit} (target ${limit} ${unit}, ${(value / limit).toFixed(2)}x)`;
  for (const r of rows) {
    if (r.profiles === 100_000) lines.push(target('load 100k', r.loadMs / 1000, 0.4, 's', 2));
    if (r.profiles === 1_000_000) {
      lines.push(target('load 1M', r.loadMs / 1000, 5, 's', 2));
      lines.push(target('peak RSS 1M', r.peakRssMB, 1536, 'MB', 0));
    }
  }
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => n > 0);
  const rows = await runStoreBench(sizes.length > 0 ? sizes : undefined);
  console.log(formatStoreBench(rows));
}
