/**
 * The outcome queue of a delivery batch (src/digest/send.ts): outcomes of posts are saved with the next save, and
 * a save that fails (on PostgreSQL a deadlock rolls it back) must leave them queued, not drop them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createOutcomeQueue } from '../../src/digest/send.ts';
import { usePostgresSchema } from '../support/postgres.ts';
import { type Backend, fileBackend, postgresBackend } from '../support/store-backends.ts';

const record = (key: string, status: 'delivered' | 'started') => ({
  key,
  schedule_id: key.split(':')[0] ?? key,
  status,
  at: Date.UTC(2026, 5, 1, 9),
  detail: status,
});

const postgres = postgresBackend(usePostgresSchema('outcome_queue'));

describe.each<Backend>([fileBackend, postgres])('digest outcome queue: $name backend', (backend) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it.skipIf(backend.skip)(
    'keeps outcomes when the save carrying them fails, and saves them once with the next',
    async () => {
      const { store, cleanup } = await backend.open();
      cleanups.push(async () => {
        await store.close();
        await cleanup();
      });
      const queue = createOutcomeQueue();
      queue.push((tx) => tx.putDelivery(record('a:1', 'delivered')));
      const failing = queue.save(store, async () => {
        // Pushed while the save runs: belongs to the next save, whatever becomes of this one.
        queue.push((tx) => tx.putDelivery(record('b:1', 'delivered')));
        throw new Error('deadlock detected');
      });
      await expect(failing).rejects.toThrow('deadlock detected');

      await queue.save(store, (tx) => tx.putDelivery(record('c:1', 'started')));
      const saved = await store.digests.deliveries();
      expect(saved.map((d) => `${d.key} ${d.status}`).sort()).toEqual([
        'a:1 delivered',
        'b:1 delivered',
        'c:1 started',
      ]);
      // Nothing is left queued: a later save runs only its own change.
      let applied = 0;
      queue.push(async () => {
        applied++;
      });
      await queue.save(store, async () => undefined);
      await queue.save(store, async () => undefined);
      expect(applied).toBe(1);
    },
  );
});
