/**
 * Retention: with RETENTION_DAYS set, interactions older than that are deleted at start and then once a day,
 * logged and audited. `purgeExpiredInteractions` is the pure rule (the digest scheduler may call it from its
 * own daily run instead); `startRetention` is the app's own daily timer.
 */
import type { AppConfig } from '../config.ts';
import type { AudienceData, Clock, Interaction } from '../domain/types.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import { appendAudit, auditEntry } from './audit.ts';

const DAY_MS = 86_400_000;

/** The interactions to keep under a retention of `days` at `now`, how many go, and the cut-off instant. */
export function purgeExpiredInteractions(
  data: Pick<AudienceData, 'interactions'>,
  now: number,
  days: number,
): { interactions: Interaction[]; removed: number; cutoff: number } {
  const cutoff = retentionCutoff(now, days);
  const interactions = data.interactions.filter((i) => !(i.timestamp < cutoff));
  return { interactions, removed: data.interactions.length - interactions.length, cutoff };
}

/** The instant before which interactions expire under a retention of `days` at `now`. */
export function retentionCutoff(now: number, days: number): number {
  return now - days * DAY_MS;
}

/**
 * Applies the retention rule once: removes expired interactions durably (and from the .bak), bumps the data
 * version, appends an audit entry and logs; returns how many were removed (0 when retention is off).
 */
export async function runRetention(deps: {
  store: Store;
  config: Pick<AppConfig, 'retentionDays'>;
  clock: Clock;
  logger: Logger;
  actor?: string;
}): Promise<number> {
  const days = deps.config.retentionDays;
  if (days === null) return 0;
  const now = deps.clock();
  const cutoff = retentionCutoff(now.getTime(), days);
  // Most days nothing expires: look before starting a change that rewrites the file and its .bak.
  if ((await deps.store.audience.interactions({ to: cutoff })).length === 0) return 0;
  const removed = await deps.store.change(
    async (tx) => {
      const n = await tx.removeInteractionsBefore(cutoff);
      if (n === 0) return 0;
      await appendAudit(
        tx,
        auditEntry(
          deps.actor ?? 'retention',
          'retention.purge',
          `${n} interactions older than ${days} days (before ${new Date(cutoff).toISOString()})`,
          now.getTime(),
        ),
      );
      return n;
    },
    { now, scrubBackup: true },
  );
  if (removed > 0) {
    deps.logger.info('retention: purged expired interactions', {
      removed,
      days,
      before: new Date(cutoff).toISOString(),
    });
  }
  return removed;
}

/**
 * Runs retention now and then every `intervalMs` (default a day) until stopped; failures are logged and
 * retried at the next run. Does nothing when RETENTION_DAYS is not set. The timer never keeps the process up.
 */
export function startRetention(deps: {
  store: Store;
  config: Pick<AppConfig, 'retentionDays'>;
  clock: Clock;
  logger: Logger;
  intervalMs?: number;
}): { stop(): void; runNow(): Promise<number> } {
  let running: Promise<number> | null = null;
  const runNow = (): Promise<number> => {
    running ??= runRetention(deps)
      .catch((error: unknown) => {
        deps.logger.error('retention run failed; retrying at the next run', { error });
        return 0;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
  if (deps.config.retentionDays === null) return { stop: () => undefined, runNow };
  void runNow();
  const timer = setInterval(() => void runNow(), deps.intervalMs ?? DAY_MS);
  timer.unref();
  return { stop: () => clearInterval(timer), runNow };
}
