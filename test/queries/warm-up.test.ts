import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { startWarmUp, type WarmUpQueue } from '../../src/queries/warm-up.ts';
import { generateSample } from '../../src/sample/generate.ts';
import { storeSample } from '../../src/sample/load.ts';
import { createWorkQueue } from '../../src/slack/work-queue.ts';
import { type FileStore, markAudienceChanged, openStore } from '../../src/store/store.ts';

const NOW = new Date('2026-06-01T00:00:00Z');

describe('startWarmUp', () => {
  let dir: string;
  let store: FileStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'audience-warm-'));
    store = await openStore({ file: join(dir, 'audience.db'), flushDelayMs: 10, onNotice: () => undefined });
    // A busier shop than the default ~5% buyers a month: the prediction model needs 20 purchasers among the 300.
    const sample = generateSample({ profiles: 300, seed: 7, end: NOW, buyerShare: 0.2 });
    await storeSample(store, sample, NOW);
  });

  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The real work queue, recording which kinds of job ran, in order. */
  function recordingQueue(): WarmUpQueue & { ran: string[]; inner: ReturnType<typeof createWorkQueue> } {
    const inner = createWorkQueue({ settleMs: 1, maxSettleMs: 5 });
    const ran: string[] = [];
    return {
      ran,
      inner,
      run: (kind, fn) =>
        inner.run(kind, () => {
          ran.push(kind);
          return fn();
        }),
      get pending() {
        return inner.pending;
      },
      idleMs: () => inner.idleMs(),
    };
  }

  const start = (queue: WarmUpQueue, timing: { checkEveryMs?: number; quietMs?: number } = {}) =>
    startWarmUp({
      store,
      clock: () => NOW,
      currency: 'EUR',
      queue,
      logger: createLogger('error'),
      ...timing,
    });

  const kinds = (s: FileStore) =>
    Object.values(s.data.models)
      .filter((m) => m.data_version === s.data.meta.dataVersion)
      .map((m) => m.kind)
      .sort();

  it('fits the prediction and recommendation models for the current data before anyone asks', async () => {
    const queue = recordingQueue();
    const warm = start(queue);
    try {
      expect(kinds(store)).toEqual([]);
      expect(await warm.whenReady(30_000)).toBe(true);
      expect(warm.ready).toBe(true);
      expect(kinds(store)).toEqual(['prediction', 'recommend']);
      expect(queue.ran.every((k) => k === 'warm-up')).toBe(true);
      // Warm-up never stores a segment run: that is a person's act, compared week over week by digests.
      expect(store.data.segmentRuns).toEqual([]);
    } finally {
      warm.stop();
    }
  });

  it('warms up again after the audience changes', async () => {
    const queue = recordingQueue();
    const warm = start(queue, { checkEveryMs: 20, quietMs: 50 });
    try {
      expect(await warm.whenReady(30_000)).toBe(true);
      const steps = queue.ran.length;
      await store.commit((data) => {
        data.profiles = data.profiles.slice(0, 600);
        markAudienceChanged(data, NOW, 'import');
      });
      expect(await warm.whenReady(30_000)).toBe(true);
      expect(queue.ran.length).toBeGreaterThan(steps);
      // Fitted again on the changed data (kinds() only counts models of the current data version).
      expect(store.data.meta.dataVersion).toBe(2);
      expect(kinds(store)).toEqual(['prediction', 'recommend']);
    } finally {
      warm.stop();
    }
  });

  it('warms up a later change only once nobody has asked anything for a moment', async () => {
    const queue = recordingQueue();
    // The quiet window is far longer than the 10 ms between requests, so a machine busy enough to stall the
    // event loop for a few hundred milliseconds cannot open a gap the warm-up would take for quiet.
    const warm = start(queue, { checkEveryMs: 10, quietMs: 2_000 });
    try {
      expect(await warm.whenReady(30_000)).toBe(true);
      await store.commit((data) => {
        data.profiles = data.profiles.slice(0, 700);
        markAudienceChanged(data, NOW, 'import');
      });
      // Requests keep arriving: the warm-up holds back.
      const busy = setInterval(() => queue.inner.noteActivity(), 10);
      await new Promise((r) => setTimeout(r, 600));
      clearInterval(busy);
      expect(warm.ready).toBe(false);
      expect(await warm.whenReady(30_000)).toBe(true);
    } finally {
      warm.stop();
    }
  });

  it('lets commands already waiting go first', async () => {
    const queue = recordingQueue();
    let release: () => void = () => undefined;
    const command = queue.run('stats', () => new Promise<void>((r) => (release = r)));
    const warm = start(queue, { checkEveryMs: 10 });
    try {
      await new Promise((r) => setTimeout(r, 100));
      expect(queue.ran).toEqual(['stats']);
      release();
      await command;
      expect(await warm.whenReady(30_000)).toBe(true);
      expect(queue.ran[0]).toBe('stats');
      expect(queue.ran.slice(1).every((k) => k === 'warm-up')).toBe(true);
    } finally {
      warm.stop();
    }
  });
});
