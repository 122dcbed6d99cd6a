/**
 * Roles and where the app answers. Admins (ADMIN_USER_IDS) may import, forget people, export per-person data
 * and manage anyone's digests; everyone else gets aggregate answers (per-person answers stay private to the
 * asker and are never shared). The CLI and the local console act as an admin: whoever runs them already holds
 * the data file. With ALLOWED_CHANNEL_IDS set, Slack requests from other channels are politely refused
 * (direct messages with the app stay allowed: their answers are private anyway). Digest permissions
 * (owner or admin) live in digest/permissions.ts and read the same ADMIN_USER_IDS.
 */

import type { Router } from '../../commands/router.ts';
import { fallbackText, section } from '../blocks/kit.ts';
import type { AppConfig } from '../config.ts';
import type { Invocation, ParsedArgs, Reply, Subcommand } from '../domain/reply.ts';
import type { Clock } from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import { appendAudit, auditActor, auditEntry } from './audit.ts';

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
  import: { why: 'it changes the audience data', audit: true },
};

/** Why a non-admin may not run `command`, with who can; null when allowed. */
export function adminRefusal(config: RoleConfig, command: string, invocation: Invocation): string | null {
  const rule = ADMIN_COMMANDS[command];
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

/** The polite refusal for a channel outside ALLOWED_CHANNEL_IDS. */
export function channelRefusal(config: Pick<AppConfig, 'allowedChannelIds'>): Reply {
  const where = (config.allowedChannelIds ?? [])
    .slice(0, 5)
    .map((id) => `<#${id}>`)
    .join(', ');
  return refusal(
    `Audience Insights is not enabled in this channel. Use it in ${where || 'the channels your admins set up'}, or in a direct message with the app.`,
  );
}

/**
 * A refusal reply; the text is mrkdwn built only from our own words and configured Slack ids (validated in
 * config.ts), so mentions like <@U012AB3CD> render. `data.error` keeps it out of the Share flow.
 */
function refusal(text: string): Reply {
  return { text: fallbackText(text), blocks: [section(`:no_entry_sign: ${text}`)], data: { error: text } };
}

/**
 * Wraps the admin-only subcommands: a non-admin gets a refusal that says why and who can; an admin's
 * successful run is audited (actor, command, and the command's words with people references removed).
 */
export function withAdminChecks(
  commands: readonly Subcommand[],
  deps: { store: Store; clock: Clock; config: AppConfig },
): Subcommand[] {
  return commands.map((command) => {
    const rule = ADMIN_COMMANDS[command.name];
    if (!rule) return command;
    return {
      ...command,
      async run(args: ParsedArgs, invocation: Invocation): Promise<Reply> {
        const refused = adminRefusal(deps.config, command.name, invocation);
        if (refused) return refusal(`${refused.charAt(0).toUpperCase()}${refused.slice(1)}.`);
        const reply = await command.run(args, invocation);
        const failed = typeof reply.data === 'object' && reply.data !== null && 'error' in reply.data;
        if (rule.audit && !failed) {
          const entry = auditEntry(
            auditActor(invocation),
            command.name,
            describeArgs(args),
            deps.clock().getTime(),
          );
          await deps.store.change((tx) => appendAudit(tx, entry), { wait: 'applied' });
        }
        return reply;
      },
    };
  });
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

/** Wraps a router so Slack requests from channels outside ALLOWED_CHANNEL_IDS get a polite refusal. */
export function withChannelCheck(router: Router, config: Pick<AppConfig, 'allowedChannelIds'>): Router {
  if (config.allowedChannelIds === null) return router;
  return {
    ...router,
    async dispatch(text, invocation) {
      if (!channelAllowed(config, invocation)) return channelRefusal(config);
      return router.dispatch(text, invocation);
    },
  };
}
