import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Router } from '../commands/router.ts';
import { renderText } from './blocks/plain-text.ts';
import type { Invocation } from './domain/reply.ts';
import { saveReplyFiles } from './export/save-files.ts';

/** The local console's identity: what Slack would send as user and channel. */
export const CONSOLE_INVOCATION: Invocation = { userId: 'local-user', channelId: null, surface: 'console' };

/**
 * The local console: type `/audience stats` (or just `stats`) as in Slack and read the reply as text.
 * Resolves when the input ends (Ctrl-D) or the user types `exit`.
 */
export async function runConsole(
  router: Router,
  io: { input: Readable; output: Writable; banner?: string; prompt?: boolean },
): Promise<void> {
  const { output } = io;
  const prompt = io.prompt ?? true;
  const rl = createInterface({ input: io.input, output: prompt ? output : undefined, terminal: false });
  if (io.banner) output.write(`${io.banner}\n`);
  const ask = () => {
    if (prompt) output.write('audience> ');
  };
  ask();
  for await (const line of rl) {
    const text = line.trim();
    if (text === 'exit' || text === 'quit') break;
    if (text !== '') {
      const reply = await router.dispatch(
        text.startsWith('/') ? text : `/audience ${text}`,
        CONSOLE_INVOCATION,
      );
      output.write(`${renderText(reply)}\n`);
      if (reply.files?.length) {
        for (const path of await saveReplyFiles(reply.files)) output.write(`Saved ${path}\n`);
      }
      output.write('\n');
    }
    ask();
  }
  rl.close();
}
