import { buildErrorMessage } from '../src/blocks/help-message.ts';
import { context, escapeMrkdwn, fallbackText, section } from '../src/blocks/kit.ts';
import { UsageError } from '../src/domain/errors.ts';
import type { Subcommand } from '../src/domain/reply.ts';
import { appendAudit, auditActor, auditEntry } from '../src/privacy/audit.ts';
import { markPerPerson } from '../src/privacy/cohorts.ts';
import { describeForget, type ForgetReport, forgetPeople, removedAnything } from '../src/privacy/forget.ts';
import { pseudonymizerFor } from '../src/privacy/pseudonym.ts';
import { findUsers, notFound } from '../src/privacy/resolve.ts';
import { personLookupFor } from '../src/queries/people.ts';
import type { CommandDeps } from './deps.ts';
import { checkOptions } from './options.ts';

/**
 * `/audience forget <id or @handle>` (admins; `audience forget <id>` on the CLI): removes a person from every
 * part of the data and its backup copy, says what was removed in counts, and appends an audit entry. The
 * reply never repeats the id or handle, so it can be kept or forwarded as evidence of the erasure.
 */
export function createForgetCommand({ store, clock, config }: CommandDeps): Subcommand {
  return {
    name: 'forget',
    summary: 'Remove one person from all audience data (admins only): profile, activity, segments, models.',
    usage: '/audience forget <profile id | @handle | e-mail address>',
    examples: ['/audience forget u000042', '/audience forget @jane'],
    async run(args, invocation) {
      checkOptions(args, 'forget', { options: [], positional: 1 });
      const [ref] = args.positional;
      if (ref === undefined) {
        throw new UsageError(
          'say whom to forget, once: a profile id like u000042, an @handle or an e-mail address',
        );
      }
      // Someone known only from interactions or a stored segment run can be forgotten by id too.
      const mentioned = await store.audience.mentioned([ref.trim()]);
      const found = await findUsers(personLookupFor(store), ref, () => pseudonymizerFor(config), {
        extraIds: (id) => mentioned.has(id),
      });
      if (found.ids.length === 0) {
        return buildErrorMessage(`${notFound(ref, found.by)}. Nothing was removed.`);
      }
      const ids = new Set(found.ids);
      const now = clock();
      // One durable change, with the .bak rewritten too: afterwards the person is in no data file.
      const report: ForgetReport | null = await store.change(
        async (tx) => {
          const removed = await forgetPeople(tx, ids);
          const who = `${ids.size} ${ids.size === 1 ? 'person' : 'people'} matched by ${found.by}`;
          await appendAudit(
            tx,
            auditEntry(
              auditActor(invocation),
              'forget',
              `${who}: removed ${describeForget(removed)}`,
              now.getTime(),
            ),
          );
          return removed;
        },
        { now, scrubBackup: true },
      );
      const done = report as ForgetReport | null;
      if (done === null) throw new Error('forget: the change did not run');
      const people = `${ids.size} ${ids.size === 1 ? 'person' : 'people'}`;
      const summary = removedAnything(done)
        ? `Forgot ${people} (matched by ${found.by}): removed ${describeForget(done)}.`
        : `Nothing about that ${found.by === 'id' ? 'id' : found.by} was stored; nothing was removed.`;
      const notes = [
        'The data file and its backup copy were rewritten without them; cached models refit on next use.',
        'An audit entry was added (without the id).',
      ];
      return markPerPerson({
        text: fallbackText(escapeMrkdwn(summary)),
        blocks: [section(`:wastebasket: ${escapeMrkdwn(summary)}`), context(notes)],
        data: { forgotten: ids.size, matchedBy: found.by, removed: done },
      });
    },
  };
}
