import type { Subcommand } from '../src/domain/reply.ts';
import { createConnectCommand, createConnectionsCommand } from './connections.ts';
import type { CommandDeps } from './deps.ts';
import { createDigestCommand } from './digest.ts';
import { createExportCommand } from './export.ts';
import { createForgetCommand } from './forget.ts';
import { withAdminChecks, withChannelCheck } from './guards.ts';
import { createHelpCommand } from './help.ts';
import { createImportCommand } from './import.ts';
import { createPredictCommand } from './predict.ts';
import { createRecommendCommand } from './recommend.ts';
import { createRouter, type ErrorReporter, type Router } from './router.ts';
import { createSegmentsCommand } from './segments.ts';
import { createStatsCommand } from './stats.ts';

/** Builds every `/audience` subcommand over shared dependencies and returns the one router they go through. */
export function registerCommands(deps: CommandDeps, reportError: ErrorReporter): Router {
  const commands: Subcommand[] = [];
  commands.push(
    createHelpCommand({ commands: () => commands }),
    createStatsCommand(deps),
    createSegmentsCommand(deps),
    createPredictCommand(deps),
    createRecommendCommand(deps),
    createExportCommand(deps),
    createDigestCommand(deps),
    createImportCommand(),
    createForgetCommand(deps),
    createConnectionsCommand(deps),
    createConnectCommand(),
  );
  // Admin-only subcommands refuse others and are audited; ALLOWED_CHANNEL_IDS limits where Slack gets answers.
  return withChannelCheck(createRouter(withAdminChecks(commands, deps), reportError), deps.config);
}
