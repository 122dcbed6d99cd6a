/**
 * Encryption-at-rest overhead: writes and loads the same audience through the store, plain and encrypted
 * (AES-256-GCM frames, see src/store/encryption.ts), alternating the two so load on the machine hits both
 * alike, and prints medians of wall and CPU time; then the cost of the cipher alone over the same bytes.
 * Run: npx tsx bench/encryption-bench.ts [profiles] [runs]   (default 100000 profiles, 3 runs)
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateSample } from '../src/sample/generate.ts';
import { encodeAudienceData } from '../src/store/codec.ts';
import { encryptLines, openEncryptedFile } from '../src/store/encryption.ts';
import { type FileStore, markAudienceChanged, openStore } from '../src/store/store.ts';

const profiles = Number(process.argv[2] ?? 100_000);
const runs = Number(process.argv[3] ?? 3);
const key = randomBytes(32);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** Wall and CPU milliseconds of one async step. */
async function timed(step: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await step();
  const used = process.cpuUsage(cpu);
  return { wall: performance.now() - started, cpu: (used.user + used.system) / 1000 };
}

const dir = await mkdtemp(path.join(tmpdir(), 'encryption-bench-'));
try {
  const sample = generateSample({ profiles, seed: 1, end: new Date('2026-06-01T00:00:00Z') });
  const kinds = [
    { label: 'plain', key: null as Buffer | null },
    { label: 'encrypted', key },
  ];
  const stores = new Map<string, FileStore>();
  for (const k of kinds) {
    const store = await openStore({
      file: path.join(dir, `${k.label}.db`),
      flushDelayMs: 60_000,
      encryption: { key: k.key },
      onNotice: () => undefined,
    });
    stores.set(k.label, store);
  }
  const results = new Map(
    kinds.map((k) => [
      k.label,
      { write: [] as number[], writeCpu: [] as number[], load: [] as number[], loadCpu: [] as number[] },
    ]),
  );
  for (let i = 0; i <= runs; i++) {
    for (const k of kinds) {
      const store = stores.get(k.label) as FileStore;
      const t = await timed(() =>
        store.commit((d) => {
          d.profiles = sample.profiles;
          d.products = sample.products;
          d.interactions = sample.interactions;
          d.attributes = sample.attributes;
          markAudienceChanged(d, new Date());
        }),
      );
      // The first round warms up (JIT, page cache) and is not counted.
      if (i > 0) {
        results.get(k.label)?.write.push(t.wall);
        results.get(k.label)?.writeCpu.push(t.cpu);
      }
    }
  }
  for (const store of stores.values()) await store.close();
  for (let i = 0; i <= runs; i++) {
    for (const k of kinds) {
      const t = await timed(async () => {
        const s = await openStore({
          file: path.join(dir, `${k.label}.db`),
          encryption: { key: k.key },
          onNotice: () => undefined,
        });
        await s.close();
      });
      if (i > 0) {
        results.get(k.label)?.load.push(t.wall);
        results.get(k.label)?.loadCpu.push(t.cpu);
      }
    }
  }
  process.stdout.write(
    `${profiles.toLocaleString('en-US')} profiles, ${sample.interactions.length.toLocaleString('en-US')} interactions; median of ${runs} alternating runs\n\n`,
  );
  process.stdout.write('| file | size MB | write ms (cpu) | load ms (cpu) |\n|---|---|---|---|\n');
  const row = new Map<
    string,
    { size: number; write: number; writeCpu: number; load: number; loadCpu: number }
  >();
  for (const k of kinds) {
    const r = results.get(k.label) as {
      write: number[];
      writeCpu: number[];
      load: number[];
      loadCpu: number[];
    };
    const size = (await stat(path.join(dir, `${k.label}.db`))).size / 1e6;
    const m = {
      size,
      write: median(r.write),
      writeCpu: median(r.writeCpu),
      load: median(r.load),
      loadCpu: median(r.loadCpu),
    };
    row.set(k.label, m);
    process.stdout.write(
      `| ${k.label} | ${size.toFixed(1)} | ${m.write.toFixed(0)} (${m.writeCpu.toFixed(0)}) | ${m.load.toFixed(0)} (${m.loadCpu.toFixed(0)}) |\n`,
    );
  }

  // The cipher alone, over the same encoded bytes: the floor of what encryption can add.
  const lines = encodeAudienceData({
    ...(await (async () => {
      const s = await openStore({ file: path.join(dir, 'plain.db'), onNotice: () => undefined });
      const data = s.data;
      await s.close();
      return data;
    })()),
  });
  const bytes = lines.reduce((n, l) => n + l.length, 0);
  const enc = await timed(async () => {
    for (const _ of encryptLines(lines, key)) {
      // consume
    }
  });
  const dec = await timed(async () => {
    const { chunks } = await openEncryptedFile(path.join(dir, 'encrypted.db'), [key]);
    for await (const _ of chunks) {
      // consume
    }
  });
  process.stdout.write(
    `\ncipher alone over ${(bytes / 1e6).toFixed(1)} MB: encrypt ${enc.wall.toFixed(0)} ms (cpu ${enc.cpu.toFixed(0)}), ` +
      `read+decrypt+verify ${dec.wall.toFixed(0)} ms (cpu ${dec.cpu.toFixed(0)})\n`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
