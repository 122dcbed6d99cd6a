import { createRouter, type ErrorReporter, type Router } from '../src/router/router.ts';
import type { Subcommand } from '../src/router/types.ts';
import type { CommandDeps } from './deps.ts';
import { createExportCommand } from './export.ts';
import { createHelpCommand } from './help.ts';
import { createPredictCommand } from './predict.ts';
import { createRecommendCommand } from './recommend.ts';
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
  );
  return createRouter(commands, reportError);
}
