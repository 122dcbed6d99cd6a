import { buildRefusal } from '../src/blocks/refusal.ts';
import type { AppConfig } from '../src/config.ts';
import type { Invocation, ParsedArgs, Reply, Subcommand } from '../src/domain/reply.ts';
import type { Clock } from '../src/domain/types.ts';
import { appendAudit, auditActor, auditEntry } from '../src/privacy/audit.ts';
import {
  adminRefusal,
  auditedByGuard,
  channelAllowed,
  channelRefusal,
  describeArgs,
} from '../src/privacy/roles.ts';
import type { Store } from '../src/store/store.ts';
import type { Router } from './router.ts';

/**
 * The router's guards. Who is an admin, which subcommands need one and what is audited is policy
 * (src/privacy/roles.ts); these wrappers apply it to subcommands and the router and answer refusals.
 */

/**
 * Wraps the admin-only subcommands: a non-admin gets a refusal that says why and who can; an admin's
 * successful run is audited where the policy says so (actor, command, and its words without people).
 */
export function withAdminChecks(
  commands: readonly Subcommand[],
  deps: { store: Store; clock: Clock; config: AppConfig },
): Subcommand[] {
  return commands.map((command) => ({
    ...command,
    async run(args: ParsedArgs, invocation: Invocation): Promise<Reply> {
      const refused = adminRefusal(deps.config, command.name, invocation);
      if (refused) return buildRefusal(`${refused.charAt(0).toUpperCase()}${refused.slice(1)}.`);
      const reply = await command.run(args, invocation);
      const failed = typeof reply.data === 'object' && reply.data !== null && 'error' in reply.data;
      if (auditedByGuard(command.name) && !failed) {
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
  }));
}

/** Wraps a router so Slack requests from channels outside ALLOWED_CHANNEL_IDS get a polite refusal. */
export function withChannelCheck(router: Router, config: Pick<AppConfig, 'allowedChannelIds'>): Router {
  if (config.allowedChannelIds === null) return router;
  return {
    ...router,
    async dispatch(text, invocation) {
      if (!channelAllowed(config, invocation)) return buildRefusal(channelRefusal(config));
      return router.dispatch(text, invocation);
    },
  };
}
