/**
 * The import progress bar (on a terminal only: piped output and CI logs stay clean). Its time left comes from a
 * smoothed rate: cli-progress divides by the last few updates, and an import's speed swings as batches and
 * garbage collections come and go, so its ETA jumped between seconds and minutes.
 */
import type { Writable } from 'node:stream';
import { Presets, SingleBar } from 'cli-progress';

/** Progress as the importer reports it. */
export interface ImportProgress {
  bytesRead: number;
  totalBytes: number;
  rows: number;
}

/** Seconds left from an exponentially smoothed rate, re-estimated at most every `intervalMs`. */
export class EtaEstimator {
  private rate: number | null = null;
  private lastAt: number | null = null;
  private lastDone = 0;
  private eta: number | null = null;

  constructor(
    private readonly intervalMs = 500,
    /** Weight of the newest interval's rate (0..1): lower is smoother. */
    private readonly weight = 0.2,
  ) {}

  /** Records `done` of `total` at time `now` (ms) and returns the seconds left, or null while unknown. */
  update(done: number, total: number, now: number): number | null {
    if (this.lastAt === null) {
      this.lastAt = now;
      this.lastDone = done;
      return null;
    }
    const elapsed = now - this.lastAt;
    if (elapsed >= this.intervalMs) {
      const current = ((done - this.lastDone) * 1000) / elapsed;
      this.rate = this.rate === null ? current : this.rate + this.weight * (current - this.rate);
      this.lastAt = now;
      this.lastDone = done;
      this.eta = this.rate > 0 ? Math.max(0, total - done) / this.rate : null;
    }
    return this.eta;
  }
}

/** "45s", "3m 05s", or "…" while unknown. */
export function formatSecondsLeft(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '…';
  const whole = Math.ceil(seconds);
  if (whole < 60) return `${whole}s`;
  return `${Math.floor(whole / 60)}m ${String(whole % 60).padStart(2, '0')}s`;
}

/** A progress bar for imports on `stream`; `stop()` may be called more than once. */
export function progressBar(stream: Writable) {
  const bar = new SingleBar(
    {
      format: 'importing [{bar}] {percentage}% | {rows} rows | {left} left',
      hideCursor: true,
      stream,
    },
    Presets.shades_classic,
  );
  const eta = new EtaEstimator();
  let started = false;
  let stopped = false;
  return {
    update: (p: ImportProgress) => {
      if (stopped) return;
      if (!started) {
        bar.start(Math.max(1, p.totalBytes), 0, { rows: 0, left: '…' });
        started = true;
      }
      const left = formatSecondsLeft(eta.update(p.bytesRead, p.totalBytes, Date.now()));
      bar.update(p.bytesRead, { rows: p.rows.toLocaleString('en-US'), left });
    },
    stop: () => {
      if (started && !stopped) bar.stop();
      stopped = true;
    },
  };
}
