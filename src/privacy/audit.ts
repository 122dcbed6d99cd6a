/**
 * The audit log: one entry per admin action (import, forget, export, encryption change, someone else's digest
 * changed, retention purge) in the store's audit log, saying who did what and when. Entries never hold personal data
 * of the audience: counts and file names, not ids, handles or values.
 */

import { UserError } from '../domain/errors.ts';
import type { Invocation } from '../domain/reply.ts';
import type { AuditEntry } from '../domain/types.ts';
import type { StoreChange } from '../store/store.ts';

/** Entries kept; the oldest are dropped beyond this, so the log cannot grow the data file without bound. */
export const MAX_AUDIT_ENTRIES = 100_000;

/** Who an invocation is, as the audit log names it: the Slack user id, or `cli` / `console` (local operator). */
export function auditActor(invocation: Pick<Invocation, 'userId' | 'surface'>): string {
  return invocation.surface === 'slack' ? invocation.userId : invocation.surface;
}

/** One audit entry; `detail` must not contain personal data. */
export function auditEntry(actor: string, action: string, detail: string, at: number): AuditEntry {
  return { at, actor, action, detail };
}

/** Appends an entry within a store change, dropping the oldest beyond MAX_AUDIT_ENTRIES. */
export function appendAudit(tx: Pick<StoreChange, 'appendAudit'>, entry: AuditEntry): Promise<void> {
  return tx.appendAudit(entry, MAX_AUDIT_ENTRIES);
}

/** Raised for an unreadable `--since`. */
export class AuditError extends UserError {
  override name = 'AuditError';
  readonly code = 'audit_since';
}

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `7d`, `24h`, `30m`, `2w` (before `now`) or an ISO date, as epoch ms. */
export function parseSince(text: string, now: number): number {
  const match = /^(\d+)\s*([mhdw])$/i.exec(text.trim());
  if (match) return now - Number(match[1]) * (UNITS[(match[2] as string).toLowerCase()] as number);
  const at = Date.parse(text);
  if (!Number.isNaN(at) && /^\d{4}-\d{2}-\d{2}/.test(text.trim())) return at;
  throw new AuditError(`--since ${text}: use a duration such as 7d, 24h, 2w, or a date such as 2026-05-01`);
}

/** The entries at or after `since`, oldest first, one per line: time, who, action, detail. */
export function formatAudit(entries: readonly AuditEntry[], since: number | null): string {
  const shown = entries.filter((e) => since === null || e.at >= since).sort((a, b) => a.at - b.at);
  if (shown.length === 0)
    return since === null ? 'The audit log is empty.' : 'No audit entries in that period.';
  const actorWidth = Math.min(14, Math.max(...shown.map((e) => e.actor.length)));
  const actionWidth = Math.min(18, Math.max(...shown.map((e) => e.action.length)));
  return shown
    .map(
      (e) =>
        `${new Date(e.at).toISOString().replace('.000Z', 'Z')}  ${e.actor.padEnd(actorWidth)}  ${e.action.padEnd(actionWidth)}  ${e.detail}`,
    )
    .join('\n');
}
