/**
 * Who may change a digest schedule, decided in this one place: its owner, or an admin. Admins are the
 * ADMIN_USER_IDS, and the operator at the local console or CLI, who holds the data file anyway (see
 * privacy/roles.ts, which defines who acts as an admin for every command).
 */
import type { AppConfig } from '../config.ts';
import type { Invocation } from '../domain/reply.ts';
import type { DigestSchedule } from '../domain/types.ts';
import { actsAsAdmin } from '../privacy/roles.ts';

/** Who is acting: a Slack user, or the operator at the console or CLI. */
export type Actor = Pick<Invocation, 'userId' | 'surface'>;

/** The part of the configuration that names admins. */
export type DigestPolicy = Pick<AppConfig, 'adminUserIds'>;

/** No admins configured: owners only (and the local operator). */
export const OWNERS_ONLY: DigestPolicy = { adminUserIds: [] };

/** The policy of a configuration: its ADMIN_USER_IDS are admins. */
export function digestPolicy(config: Pick<AppConfig, 'adminUserIds'>): DigestPolicy {
  return { adminUserIds: config.adminUserIds ?? [] };
}

/** Whether `actor` may pause, resume, delete, run or retry `schedule`. */
export function canManage(
  schedule: Pick<DigestSchedule, 'owner_id'>,
  actor: Actor,
  policy: DigestPolicy = OWNERS_ONLY,
): boolean {
  return actor.userId === schedule.owner_id || actsAsAdmin(policy, actor);
}
