/** Shared helpers for the importer tests: temp dirs, real stores, fixture paths. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FileStore, openStore } from '../../src/store/store.ts';

/** Absolute path of a file in test/import/fixtures. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

/** A fresh temp directory with a store in it; `cleanup` closes the store and removes the directory. */
export async function tempStore(): Promise<{
  dir: string;
  store: FileStore;
  write: (name: string, text: string) => Promise<string>;
  fileBytes: () => Promise<Buffer>;
  cleanup: () => Promise<void>;
}> {
  const dir = await mkdtemp(path.join(tmpdir(), 'audience-import-'));
  const file = path.join(dir, 'audience.json');
  const store = await openStore({ file, flushDelayMs: 5, onNotice: () => undefined });
  return {
    dir,
    store,
    write: async (name, text) => {
      const target = path.join(dir, name);
      await writeFile(target, text);
      return target;
    },
    fileBytes: () => readFile(file),
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A fixed clock for imports. */
export const NOW = new Date('2024-06-01T12:00:00Z');
