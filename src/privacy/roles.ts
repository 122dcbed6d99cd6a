/**
 * Roles and where the app answers. Admins (ADMIN_USER_IDS) may import, forget people, export per-person data
 * and manage anyone's digests; everyone else gets aggregate answers (per-person answers stay private to the
 * asker and are never shared). The CLI and the local console act as an admin: whoever runs them already holds
 * the data file. With ALLOWED_CHANNEL_IDS set, Slack requests from other channels are politely refused
 * (direct messages with the app stay allowed: their answers are private anyway). Digest permissions
 * (owner or admin) live in digest/permissions.ts and read the same ADMIN_USER_IDS.
 */

import type { AppConfig } from '../config.ts';
import type { Invocation, ParsedArgs } from '../domain/reply.ts';

type RoleConfig = Pick<AppConfig, 'adminUserIds'>;

/** Whether a Slack user id is configured as an admin. */
export function isAdmin(config: RoleConfig, userId: string): boolean {
  return config.adminUserIds.includes(userId);
}

/** Whether whoever invoked a command has admin rights: a configured admin, or the local operator (CLI, console). */
export function actsAsAdmin(config: RoleConfig, actor: Pick<Invocation, 'userId' | 'surface'>): boolean {
  return actor.surface !== 'slack' || isAdmin(config, actor.userId);
}

/** Subcommands only admins may run, why, and whether the wrapper audits them (forget writes its own entry). */
export const ADMIN_COMMANDS: Readonly<Record<string, { why: string; audit: boolean }>> = {
  forget: { why: "it deletes a person's data", audit: false },
  export: { why: 'it hands out one row per person', audit: true },
  // In Slack `import` only explains how to run one with the CLI (which audits the import itself): no entry.
  import: { why: 'it changes the audience data', audit: false },
  // The connect form stores a platform token; the connection itself is audited when it is stored.
  connect: { why: 'it stores a platform token and starts collecting data', audit: false },
};

/** Why a non-admin may not run `command`, with who can; null when allowed. */
export function adminRefusal(config: RoleConfig, command: string, invocation: Invocation): string | null {
  const rule = Object.hasOwn(ADMIN_COMMANDS, command) ? ADMIN_COMMANDS[command] : undefined;
  if (!rule || actsAsAdmin(config, invocation)) return null;
  const who =
    config.adminUserIds.length > 0
      ? `ask one of the admins (${config.adminUserIds
          .slice(0, 5)
          .map((id) => `<@${id}>`)
          .join(', ')}${config.adminUserIds.length > 5 ? ', …' : ''})`
      : 'no admins are set up yet (ADMIN_USER_IDS), so it only runs from the `audience` CLI on the server';
  return `only Audience Insights admins can run /audience ${command}, because ${rule.why}; ${who}`;
}

/** Whether the app may answer in this conversation (ALLOWED_CHANNEL_IDS; direct messages always). */
export function channelAllowed(
  config: Pick<AppConfig, 'allowedChannelIds'>,
  invocation: Invocation,
): boolean {
  const allowed = config.allowedChannelIds;
  if (allowed === null || invocation.surface !== 'slack') return true;
  const channel = invocation.channelId;
  if (channel === null || channel.startsWith('D')) return true;
  return allowed.includes(channel);
}

/** Why the app does not answer in this channel, and where it does (mrkdwn with channel mentions). */
export function channelRefusal(config: Pick<AppConfig, 'allowedChannelIds'>): string {
  const where = (config.allowedChannelIds ?? [])
    .slice(0, 5)
    .map((id) => `<#${id}>`)
    .join(', ');
  return `Audience Insights is not enabled in this channel. Use it in ${where || 'the channels your admins set up'}, or in a direct message with the app.`;
}

/** Whether a successful run of `command` is written to the audit log by the admin guard. */
export function auditedByGuard(command: string): boolean {
  return Object.hasOwn(ADMIN_COMMANDS, command) && ADMIN_COMMANDS[command]?.audit === true;
}

/** A command's words for the audit log, with anything that may name a person replaced. */
export function describeArgs(args: ParsedArgs): string {
  const words = [
    args.subcommand,
    ...args.positional.map((w) => (/^[\w-]{1,40}$/.test(w) && !w.includes('@') ? w : '[value]')),
    ...Object.entries(args.options).map(([k, v]) =>
      ['user', 'where'].includes(k) || !/^[\w.,-]{0,40}$/.test(v) ? `${k}=[value]` : `${k}=${v}`,
    ),
  ];
  return words.join(' ');
}
