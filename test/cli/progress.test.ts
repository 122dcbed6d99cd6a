import { describe, expect, it } from 'vitest';
import { EtaEstimator, formatSecondsLeft } from '../../src/cli/progress.ts';

describe('the import progress ETA', () => {
  it('stays steady when the rate swings from one update to the next', () => {
    const eta = new EtaEstimator(500, 0.2);
    const total = 100_000_000;
    let done = 0;
    const estimates: number[] = [];
    // 1 MB/s on average, alternating between 0.2 and 1.8 MB/s every half second.
    for (let i = 1; i <= 40; i++) {
      done += i % 2 === 0 ? 100_000 : 900_000;
      const left = eta.update(done, total, i * 500);
      if (i > 10 && left !== null) estimates.push(left);
    }
    const lo = Math.min(...estimates);
    const hi = Math.max(...estimates);
    // Unsmoothed, the estimate would jump between about 55 s and 500 s.
    expect(hi / lo).toBeLessThan(1.6);
  });

  it('knows nothing before a first interval and nothing left at the end', () => {
    const eta = new EtaEstimator(500);
    expect(eta.update(0, 1000, 0)).toBeNull();
    expect(eta.update(10, 1000, 100)).toBeNull();
    expect(eta.update(1000, 1000, 1000)).toBe(0);
  });

  it('reads as seconds, then minutes and seconds', () => {
    expect(formatSecondsLeft(null)).toBe('…');
    expect(formatSecondsLeft(44.2)).toBe('45s');
    expect(formatSecondsLeft(185)).toBe('3m 05s');
  });
});
