import { describe, expect, it } from 'vitest';
import { createWorkQueue, QueueFullError } from '../../src/slack/work-queue.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('createWorkQueue', () => {
  it('runs jobs one at a time, in order', async () => {
    const queue = createWorkQueue({ settleMs: 1, maxSettleMs: 5 });
    const order: string[] = [];
    let running = 0;
    const job = (name: string) =>
      queue.run(name, async () => {
        running++;
        expect(running).toBe(1);
        await sleep(5);
        order.push(name);
        running--;
        return name;
      });
    expect(await Promise.all([job('a'), job('b'), job('c')])).toEqual(['a', 'b', 'c']);
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('counts idle time from the last request or job, and none while work waits', async () => {
    const queue = createWorkQueue({ settleMs: 1, maxSettleMs: 5 });
    let release: () => void = () => undefined;
    const job = queue.run('stats', () => new Promise<void>((r) => (release = r)));
    await sleep(20);
    expect(queue.idleMs()).toBe(0);
    release();
    await job;
    await sleep(30);
    expect(queue.idleMs()).toBeGreaterThanOrEqual(25);
    queue.noteActivity();
    expect(queue.idleMs()).toBeLessThan(10);
  });

  it('turns work away when too much is waiting', async () => {
    const queue = createWorkQueue({ settleMs: 1, maxSettleMs: 5, maxPending: 1 });
    const first = queue.run('a', () => sleep(10));
    const second = queue.run('b', () => sleep(10));
    await expect(second).rejects.toBeInstanceOf(QueueFullError);
    await first;
  });
});
