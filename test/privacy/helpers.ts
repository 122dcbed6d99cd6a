/** Shared helpers for the privacy tests: temp dirs, a configuration, a real store with the sample, file greps. */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type AppConfig, loadConfig } from '../../src/config.ts';
import type { Profile } from '../../src/domain/types.ts';
import { isPseudonym } from '../../src/privacy/pseudonym.ts';
import { loadSample } from '../../src/sample/load.ts';
import { type FileStore, type OpenStoreOptions, openStore } from '../../src/store/store.ts';

/** The pinned "now" of the privacy tests. */
export const NOW = new Date('2026-06-01T09:00:00Z');
/** A pseudonym key for tests (never a real one). */
export const PSEUDONYM_KEY = 'test-pseudonym-key-0123456789';

/** A fresh temp directory and its cleanup. */
export async function tempDir(
  prefix = 'audience-privacy-',
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A configuration for a data file in `dir`, with a fixed clock and pseudonym key; `env` adds or overrides. */
export function testConfig(dir: string, env: Record<string, string> = {}): AppConfig {
  return loadConfig({
    DATA_FILE: path.join(dir, 'audience.db'),
    FIXED_NOW: NOW.toISOString(),
    PSEUDONYM_KEY,
    ...env,
  });
}

/** Opens the store of `config` (quiet), optionally loading `profiles` sample profiles first. */
export async function sampleStore(
  config: AppConfig,
  options: {
    profiles?: number;
    seed?: number;
    /** See `SampleOptions.buyerShare` (default: the sample's own ~5% buyers a month). */
    buyerShare?: number;
    encryption?: OpenStoreOptions['encryption'];
  } = {},
): Promise<FileStore> {
  const store = await openStore({
    file: config.dataFile,
    flushDelayMs: 5,
    onNotice: () => undefined,
    ...(options.encryption ? { encryption: options.encryption } : {}),
  });
  if (options.profiles)
    await loadSample(store, {
      profiles: options.profiles,
      seed: options.seed ?? 3,
      now: NOW,
      ...(options.buyerShare === undefined ? {} : { buyerShare: options.buyerShare }),
    });
  return store;
}

/** Every file in `dir` with its bytes (data file, .bak, temp files, key files…). */
export async function filesIn(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const name of await readdir(dir)) out.set(name, await readFile(path.join(dir, name)));
  return out;
}

/** The names of the files in `dir` whose bytes contain `needle` (UTF-8, case-insensitive for ASCII). */
export async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const hits: string[] = [];
  for (const [name, bytes] of await filesIn(dir)) {
    if (bytes.toString('latin1').toLowerCase().includes(Buffer.from(needle.toLowerCase()).toString('latin1')))
      hits.push(name);
  }
  return hits;
}

/** Everything a person would see of a reply: fallback text, blocks and the machine-readable data. */
export function visible(reply: { text: string; blocks: unknown; data?: unknown }): string {
  return JSON.stringify([reply.text, reply.blocks, reply.data ?? null]);
}

/** Every pseudonym stored for these profiles (to check they are gone after forgetting them). */
export function pseudonymsOf(profiles: readonly Profile[], ids: ReadonlySet<string>): string[] {
  const out = new Set<string>();
  for (const p of profiles) {
    if (!ids.has(p.id)) continue;
    for (const key in p.attrs) {
      const v = p.attrs[key];
      if (isPseudonym(v)) out.add(v);
      else if (Array.isArray(v)) for (const x of v) if (isPseudonym(x)) out.add(x);
    }
  }
  return [...out];
}
