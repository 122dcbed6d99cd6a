/** A command line parsed as the router parses it, for tests of what Slack does with a parsed request. */
import { createRouter } from '../../commands/router.ts';
import type { CommandLine } from '../../src/domain/reply.ts';

const router = createRouter([], () => undefined);

/** `text` as the router's one parse (`router.parse`). */
export function commandLine(text: string): CommandLine {
  return router.parse(text);
}
